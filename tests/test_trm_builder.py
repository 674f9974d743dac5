"""`data build arc --trm-prefix`: the reference TRM builder's dataset, reproduced draw for draw.

Fixtures in tests/fixtures/trm-reference/ were written by the reference code itself (its README):
`inputs/` are the Kaggle-format files it read, `dataset/` what its builder wrote from them with
`--subsets training evaluation concept --test-set-name evaluation --num-aug 8` (seed 42).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from arcsolve.augment.transforms import Augmentation, dihedral_transform
from arcsolve.augment.trm_names import (
    DIHEDRAL_TO_REFERENCE,
    REFERENCE_TO_DIHEDRAL,
    augmented_name,
    parse_name,
    reference_dihedral,
)
from arcsolve.cli import app
from arcsolve.data.dataset import TokenDataset
from arcsolve.data.legacy_rng import LegacyStream, draw_augmentations, draw_bounded, draw_offsets
from arcsolve.data.trm_builder import TrmBuildConfig, build_trm_dataset
from arcsolve.errors import BadInputError

REF = Path(__file__).parent / "fixtures" / "trm-reference"
PREFIX = str(REF / "inputs" / "arc-agi")
SUBSETS = ("training", "evaluation", "concept")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The fixture inputs built through the CLI exactly as the issue's command line has it."""
    out = tmp_path_factory.mktemp("trm") / "ds"
    args = ["data", "build", "arc", "--trm-prefix", PREFIX, "--subsets", *SUBSETS]
    result = CliRunner().invoke(
        app, [*args, "--test-set", "evaluation", "--aug", "8", "--seed", "42", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("seed", [0, 42, 2**32 - 1])
def test_legacy_stream_draws_what_random_state_draws(seed):
    ours, ref = np.random.RandomState(seed), np.random.RandomState(seed)
    stream = LegacyStream(ours)
    dihedrals, maps = np.empty(700, np.int64), np.empty((700, 10), np.uint8)
    draw_augmentations(stream.key, stream.pos, 700, dihedrals, maps)  # crosses several MT refills
    for t in range(700):
        assert dihedrals[t] == ref.randint(0, 8)
        assert maps[t].tolist() == [0, *ref.permutation(np.arange(1, 10, dtype=np.uint8)).tolist()]
    highs = np.random.default_rng(seed).integers(0, 2**31, size=300) >> np.random.default_rng(1).integers(
        0, 31, size=300
    )
    out = np.empty(300, np.int64)
    draw_bounded(stream.key, stream.pos, highs, out)
    assert out.tolist() == [ref.randint(0, h + 1) for h in highs.tolist()]
    sizes, rooms = np.array([1, 3, 2]), np.array([[0, 5], [29, 0], [7, 7], [3, 9], [0, 0], [12, 1]])
    offsets = np.empty((6, 2), np.int64)
    draw_offsets(stream.key, stream.pos, sizes, rooms[:, 0].copy(), rooms[:, 1].copy(), offsets)
    row = 0
    for n in sizes.tolist():
        keep = ref.randint(0, n)
        for e in range(n):
            want = (
                [0, 0]
                if e == keep
                else [ref.randint(0, rooms[row, 0] + 1), ref.randint(0, rooms[row, 1] + 1)]
            )
            assert offsets[row].tolist() == want
            row += 1
    stream.sync_back(ours)  # the state goes back: both generators continue identically
    assert ours.randint(0, 2**31, size=5).tolist() == ref.randint(0, 2**31, size=5).tolist()


def test_reference_dihedral_ids_match_numpy_operations_and_arcsolve_ids():
    grid = np.arange(20).reshape(4, 5)
    ops = [
        lambda a: a, lambda a: np.rot90(a, 1), lambda a: np.rot90(a, 2), lambda a: np.rot90(a, 3),
        np.fliplr, np.flipud, lambda a: a.T, lambda a: np.fliplr(np.rot90(a, 1)),
    ]  # fmt: skip
    for k, op in enumerate(ops):
        assert np.array_equal(reference_dihedral(grid, k), op(grid))
        assert np.array_equal(dihedral_transform(grid, REFERENCE_TO_DIHEDRAL[k]), op(grid))
        assert DIHEDRAL_TO_REFERENCE[REFERENCE_TO_DIHEDRAL[k]] == k
    task, aug = parse_name("abc|||t3|||0918273645", "x")
    assert (
        task == "abc" and augmented_name(task, aug.dihedral, np.array(aug.colours)) == "abc|||t3|||0918273645"
    )
    for bad in ("a|||t8|||0123456789", "a|||t1|||0123456788", "a|||t1", "a|||x1|||0123456789"):
        with pytest.raises(BadInputError):
            parse_name(bad, "identifiers.json")


def test_identifiers_and_test_puzzles_are_byte_identical(built):
    assert (built / "identifiers.json").read_bytes() == (REF / "dataset" / "identifiers.json").read_bytes()
    assert (built / "test_puzzles.json").read_bytes() == (REF / "dataset" / "test_puzzles.json").read_bytes()


@pytest.mark.parametrize("split", ["train", "test"])
def test_rows_puzzle_ids_and_offsets_equal_the_reference_arrays(built, split):
    ours = TokenDataset.open(built).split(split)
    ref = {k: np.load(REF / "dataset" / split / f"all__{k}.npy") for k in
           ("inputs", "labels", "puzzle_identifiers", "puzzle_indices", "group_indices")}  # fmt: skip
    assert np.array_equal(ours.inputs, ref["inputs"]) and np.array_equal(ours.labels, ref["labels"])
    assert np.array_equal(ours.puzzle_index, ref["puzzle_indices"])
    assert np.array_equal(ours.group_index, ref["group_indices"])
    assert np.array_equal(ours.puzzle_ids[ours.puzzle_index[:-1]], ref["puzzle_identifiers"])
    # The stored offsets are where each row's grid really starts (first non-PAD cell of the canvas).
    first = np.argmax(ref["inputs"] != 0, axis=1)
    assert np.array_equal(ours.extras["offsets"], np.stack([first // 30, first % 30], axis=1))
    if split == "test":
        assert not ours.extras["offsets"].any()


def test_augmentation_table_reproduces_every_row(built):
    """Each puzzle id's table row, applied to the task's grids, gives the reference's test rows."""
    dataset = TokenDataset.open(built)
    names = json.loads((built / "identifiers.json").read_text())
    test = dataset.split("test")
    tasks = json.loads((built / "test_puzzles.json").read_text())
    for p in range(test.num_puzzles):
        pid = int(test.puzzle_ids[test.puzzle_index[p]])
        row = dataset.augmentations[pid]
        task = dataset.meta["task_ids"][row[0]]
        assert names[pid].split("|||")[0] == task
        aug = Augmentation.from_table_row(row)
        for k, r in enumerate(range(test.puzzle_index[p], test.puzzle_index[p + 1])):
            grid = aug.apply(np.array(tasks[task]["test"][k]["input"]))
            h, w = grid.shape
            board = test.inputs[r].reshape(30, 30)
            assert np.array_equal(board[:h, :w], grid + 2)


def test_seed_and_aug_change_the_stream(tmp_path):
    cfg = TrmBuildConfig(PREFIX, SUBSETS, "evaluation", aug=8, seed=43)
    build_trm_dataset(cfg, tmp_path / "s43")
    assert (tmp_path / "s43" / "identifiers.json").read_bytes() != (
        REF / "dataset" / "identifiers.json"
    ).read_bytes()
    meta = build_trm_dataset(TrmBuildConfig(PREFIX, SUBSETS, "evaluation", aug=0), tmp_path / "a0")
    names = json.loads((tmp_path / "a0" / "identifiers.json").read_text())
    assert meta["num_puzzle_ids"] == 23 and all("|||" not in n for n in names)


def test_bad_inputs_name_the_file(tmp_path):
    with pytest.raises(BadInputError, match="nowhere_training_challenges.json: no such file"):
        build_trm_dataset(
            TrmBuildConfig(str(tmp_path / "nowhere"), ("training",), "evaluation", aug=1), tmp_path / "o"
        )
    (tmp_path / "x_training_challenges.json").write_text(
        json.dumps({"t1": {"train": [{"input": [[1, 12]], "output": [[1]]}], "test": [{"input": [[1]]}]}})
    )
    with pytest.raises(BadInputError, match="x_training_challenges.json: t1"):
        build_trm_dataset(
            TrmBuildConfig(str(tmp_path / "x"), ("training",), "evaluation", aug=1), tmp_path / "o"
        )
    assert not (tmp_path / "o").exists()
