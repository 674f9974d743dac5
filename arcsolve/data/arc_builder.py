"""Build an ARC token dataset with one puzzle id (task embedding) per augmented task version.

Recipe (the paper's ARC data, §5, as its reference builder dataset/build_arc_dataset.py makes it):
- Tasks of `source` put their train pairs in train/ and their test pairs in test/; tasks of
  `extra_train` put every pair (train, plus test pairs whose outputs are known) in train/.
  An extra task whose id is also in `source` is left out (it would leak source test outputs).
- Each task gets the identity version plus up to `aug` distinct random versions (dihedral x colour
  permutation keeping 0, duplicates dropped, up to `tries_factor * aug` tries). Every version is a
  puzzle id; id 0 is the blank id; ids run task by task, identity first. The train and test splits
  share them, so a test input uses the embedding learned from its version's demonstrations.
- A task is left out (and counted) when a grid side exceeds the canvas or `max_grid`. A grid of
  side C fits a C canvas; its EOS border then falls outside and is not written.
- Train examples get a random offset (same for input and output) with one example per version left
  at (0, 0); test examples sit at (0, 0). Unknown test outputs give all-PAD labels.
- Task t draws from `np.random.default_rng([seed, t])`, so the build is a pure function of its config.
- By default the dataset is a recipe (`arcsolve/data/recipe.py`: the grids, the table, the offsets;
  rows encoded when read); `materialize` writes the token rows instead. Both read the same.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from arcsolve.augment.kernels import PackedGrids, encode_views, pack_grids, row_shapes, view_shapes
from arcsolve.augment.transforms import offset_room
from arcsolve.augment.versions import distinct_versions
from arcsolve.constants import ARC_VOCAB_SIZE, AUG_TABLE_COLUMNS, INT32_MAX, NUM_COLORS
from arcsolve.data.build_configs import ArcBuildConfig
from arcsolve.data.dataset_writer import DatasetWriter
from arcsolve.data.recipe import UNKNOWN_GRID
from arcsolve.data.tasks import Task, load_tasks, task_to_json
from arcsolve.errors import ConfigError
from arcsolve.progress import progress_bar

ARC_EXTRAS = {"offsets": (np.int16, (2,)), "example_index": (np.int16, ())}


@dataclass(frozen=True)
class BuildSummary:
    out: Path
    num_tasks: int  # tasks kept (source + extra)
    num_source_tasks: int
    left_out: tuple[tuple[str, str], ...]  # (task id, reason)
    num_puzzle_ids: int  # including the blank id 0
    counts: dict[str, dict[str, int]]  # split -> examples / puzzles / groups
    tasks_short_of_aug: int  # tasks with fewer than `aug` distinct augmented versions
    seconds: float

    @property
    def num_left_out(self) -> int:
        return len(self.left_out)

    def describe(self) -> str:
        train, test = self.counts["train"], self.counts["test"]
        return (
            f"{self.out}: {self.num_tasks} tasks ({self.num_left_out} left out), "
            f"{self.num_puzzle_ids} puzzle ids, train {train['examples']} examples / {train['puzzles']} puzzles / "
            f"{train['groups']} groups, test {test['examples']} examples, {self.seconds:.1f} s"
        )


def _source_record(role: str, spec: str, tasks: list[Task]) -> dict[str, Any]:
    canonical = orjson.dumps([[t.task_id, task_to_json(t)] for t in tasks])
    return {
        "role": role,
        "spec": spec,
        "num_tasks": len(tasks),
        "sha256": hashlib.sha256(canonical).hexdigest(),
    }


def _select(
    cfg: ArcBuildConfig,
) -> tuple[list[Task], list[Task], list[tuple[str, str]], list[dict[str, Any]]]:
    """Load both sources; return (kept source tasks, kept extra tasks, left out, source records)."""
    source = load_tasks(cfg.source)
    extra = load_tasks(cfg.extra_train) if cfg.extra_train else []
    records = [_source_record("source", cfg.source, source)]
    if cfg.extra_train:
        records.append(_source_record("extra_train", cfg.extra_train, extra))
    limit = cfg.grid_limit()
    left_out: list[tuple[str, str]] = []
    source_ids = {t.task_id for t in source}

    def keep(task: Task, is_extra: bool) -> bool:
        if is_extra and task.task_id in source_ids:
            left_out.append((task.task_id, "extra_train task also in source"))
        elif task.max_side() > limit:
            left_out.append((task.task_id, f"grid side {task.max_side()} > {limit}"))
        else:
            return True
        return False

    kept_source = [t for t in source if keep(t, False)]
    kept_extra = [t for t in extra if keep(t, True)]
    if len(kept_source) + len(kept_extra) > INT32_MAX:
        raise ConfigError("data.build", f"more than {INT32_MAX} tasks do not fit the int32 task index")
    return kept_source, kept_extra, left_out, records


@dataclass(frozen=True)
class _TaskLayout:
    """Which packed grids form the train and test examples of one task."""

    packed: PackedGrids
    train_in: np.ndarray  # grid ids of the train-split inputs
    train_out: np.ndarray
    test_in: np.ndarray  # grid ids of the test-split inputs (empty for extra tasks)
    test_out: np.ndarray | None  # None when the test outputs are unknown


def _layout(task: Task, is_extra: bool) -> _TaskLayout:
    grids: list[np.ndarray] = []

    def add(grid: np.ndarray) -> int:
        grids.append(grid)
        return len(grids) - 1

    train_in, train_out, test_in, test_out = [], [], [], []
    for grid_in, grid_out in task.train_pairs:
        train_in.append(add(grid_in))
        train_out.append(add(grid_out))
    outputs = task.test_outputs
    for k, grid_in in enumerate(task.test_inputs):
        i = add(grid_in)  # packed even when unused, so it counts in duplicate detection
        o = add(outputs[k]) if outputs is not None else None
        if not is_extra:
            test_in.append(i)
            test_out.append(o)
        elif o is not None:
            train_in.append(i)
            train_out.append(o)
    ids = [np.array(xs, dtype=np.int64) for xs in (train_in, train_out, test_in)]
    known = outputs is not None and not is_extra
    return _TaskLayout(pack_grids(grids), *ids, np.array(test_out, dtype=np.int64) if known else None)


def _train_offsets(rng: np.random.Generator, layout: _TaskLayout, dihedrals: np.ndarray, cfg: ArcBuildConfig):
    """Offsets int64 [V * n_pairs, 2]: random per example, shared by input and output, one per version at (0, 0)."""
    n_versions, n_pairs = dihedrals.shape[0], layout.train_in.shape[0]
    if not cfg.translate:
        return np.zeros((n_versions * n_pairs, 2), dtype=np.int64)
    heights, widths = view_shapes(layout.packed, dihedrals)
    h = np.maximum(heights[:, layout.train_in], heights[:, layout.train_out])
    w = np.maximum(widths[:, layout.train_in], widths[:, layout.train_out])
    return _draw_offsets(rng, offset_room(h.reshape(-1), w.reshape(-1), cfg.canvas), n_versions, n_pairs)


def _draw_offsets(rng: np.random.Generator, room: np.ndarray, n_versions: int, n_pairs: int) -> np.ndarray:
    """`_train_offsets`' draws, given the room of each of the V * n_pairs examples (`offset_room`)."""
    offsets = rng.integers(0, room, dtype=np.int64).reshape(n_versions, n_pairs, 2)
    offsets[np.arange(n_versions), rng.integers(0, n_pairs, size=n_versions)] = 0
    return offsets.reshape(-1, 2)


