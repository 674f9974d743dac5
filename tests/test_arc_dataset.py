"""The dataset format (streaming writer, memmapped reader) and the ARC builder on tiny task sets."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import orjson
import pytest
from tiny_runs import write_task

from arcsolve.augment import decode_views, unpack_views
from arcsolve.config import from_dict
from arcsolve.data.arc_builder import ArcBuildConfig, build_arc_dataset
from arcsolve.data.dataset import TokenDataset, dataset_fingerprint
from arcsolve.data.dataset_writer import DatasetWriter, NpyAppender
from arcsolve.data.tasks import load_tasks
from arcsolve.errors import BadInputError, ConfigError

CANVAS = 10


def grid(rng: np.random.Generator, h: int, w: int) -> list[list[int]]:
    return rng.integers(0, 10, size=(h, w)).tolist()


@pytest.fixture(scope="module")
def task_folders(tmp_path_factory) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    root = tmp_path_factory.mktemp("tasks")
    src, extra = root / "src", root / "extra"
    blank = {"input": [[0]], "output": [[0]]}
    write_task(src, "aaa_blank", [blank], [blank])  # fully symmetric: a single version
    pairs = [{"input": grid(rng, 2, 3), "output": grid(rng, 3, 2)} for _ in range(4)]
    write_task(src, "bbb", pairs[:2], pairs[2:])
    write_task(src, "ccc_big", [{"input": grid(rng, 12, 12), "output": grid(rng, 1, 1)}], [pairs[0]])
    write_task(
        src,
        "ddd_hidden",
        [{"input": grid(rng, 4, 5), "output": grid(rng, 5, 5)}],
        [{"input": grid(rng, 3, 3)}],
    )
    write_task(extra, "eee", [{"input": grid(rng, 3, 4), "output": grid(rng, 2, 2)}], [pairs[1]])
    write_task(extra, "bbb", pairs[:1], pairs[1:2])  # same id as a source task
    return src, extra


def config(folders, **changes) -> ArcBuildConfig:
    src, extra = folders
    base = ArcBuildConfig(source=str(src), extra_train=str(extra), aug=6, seed=0, canvas=CANVAS)
    return dataclasses.replace(base, **changes)


@pytest.fixture(scope="module")
def built(task_folders, tmp_path_factory):
    out = tmp_path_factory.mktemp("built") / "ds"
    summary = build_arc_dataset(config(task_folders), out, progress=False)
    return summary, TokenDataset.open(out, kind="arc")


def test_counts(built):
    summary, ds = built
    # versions: aaa 1, bbb 7, ddd 7, eee 7; ccc too big for the canvas; extra bbb shares a source id.
    assert summary.num_puzzle_ids == ds.num_puzzle_ids == 1 + 1 + 7 + 7 + 7
    assert dict(summary.left_out) == {
        "ccc_big": "grid side 12 > 10",
        "bbb": "extra_train task also in source",
    }
    assert summary.counts["train"] == {"examples": 1 + 7 * 2 + 7 * 1 + 7 * 2, "puzzles": 22, "groups": 4}
    assert summary.counts["test"] == {"examples": 1 + 7 * 2 + 7 * 1, "puzzles": 15, "groups": 3}
    train, test = ds.split("train"), ds.split("test")
    assert (train.num_examples, train.num_puzzles, train.num_groups) == (36, 22, 4)
    assert (test.num_examples, test.num_puzzles, test.num_groups) == (22, 15, 3)
    assert ds.meta["task_ids"] == ["aaa_blank", "bbb", "ddd_hidden", "eee"]
    assert ds.meta["tasks_short_of_aug"] == 1 and ds.meta["tasks_without_test_outputs"] == 1
    assert ds.seq_len == CANVAS * CANVAS and ds.vocab_size == 12 and ds.meta["canvas"] == CANVAS
    assert ds.augmentations.dtype == np.int32 and ds.augmentations.shape == (23, 12)
    assert ds.augmentations[0].tolist() == [-1, 0, *range(10)]
    assert [s["role"] for s in ds.meta["sources"]] == ["source", "extra_train"]
    assert all(len(s["sha256"]) == 64 for s in ds.meta["sources"])


def expected_pairs(task, split: str, is_extra: bool) -> list:
    if split == "test":
        outputs = task.test_outputs or [None] * len(task.test_inputs)
        return list(zip(task.test_inputs, outputs, strict=True))
    pairs = list(task.train_pairs)
    if is_extra and task.test_outputs is not None:
        pairs += list(zip(task.test_inputs, task.test_outputs, strict=True))
    return pairs


@pytest.mark.parametrize("split_name", ["train", "test"])
def test_every_example_inverts_to_its_original_pair(built, task_folders, split_name):
    _, ds = built
    tasks = {
        t.task_id: t for folder in reversed(task_folders) for t in load_tasks(str(folder))
    }  # source wins
    split = ds.split(split_name)
    rows = ds.augmentations[split.puzzle_ids]
    dihedrals, maps, offsets = rows[:, 1], rows[:, 2:], split.extras["offsets"]
    inputs = unpack_views(*decode_views(split.inputs, CANVAS, dihedrals, maps, offsets))
    labels = unpack_views(*decode_views(split.labels, CANVAS, dihedrals, maps, offsets))
    for e in range(split.num_examples):
        task_index = int(rows[e, 0])
        task = tasks[ds.meta["task_ids"][task_index]]
        pair_in, pair_out = expected_pairs(task, split_name, task_index >= ds.meta["num_source_tasks"])[
            int(split.extras["example_index"][e])
        ]
        assert np.array_equal(inputs[e], pair_in)
        if pair_out is None:
            assert labels[e] is None and not split.labels[e].any()  # unknown output: all PAD
        else:
            assert np.array_equal(labels[e], pair_out)


def test_puzzles_and_groups_line_up(built):
    _, ds = built
    for split in ds.splits.values():
        for g in range(split.num_groups):
            puzzles = range(split.group_index[g], split.group_index[g + 1])
            first_ids = [int(split.puzzle_ids[split.puzzle_index[p]]) for p in puzzles]
            assert first_ids == list(range(first_ids[0], first_ids[0] + len(first_ids)))
            assert len({int(ds.augmentations[i, 0]) for i in first_ids}) == 1  # one task per group
            for p in puzzles:
                ids = split.puzzle_ids[split.puzzle_index[p] : split.puzzle_index[p + 1]]
                assert (ids == ids[0]).all()
    train, test = ds.split("train"), ds.split("test")
    assert set(test.puzzle_ids.tolist()) <= set(train.puzzle_ids.tolist())  # shared ids


def test_test_split_holds_the_source_test_inputs_in_order(built, task_folders):
    _, ds = built
    test = ds.split("test")
    source = [t for t in load_tasks(str(task_folders[0])) if t.task_id != "ccc_big"]
    assert not test.extras["offsets"].any()
    for g, task in enumerate(source):
        first_puzzle = test.group_index[g]
        start, stop = test.puzzle_index[first_puzzle], test.puzzle_index[first_puzzle + 1]
        row = ds.augmentations[test.puzzle_ids[start]]
        assert row[1] == 0 and row[2:].tolist() == list(range(10))  # the identity version comes first
        assert test.extras["example_index"][start:stop].tolist() == list(range(len(task.test_inputs)))
        got = unpack_views(*decode_views(test.inputs[start:stop], CANVAS))
        assert all(np.array_equal(a, b) for a, b in zip(got, task.test_inputs, strict=True))


def test_translation_leaves_one_example_per_version_in_place(built, task_folders, tmp_path):
    _, ds = built
    train = ds.split("train")
    offsets = train.extras["offsets"]
    assert offsets.any()
    for p in range(train.num_puzzles):
        chunk = offsets[train.puzzle_index[p] : train.puzzle_index[p + 1]]
        assert (chunk == 0).all(axis=1).any()
    build_arc_dataset(config(task_folders, translate=False), tmp_path / "still", progress=False)
    assert not TokenDataset.open(tmp_path / "still").split("train").extras["offsets"].any()


def all_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_builds_are_deterministic_for_a_seed(task_folders, tmp_path):
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        build_arc_dataset(config(task_folders, seed=seed), tmp_path / name, progress=False)
    a, b, c = (all_bytes(tmp_path / n) for n in "abc")
    assert a == b
    assert a["train/offsets.npy"] != c["train/offsets.npy"]
    assert dataset_fingerprint(tmp_path / "a") == dataset_fingerprint(tmp_path / "b")
    assert dataset_fingerprint(tmp_path / "a") != dataset_fingerprint(tmp_path / "c")


def test_max_grid_and_colour_zero_options(task_folders, tmp_path):
    summary = build_arc_dataset(
        config(task_folders, max_grid=4, extra_train=None), tmp_path / "m", progress=False
    )
    assert {tid for tid, _ in summary.left_out} == {"ccc_big", "ddd_hidden"}
    summary = build_arc_dataset(
        config(task_folders, permute_black=True, aug=20), tmp_path / "p", progress=False
    )
    ds = TokenDataset.open(tmp_path / "p")
    blank_versions = (ds.augmentations[1:, 0] == 0).sum()
    assert blank_versions == 10  # [[0]] can now take any of the 10 colours


def test_bundled_source_smoke(tmp_path):
    cfg = ArcBuildConfig(source="arc1:evaluation", aug=1, canvas=30, seed=1)
    summary = build_arc_dataset(cfg, tmp_path / "arc1", progress=False)
    tasks = load_tasks("arc1:evaluation")
    ds = TokenDataset.open(tmp_path / "arc1")
    versions = np.diff(ds.split("test").group_index)
    assert summary.num_left_out == 0 and len(versions) == len(tasks) == 400
    assert ds.split("test").num_examples == sum(
        len(t.test_inputs) * v for t, v in zip(tasks, versions, strict=True)
    )
    assert ds.split("train").num_examples == sum(
        len(t.train_pairs) * v for t, v in zip(tasks, versions, strict=True)
    )
    ds.verify()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"source": " "}, "source"),
        ({"extra_train": ""}, "extra_train"),
        ({"aug": -1}, "aug"),
        ({"seed": -2}, "seed"),
        ({"canvas": 0}, "canvas"),
        ({"max_grid": 31}, "max_grid"),
        ({"tries_factor": 0}, "tries_factor"),
    ],
)
def test_config_validation_names_the_field(changes, field):
    with pytest.raises(ConfigError, match=rf"\b{field}\b"):
        dataclasses.replace(ArcBuildConfig(source="x"), **changes).validate("data.build")


def test_existing_output_needs_overwrite(built, task_folders, tmp_path):
    out = tmp_path / "ds"
    build_arc_dataset(config(task_folders), out, progress=False)
    with pytest.raises(BadInputError, match="already exists"):
        build_arc_dataset(config(task_folders), out, progress=False)
    build_arc_dataset(config(task_folders, seed=9), out, overwrite=True, progress=False)
    assert TokenDataset.open(out).meta["seed"] == 9


def copy_dataset(built, tmp_path: Path) -> Path:
    _, ds = built
    out = tmp_path / "copy"
    shutil.copytree(ds.path, out)
    return out


def test_reader_rejects_missing_and_corrupt_meta(built, tmp_path):
    out = copy_dataset(built, tmp_path)
    meta = orjson.loads((out / "meta.json").read_bytes())
    with pytest.raises(BadInputError, match="no such dataset"):
        TokenDataset.open(tmp_path / "nothing")
    (out / "meta.json").write_bytes(b"{not json")
    with pytest.raises(BadInputError, match="corrupt"):
        TokenDataset.open(out)
    (out / "meta.json").write_bytes(orjson.dumps({**meta, "format_version": 99}))
    with pytest.raises(BadInputError, match="format 99"):
        TokenDataset.open(out)
    (out / "meta.json").write_bytes(orjson.dumps({k: v for k, v in meta.items() if k != "seq_len"}))
    with pytest.raises(BadInputError, match="seq_len"):
        TokenDataset.open(out)
    (out / "meta.json").unlink()
    with pytest.raises(BadInputError, match="meta.json is missing"):
        TokenDataset.open(out)
    with pytest.raises(BadInputError, match="no readable meta.json"):
        dataset_fingerprint(out)


@pytest.fixture(scope="module")
def materialized(task_folders, tmp_path_factory) -> TokenDataset:
    out = tmp_path_factory.mktemp("materialized") / "ds"
    build_arc_dataset(config(task_folders), out, progress=False, materialize=True)
    return TokenDataset.open(out, kind="arc")


@pytest.mark.parametrize("split_name", ["train", "test"])
def test_recipe_rows_equal_the_materialized_rows_bit_for_bit(built, materialized, split_name):
    _, recipe = built
    assert recipe.meta["storage"] == "recipe" and materialized.meta["storage"] == "materialized"
    assert not (recipe.path / split_name / "inputs.npy").exists()
    ours, theirs = recipe.split(split_name), materialized.split(split_name)
    assert ours.inputs.shape == theirs.inputs.shape and ours.inputs.dtype == np.uint8
    for name in ("inputs", "labels"):
        assert np.array_equal(np.asarray(getattr(ours, name)), getattr(theirs, name))
        rows = np.random.default_rng(1).integers(0, ours.num_examples, size=17)
        assert np.array_equal(getattr(ours, name)[rows], getattr(theirs, name)[rows])  # any order, repeats
        assert np.array_equal(getattr(ours, name)[-1], getattr(theirs, name)[-1])
        assert np.array_equal(getattr(ours, name)[2:5], getattr(theirs, name)[2:5])
    for name in ("puzzle_ids", "puzzle_index", "group_index"):
        assert np.array_equal(getattr(ours, name), getattr(theirs, name))
    assert np.array_equal(recipe.augmentations, materialized.augmentations)
    if split_name == "test":  # ddd_hidden's unknown test outputs: all-PAD labels in both
        assert not np.asarray(ours.labels).all(axis=1).all()


def test_format_1_datasets_are_still_read(materialized, tmp_path):
    """A format-1 dataset (int16 table, no storage field) opens, its table widened to int32."""
    out = tmp_path / "v1"
    shutil.copytree(materialized.path, out)
    meta = orjson.loads((out / "meta.json").read_bytes())
    table = np.load(out / "augmentations.npy").astype(np.int16)
    np.save(out / "augmentations.npy", table)
    desc = {"dtype": "int16", "shape": list(table.shape), "sha256": ""}
    meta = {**meta, "format_version": 1, "files": {**meta["files"], "augmentations.npy": desc}}
    del meta["storage"]
    (out / "meta.json").write_bytes(orjson.dumps(meta))
    old = TokenDataset.open(out)
    assert old.augmentations.dtype == np.int32
    assert np.array_equal(old.augmentations, materialized.augmentations)
    assert np.array_equal(old.split("train").inputs, materialized.split("train").inputs)


@pytest.mark.parametrize(
    "rel", ["grid_cells.npy", "grid_shapes.npy", "augmentations.npy", "train/pairs.npy", "train/offsets.npy"]
)
def test_an_altered_or_truncated_recipe_is_refused_at_open_naming_the_file(built, tmp_path, rel):
    out = copy_dataset(built, tmp_path)
    data = (out / rel).read_bytes()
    (out / rel).write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(BadInputError, match="sha256") as err:
        TokenDataset.open(out)
    assert str(err.value).startswith(str(out / rel))
    (out / rel).write_bytes(data[: len(data) - 1])
    with pytest.raises(BadInputError) as err:
        TokenDataset.open(out)
    assert str(err.value).startswith(str(out / rel))


def test_reader_rejects_missing_truncated_or_altered_arrays(materialized, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(materialized.path, out)
    TokenDataset.open(out, kind="arc").verify()
    with pytest.raises(BadInputError, match="is a arc dataset, expected maze"):
        TokenDataset.open(out, kind="maze")
    data = (out / "train" / "inputs.npy").read_bytes()
    (out / "train" / "inputs.npy").write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(BadInputError, match="sha256"):
        TokenDataset.open(out).verify()
    (out / "train" / "inputs.npy").write_bytes(data[: len(data) // 2])
    with pytest.raises(BadInputError, match="inputs.npy"):
        TokenDataset.open(out)
    (out / "test" / "labels.npy").unlink()
    (out / "train" / "inputs.npy").write_bytes(data)
    with pytest.raises(BadInputError, match="labels.npy: missing file"):
        TokenDataset.open(out)


def test_a_leftover_tmp_folder_is_not_a_dataset(built, tmp_path):
    out = copy_dataset(built, tmp_path)
    tmp = out.with_name("copy.tmp")
    out.rename(tmp)  # looks complete inside, but was never renamed into place
    with pytest.raises(BadInputError, match="unfinished build"):
        TokenDataset.open(out)
    with pytest.raises(BadInputError, match="unfinished build"):
        TokenDataset.open(tmp)


def test_writer_leaves_nothing_behind_on_error_or_without_finish(tmp_path):
    out = tmp_path / "ds"
    with pytest.raises(ValueError, match="boom"), DatasetWriter(out, "maze", 4, 6) as writer:
        writer.split("train").add_group(np.zeros((1, 4)), np.zeros((1, 4)), np.zeros(1), np.ones(1))
        raise ValueError("boom")
    assert not out.exists() and not out.with_name("ds.tmp").exists()
    with pytest.raises(RuntimeError, match="without finish"), DatasetWriter(out, "maze", 4, 6):
        pass
    assert not out.exists() and not out.with_name("ds.tmp").exists()
    with pytest.raises(BadInputError, match="unknown kind"):
        DatasetWriter(out, "chess", 4, 6)


def test_writer_round_trip_for_a_generic_kind(tmp_path):
    rng = np.random.default_rng(0)
    inputs = rng.integers(0, 11, (7, 81)).astype(np.uint8)
    with DatasetWriter(tmp_path / "sudoku", "sudoku", 81, 11) as writer:
        train = writer.split("train")
        train.add_group(inputs[:3], inputs[:3], np.zeros(3, np.int32), [1, 1, 1])
        train.add_group(inputs[3:], inputs[3:], np.zeros(4, np.int32), [4])
        with pytest.raises(ValueError, match="at least one example"):
            train.add_group(inputs[:1], inputs[:1], np.zeros(1), [1, 0])
        writer.finish(1, {"note": "tiny"})
    ds = TokenDataset.open(tmp_path / "sudoku", kind="sudoku")
    split = ds.split("train")
    assert np.array_equal(split.inputs, inputs) and ds.augmentations is None and ds.meta["note"] == "tiny"
    assert split.puzzle_index.tolist() == [0, 1, 2, 3, 7] and split.group_index.tolist() == [0, 3, 4]
    assert ds.split("test").num_examples == 0 and ds.split("test").group_index.tolist() == [0]


def test_npy_appender_grows_the_header_in_place(tmp_path):
    rows = np.arange(3 * 900, dtype=np.uint8).reshape(3, 900)
    appender = NpyAppender(tmp_path / "x.npy", np.uint8, (900,))
    for _ in range(4):
        appender.append(rows)
    desc = appender.close()
    assert desc["shape"] == [12, 900]
    assert np.array_equal(np.load(tmp_path / "x.npy"), np.concatenate([rows] * 4))
    empty = NpyAppender(tmp_path / "e.npy", np.int64)
    empty.close()
    assert np.load(tmp_path / "e.npy").shape == (0,)


def test_build_config_loads_from_a_config_table():
    cfg = from_dict(ArcBuildConfig, {"source": "arc1:training", "aug": 8, "max_grid": 10}, "train.toml")
    assert cfg == ArcBuildConfig(source="arc1:training", aug=8, max_grid=10)
    with pytest.raises(ConfigError, match="aug"):
        from_dict(ArcBuildConfig, {"source": "arc1:training", "aug": -3}, "train.toml")
