"""Which augmented views of each test input the model answers, as flat arrays.

A view is (task, test input, puzzle id, dihedral id, colour map). For a task the checkpoint was
trained on, the views are that task's augmented versions from the checkpoint's augmentation table,
each with its own puzzle id (its learned task embedding), identity version first. For a task the
checkpoint does not know, the views are fresh random augmentations that all use puzzle id `fallback_id`
(the blank embedding, or an adapted one). Either way the first view is the untransformed input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from arcsolve.augment import pack_grids, sample_augmentation_arrays
from arcsolve.augment.kernels import encode_views
from arcsolve.constants import BLANK_PUZZLE_ID, NUM_COLORS
from arcsolve.data.tasks import Task


@dataclass(frozen=True)
class ViewPlan:
    """One row per view. `test_ref[k]` = (index into the task list, test input index)."""

    task_index: np.ndarray  # int64 [V]
    test_index: np.ndarray  # int64 [V]
    puzzle_ids: np.ndarray  # int32 [V]
    dihedrals: np.ndarray  # int64 [V]
    colour_maps: np.ndarray  # uint8 [V, 10]
    skipped: tuple[str, ...]  # task ids with no view (a grid too big for the canvas)

    def __len__(self) -> int:
        return int(self.task_index.shape[0])


def known_versions(aug_table: np.ndarray, task_ids: Sequence[str]) -> dict[str, np.ndarray]:
    """task id -> the puzzle ids of its versions in an augmentation table (identity version first)."""
    rows = np.asarray(aug_table)
    order = np.argsort(rows[:, 0], kind="stable")
    owners = rows[order, 0]
    out: dict[str, np.ndarray] = {}
    for index, task_id in enumerate(task_ids):
        lo, hi = np.searchsorted(owners, [index, index + 1])
        ids = order[lo:hi]
        identity = (rows[ids, 1] == 0) & (rows[ids, 2:] == np.arange(NUM_COLORS)).all(axis=1)
        out[task_id] = np.concatenate([ids[identity], ids[~identity]]).astype(np.int64)
    return out


def plan_views(
    tasks: Sequence[Task],
    views_per_input: int,
    seed: int,
    canvas: int,
    aug_table: np.ndarray | None = None,
    trained_task_ids: Sequence[str] = (),
    fallback_ids: dict[str, int] | None = None,
) -> ViewPlan:
    """Up to `views_per_input` views for every test input of every task (deterministic for `seed`)."""
    versions = known_versions(aug_table, trained_task_ids) if aug_table is not None else {}
    columns: dict[str, list[np.ndarray]] = {k: [] for k in ("task", "test", "ids", "dihedral", "maps")}
    skipped = []
    for t, task in enumerate(tasks):
        if max(max(g.shape) for g in task.test_inputs) > canvas:
            skipped.append(task.task_id)
            continue
        rng = np.random.default_rng([seed, t])
        ids = versions.get(task.task_id)
        if ids is not None and len(ids):
            chosen = ids[:1]
            if views_per_input > 1 and len(ids) > 1:
                extra = rng.choice(ids[1:], size=min(views_per_input - 1, len(ids) - 1), replace=False)
                chosen = np.concatenate([chosen, np.sort(extra)])
            dihedrals = aug_table[chosen, 1].astype(np.int64)
            maps = aug_table[chosen, 2:].astype(np.uint8)
            puzzle_ids = chosen.astype(np.int32)
        else:
            dihedrals, maps = sample_augmentation_arrays(rng, views_per_input)
            dihedrals[0], maps[0] = 0, np.arange(NUM_COLORS)
            own_id = (fallback_ids or {}).get(task.task_id, BLANK_PUZZLE_ID)
            puzzle_ids = np.full(views_per_input, own_id, dtype=np.int32)
        n_views, n_tests = len(dihedrals), len(task.test_inputs)
        columns["task"].append(np.full(n_views * n_tests, t, dtype=np.int64))
        columns["test"].append(np.repeat(np.arange(n_tests, dtype=np.int64), n_views))
        columns["ids"].append(np.tile(puzzle_ids, n_tests))
        columns["dihedral"].append(np.tile(dihedrals, n_tests))
        columns["maps"].append(np.tile(maps, (n_tests, 1)))
    empty = {"task": np.int64, "test": np.int64, "ids": np.int32, "dihedral": np.int64}
    cat = {k: np.concatenate(v) if v else np.zeros(0, empty.get(k, np.uint8)) for k, v in columns.items()}
    if not columns["maps"]:
        cat["maps"] = np.zeros((0, NUM_COLORS), np.uint8)
    return ViewPlan(cat["task"], cat["test"], cat["ids"], cat["dihedral"], cat["maps"], tuple(skipped))


def encode_plan_rows(tasks: Sequence[Task], plan: ViewPlan, rows: np.ndarray, canvas: int) -> np.ndarray:
    """Token rows (uint8 [len(rows), canvas*canvas]) of the planned views `rows`, at offset (0, 0)."""
    out = np.empty((len(rows), canvas * canvas), dtype=np.uint8)
    rows = np.asarray(rows)
    # Group consecutive rows by task so each task's grids are packed once.
    task_of = plan.task_index[rows]
    bounds = np.flatnonzero(np.diff(task_of)) + 1
    for chunk in np.split(np.arange(len(rows)), bounds):
        if not len(chunk):
            continue
        task = tasks[int(task_of[chunk[0]])]
        packed = pack_grids(list(task.test_inputs))
        sel = rows[chunk]
        encode_views(
            packed,
            plan.dihedrals[sel],
            plan.colour_maps[sel],
            plan.test_index[sel],
            np.arange(len(sel)),
            np.zeros((len(sel), 2), np.int64),
            canvas,
            out=out[chunk[0] : chunk[-1] + 1],
        )
    return out