def _encode_pairs(packed, dihedrals, maps, pairs, offsets: np.ndarray, canvas: int):
    """Token rows (inputs, labels) of every version x every pair, version-major; all-PAD labels when
    the outputs are unknown (`pairs[1]` is None)."""
    inputs_ids, outputs_ids = pairs
    n_versions, n_pairs = dihedrals.shape[0], inputs_ids.shape[0]
    aug_index = np.repeat(np.arange(n_versions, dtype=np.int64), n_pairs)

    def encode(grid_ids: np.ndarray) -> np.ndarray:
        return encode_views(
            packed, dihedrals, maps, np.tile(grid_ids, n_versions), aug_index, offsets, canvas
        )

    inputs = encode(inputs_ids)
    return inputs, (np.zeros_like(inputs) if outputs_ids is None else encode(outputs_ids))


def _write_split(
    split, packed, dihedrals, maps, pairs, first_id: int, offsets: np.ndarray, canvas: int
) -> None:
    """Every version x every pair `(input grid ids, output grid ids or None)` as one group of `split`
    (token rows only when the split is materialized)."""
    n_versions, n_pairs = dihedrals.shape[0], pairs[0].shape[0]
    aug_index = np.repeat(np.arange(n_versions, dtype=np.int64), n_pairs)
    encoded = (None, None) if split.recipe else _encode_pairs(packed, dihedrals, maps, pairs, offsets, canvas)
    inputs, labels = encoded
    split.add_group(
        inputs,
        labels,
        puzzle_ids=(first_id + aug_index).astype(np.int32),
        puzzle_sizes=np.full(n_versions, n_pairs),
        offsets=offsets.astype(np.int16),
        example_index=np.tile(np.arange(n_pairs, dtype=np.int16), n_versions),
    )


