"""Which augmented views of each test input the model answers, as flat arrays.

A view is (task, test input, puzzle id, dihedral id, colour map). For a task the checkpoint was
trained on, the views are that task's augmented versions from the checkpoint's augmentation table,
each with its own puzzle id (its learned task embedding), identity version first. For a task the
checkpoint does not know, the views are distinct random augmentations of its test inputs that all use
the task's fallback id (the blank embedding 0, or an adapted one). Either way the first view of
every test input is the untransformed input.

Rows come rank-major: every test input's view 0, then every test input's view 1, and so on. A run
cut short (a time budget) has then answered every test input with the same number of views, and
the most important view, the identity, first.

Each task draws from its own generator seeded by (seed, a hash of its task id), so a task's views do
not change when other tasks are added to or removed from the source.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from arcsolve.augment import PackedGrids, distinct_versions, encode_views, pack_grids
from arcsolve.constants import BLANK_PUZZLE_ID, NUM_COLORS
from arcsolve.data.tasks import Task
from arcsolve.errors import BadInputError

_ROW_FIELDS = ("task_index", "test_index", "grid_index", "rank", "puzzle_ids", "dihedrals", "colour_maps")


@dataclass(frozen=True)
class ViewPlan:
    """One row per view (rank-major, see the module docstring)."""

    task_index: np.ndarray  # int64 [V] index into the task list
    test_index: np.ndarray  # int64 [V] test input of that task
    grid_index: np.ndarray  # int64 [V] index into `inputs`
    rank: np.ndarray  # int64 [V] the view's number for its test input (0 = identity)
    puzzle_ids: np.ndarray  # int32 [V]
    dihedrals: np.ndarray  # int64 [V]
    colour_maps: np.ndarray  # uint8 [V, 10]
    inputs: PackedGrids | None  # every test input of every task, task by task (None: no tasks)
    skipped: tuple[tuple[str, int], ...]  # (task id, test index) with no view: too big for the canvas
    unknown: tuple[str, ...]  # tasks planned with their fallback id (not in the checkpoint)

    def __len__(self) -> int:
        return int(self.task_index.shape[0])

    def subset(self, rows: np.ndarray | slice) -> ViewPlan:
        """The plan of only `rows` (same inputs; e.g. a chunk of the run, or one rank's share)."""
        arrays = {name: getattr(self, name)[rows] for name in _ROW_FIELDS}
        return replace(self, **arrays)


def task_seed(seed: int, task_id: str) -> list[int]:
    """Entropy for a task's generator: the run's seed and a stable hash of the task id."""
    digest = hashlib.sha256(task_id.encode("utf-8")).digest()
    return [int(seed), int.from_bytes(digest[:8], "little")]


def known_versions(aug_table: np.ndarray, task_ids: Sequence[str]) -> dict[str, np.ndarray]:
    """task id -> the puzzle ids of its versions in an augmentation table (identity version first)."""
    rows = np.asarray(aug_table)
    identity = (rows[:, 1] == 0) & (rows[:, 2:] == np.arange(NUM_COLORS)).all(axis=1)
    order = np.lexsort((~identity, rows[:, 0]))  # by task, its identity first, then in table order
    bounds = np.searchsorted(rows[order, 0], np.arange(len(task_ids) + 1)).tolist()
    return {
        task_id: order[bounds[index] : bounds[index + 1]].astype(np.int64)
        for index, task_id in enumerate(task_ids)
    }


def _known_views(
    seed: int, task_id: str, ids: np.ndarray, aug_table: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The identity version plus n - 1 others drawn without replacement (from the task's generator):
    (puzzle ids, dihedrals, maps)."""
    chosen = ids[:1]
    if n > 1 and len(ids) > 1:
        rng = np.random.default_rng(task_seed(seed, task_id))
        extra = rng.choice(ids[1:], size=min(n - 1, len(ids) - 1), replace=False)
        chosen = np.concatenate([chosen, extra])
    rows = aug_table[chosen]
    return chosen.astype(np.int32), rows[:, 1].astype(np.int64), rows[:, 2:].astype(np.uint8)


def plan_views(
    tasks: Sequence[Task],
    views_per_input: int,
    seed: int,
    canvas: int,
    aug_table: np.ndarray | None = None,
    trained_task_ids: Sequence[str] = (),
    fallback_ids: Mapping[str, int] | None = None,
    permute_black: bool = False,
) -> ViewPlan:
    """Up to `views_per_input` views for every test input of every task (deterministic for `seed`).

    A test input with a side longer than `canvas` gets no view (it is listed in `skipped`).
    `permute_black` lets the random augmentations of unknown tasks move colour 0 too (match the
    checkpoint's dataset recipe).
    """
    if views_per_input < 1:
        raise BadInputError("predict", f"views per test input must be >= 1, got {views_per_input}")
    table = None if aug_table is None else np.asarray(aug_table)
    versions = known_versions(table, trained_task_ids) if table is not None else {}
    fallback_ids = fallback_ids or {}
    cols: dict[str, list[np.ndarray]] = {
        k: [] for k in ("task", "test", "grid", "rank", "ids", "dih", "maps")
    }
    skipped: list[tuple[str, int]] = []
    unknown: list[str] = []
    first_grid = 0
    for t, task in enumerate(tasks):
        fits = [i for i, g in enumerate(task.test_inputs) if max(g.shape) <= canvas]
        skipped += [(task.task_id, i) for i in range(len(task.test_inputs)) if i not in fits]
        grid_base, first_grid = first_grid, first_grid + len(task.test_inputs)
        if not fits:
            continue
        ids = versions.get(task.task_id)
        if ids is not None and len(ids):
            puzzle_ids, dihedrals, maps = _known_views(seed, task.task_id, ids, table, views_per_input)
        else:
            rng = np.random.default_rng(task_seed(seed, task.task_id))
            packed = pack_grids([task.test_inputs[i] for i in fits])
            dihedrals, maps = distinct_versions(rng, packed, views_per_input - 1, permute_black)
            own_id = fallback_ids.get(task.task_id, BLANK_PUZZLE_ID)
            puzzle_ids = np.full(len(dihedrals), own_id, dtype=np.int32)
            unknown.append(task.task_id)
        n_views, tests = len(dihedrals), np.asarray(fits, dtype=np.int64)
        cols["task"].append(np.full(n_views * len(tests), t, dtype=np.int64))
        cols["test"].append(np.repeat(tests, n_views))
        cols["grid"].append(np.repeat(tests + grid_base, n_views))
        cols["rank"].append(np.tile(np.arange(n_views, dtype=np.int64), len(tests)))
        cols["ids"].append(np.tile(puzzle_ids, len(tests)))
        cols["dih"].append(np.tile(dihedrals, len(tests)))
        cols["maps"].append(np.tile(maps, (len(tests), 1)))
    dtypes = {"ids": np.int32, "maps": np.uint8}
    cat = {
        k: np.concatenate(v)
        if v
        else np.zeros((0, NUM_COLORS) if k == "maps" else 0, dtypes.get(k, np.int64))
        for k, v in cols.items()
    }
    order = np.lexsort((cat["grid"], cat["rank"]))  # rank-major, then test inputs in source order
    inputs = pack_grids([g for task in tasks for g in task.test_inputs]) if tasks else None
    return ViewPlan(
        task_index=cat["task"][order],
        test_index=cat["test"][order],
        grid_index=cat["grid"][order],
        rank=cat["rank"][order],
        puzzle_ids=cat["ids"][order],
        dihedrals=cat["dih"][order],
        colour_maps=np.ascontiguousarray(cat["maps"][order]),
        inputs=inputs,
        skipped=tuple(skipped),
        unknown=tuple(unknown),
    )


def encode_plan_rows(
    plan: ViewPlan, rows: np.ndarray, canvas: int, out: np.ndarray | None = None
) -> np.ndarray:
    """Token rows (uint8 [len(rows), canvas*canvas]) of the planned views `rows`, at offset (0, 0)."""
    rows = np.asarray(rows, dtype=np.int64)
    if plan.inputs is None or not len(rows):
        return np.zeros((len(rows), canvas * canvas), dtype=np.uint8) if out is None else out
    return encode_views(
        plan.inputs,
        plan.dihedrals[rows],
        plan.colour_maps[rows],
        plan.grid_index[rows],
        np.arange(len(rows), dtype=np.int64),
        np.zeros((len(rows), 2), dtype=np.int64),
        canvas,
        out=out,
    )