def _write_task(
    writer: DatasetWriter, task: Task, is_extra: bool, index: int, first_id: int, cfg: ArcBuildConfig
):
    """Write all versions of task `index`; return its rows of the augmentations table."""
    rng = np.random.default_rng([cfg.seed, index])
    layout = _layout(task, is_extra)
    dihedrals, maps = distinct_versions(rng, layout.packed, cfg.aug, cfg.permute_black, cfg.tries_factor)
    versions = (layout.packed, dihedrals, maps)
    offsets = _train_offsets(rng, layout, dihedrals, cfg)
    train_pairs = (layout.train_in, layout.train_out)
    if writer.recipe:
        unknown = np.full_like(layout.test_in, UNKNOWN_GRID)
        test_out = unknown if layout.test_out is None else layout.test_out
        pairs = {"train": np.stack(train_pairs, axis=1), "test": np.stack([layout.test_in, test_out], axis=1)}
        writer.add_task(layout.packed, pairs)
    _write_split(writer.split("train"), *versions, train_pairs, first_id, offsets, cfg.canvas)
    if not is_extra:
        at_origin = np.zeros((dihedrals.shape[0] * layout.test_in.shape[0], 2), dtype=np.int64)
        test_pairs = (layout.test_in, layout.test_out)
        _write_split(writer.split("test"), *versions, test_pairs, first_id, at_origin, cfg.canvas)
    rows = np.empty((dihedrals.shape[0], AUG_TABLE_COLUMNS), dtype=np.int32)
    rows[:, 0], rows[:, 1], rows[:, 2:] = index, dihedrals, maps
    return rows


@dataclass(frozen=True)
class TaskVersions:
    """Tasks' versions and their examples encoded exactly as a build writes them (no files), task
    after task; each task's versions identity first, its rows version-major."""

    versions: np.ndarray  # int64 [T]: how many versions each task has
    dihedrals: np.ndarray  # int64 [V]
    colour_maps: np.ndarray  # uint8 [V, 10]
    train_inputs: np.ndarray  # uint8 [sum of versions x train pairs, canvas^2], translated per cfg
    train_labels: np.ndarray
    test_inputs: np.ndarray  # uint8 [sum of versions x test inputs, canvas^2] at offset (0, 0)
    test_labels: np.ndarray  # all PAD for a task whose test outputs are unknown


def _version_rows(counts: np.ndarray, pairs: list[np.ndarray], grid_base: np.ndarray, aug_base: np.ndarray):
    """(grid index, augmentation index) of every version x pair row, task after task, version-major,
    for `counts` versions of each task and its pairs' grid ids `pairs` (task-local ids)."""
    per_task = np.array([ids.shape[0] for ids in pairs], dtype=np.int64)
    pair_grids = np.concatenate([*pairs, np.zeros(0, np.int64)]) + np.repeat(grid_base, per_task)
    pair_start = np.cumsum(per_task) - per_task
    rows = counts * per_task
    task = np.repeat(np.arange(counts.shape[0]), rows)
    within = np.arange(task.shape[0]) - np.repeat(np.cumsum(rows) - rows, rows)
    n = np.maximum(per_task[task], 1)
    return pair_grids[pair_start[task] + within % n], aug_base[task] + within // n


def _batch_train_offsets(rngs, packed, dihedrals, versions, train_pairs, bases, cfg: ArcBuildConfig):
    """`_train_offsets` of every task (task k drawing from `rngs[k]`), the sizes found in one batch."""
    n_pairs = np.array([ids.shape[0] for ids in train_pairs[0]], dtype=np.int64)
    if not cfg.translate:
        return np.zeros((int(versions @ n_pairs), 2), dtype=np.int64)
    (h_in, w_in), (h_out, w_out) = (
        row_shapes(packed, dihedrals, *_version_rows(versions, pairs, *bases)) for pairs in train_pairs
    )
    room = offset_room(np.maximum(h_in, h_out), np.maximum(w_in, w_out), cfg.canvas)
    ends = np.cumsum(versions * n_pairs)
    return np.concatenate(
        [
            _draw_offsets(rng, room[end - v * p : end], v, p)
            for rng, v, p, end in zip(rngs, versions.tolist(), n_pairs.tolist(), ends.tolist(), strict=True)
        ]
    )


def encode_task_versions(
    tasks: Sequence[Task], rngs: Sequence[np.random.Generator], cfg: ArcBuildConfig
) -> TaskVersions:
    """The identity plus up to `cfg.aug` distinct versions of each source task and its train and
    test examples, through the same steps as a build (for test-time adaptation of tasks never
    built). Task k draws from `rngs[k]` exactly as a build draws for one task; the rows of all the
    tasks are then encoded in one batch. Every grid must fit `cfg.canvas`."""
    layouts, counts, dihedrals, maps = [], [], [], []
    for task, rng in zip(tasks, rngs, strict=True):  # each task's versions, then (below) its offsets
        layout = _layout(task, is_extra=False)
        d, m = distinct_versions(rng, layout.packed, cfg.aug, cfg.permute_black, cfg.tries_factor)
        layouts.append(layout)
        counts.append(d.shape[0])
        dihedrals.append(d)
        maps.append(m)
    seq = cfg.canvas * cfg.canvas
    if not layouts:
        empty = np.zeros((0, seq), dtype=np.uint8)
        no_maps = np.zeros((0, NUM_COLORS), dtype=np.uint8)
        return TaskVersions(np.zeros(0, np.int64), np.zeros(0, np.int64), no_maps, *[empty] * 4)
    versions = np.array(counts, dtype=np.int64)
    grids = [layout.packed for layout in layouts]
    sizes = np.array([g.flat.shape[0] for g in grids], dtype=np.int64)
    n_grids = np.array([len(g) for g in grids], dtype=np.int64)
    packed = PackedGrids(
        flat=np.concatenate([g.flat for g in grids]),
        starts=np.concatenate([g.starts for g in grids]) + np.repeat(np.cumsum(sizes) - sizes, n_grids),
        heights=np.concatenate([g.heights for g in grids]),
        widths=np.concatenate([g.widths for g in grids]),
    )
    table = (np.concatenate(dihedrals), np.concatenate(maps))
    bases = (np.cumsum(n_grids) - n_grids, np.cumsum(versions) - versions)

    def encode(pairs: list[np.ndarray], at: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        grid_index, aug_index = _version_rows(versions, pairs, *bases)
        if rows is None:
            return encode_views(packed, *table, grid_index, aug_index, at, cfg.canvas)
        out = np.zeros((grid_index.shape[0], seq), dtype=np.uint8)  # rows left out stay PAD
        out[rows] = encode_views(packed, *table, grid_index[rows], aug_index[rows], at[rows], cfg.canvas)
        return out

    train_pairs = ([x.train_in for x in layouts], [x.train_out for x in layouts])
    train_at = _batch_train_offsets(rngs, packed, table[0], versions, train_pairs, bases, cfg)
    train = (encode(train_pairs[0], train_at), encode(train_pairs[1], train_at))
    test_in = [x.test_in for x in layouts]
    at_origin = np.zeros((int(versions @ [x.shape[0] for x in test_in]), 2), dtype=np.int64)
    known = np.array([x.test_out is not None for x in layouts])
    known_rows = np.repeat(known, versions * [x.shape[0] for x in test_in])
    test_out = [x.test_in if x.test_out is None else x.test_out for x in layouts]  # (unknown: not encoded)
    test = (encode(test_in, at_origin), encode(test_out, at_origin, None if known.all() else known_rows))
    return TaskVersions(versions, *table, *train, *test)


def build_arc_dataset(
    cfg: ArcBuildConfig,
    out: str | Path,
    overwrite: bool = False,
    progress: bool = True,
    materialize: bool = False,
) -> BuildSummary:
    """Build the dataset directory `out` (atomically) for `cfg`; see the module docstring."""
    cfg.validate()
    started = time.perf_counter()
    source, extra, left_out, records = _select(cfg)
    tasks = [(t, False) for t in source] + [(t, True) for t in extra]
    table = [np.array([[-1, 0, *range(NUM_COLORS)]], dtype=np.int32)]  # the blank id 0
    next_id = 1
    storage = "materialized" if materialize else "recipe"
    with (
        DatasetWriter(out, "arc", cfg.canvas**2, ARC_VOCAB_SIZE, ARC_EXTRAS, overwrite, storage) as writer,
        progress_bar("build", "tasks", progress, transient=True) as bar,
    ):
        job = bar.add_task("building ARC dataset", total=len(tasks))
        for index, (task, is_extra) in enumerate(tasks):
            table.append(_write_task(writer, task, is_extra, index, next_id, cfg))
            next_id += table[-1].shape[0]
            bar.advance(job)
        short = sum(int(rows.shape[0] - 1 < cfg.aug) for rows in table[1:])
        fields = {
            "canvas": cfg.canvas,
            "task_ids": [t.task_id for t, _ in tasks],
            "num_source_tasks": len(source),
            "sources": records,
            "build": {"builder": "arc", **asdict(cfg)},
            "seed": cfg.seed,
            "left_out": [{"task_id": tid, "reason": why} for tid, why in left_out],
            "tasks_short_of_aug": short,
            "tasks_without_test_outputs": sum(1 for t in source if t.test_outputs is None),
        }
        meta = writer.finish(next_id, fields, np.concatenate(table))
    return BuildSummary(
        out=Path(out),
        num_tasks=len(tasks),
        num_source_tasks=len(source),
        left_out=tuple(left_out),
        num_puzzle_ids=next_id,
        counts=meta["counts"],
        tasks_short_of_aug=short,
        seconds=time.perf_counter() - started,
    )
