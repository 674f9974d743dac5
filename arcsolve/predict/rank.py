"""`--rank votes|poe|hybrid`: the order of a test input's candidates, from its votes and its stored views.

- votes: most votes first, then mean halting confidence (`VoteTable.ranked`).
- poe: the top `--poe-candidates` K voted grids, plus for each of their shapes the grid that maximises
  the product-of-experts score (`arcsolve.predict.poe.argmax_candidates`), ordered by that score
  (summed log-probability over the stored views; ties by votes, confidence, grid bytes); the voted
  grids below the top K follow in vote order, unscored.
- hybrid: the scored pool taken alternately from its PoE order and its vote order (skipping grids
  already taken): attempt 1 is the PoE favourite, attempt 2 the most voted of the others, so
  pass@2 hedges between the two rankings. The unscored rest follows as in poe.

A test input with no stored views (none answered, or none kept) is ranked by votes in every mode; one
with views but no valid vote gets the argmax grid of its likeliest output shape
(`guess_output_shape`), a model-made guess ahead of the model-free fallbacks.
`rank_table` ranks every test input, in task order, until a deadline; inputs it does not reach keep
their vote order. The result answers `ranked()` like a `VoteTable`, so `vote_attempts` and
`pass_at_k` take it as they are, and `write_ranked_jsonl` records each candidate's votes and score.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import orjson

from arcsolve.data.tasks import Task
from arcsolve.io import atomic_write_bytes
from arcsolve.predict.poe import (
    DEFAULT_SCORING,
    PoeScoring,
    StoredViews,
    ViewStore,
    argmax_candidates,
    score_candidates,
)
from arcsolve.predict.vote import VoteTable
from arcsolve.submission.attempts import grid_key, guess_output_shape

RankMode = Literal["votes", "poe", "hybrid"]
RANK_MODES: tuple[str, ...] = ("votes", "poe", "hybrid")


@dataclass(frozen=True)
class RankedCandidate:
    grid: np.ndarray  # uint8 [h, w], original frame, read-only
    votes: int
    mean_confidence: float
    poe_score: float | None  # summed log-probability over the stored views; None when not scored
    # voted by some view, only the PoE argmax of its shape, or (predict --search) a program's answer
    source: Literal["votes", "argmax", "search"]
    program: str | None = None  # the program that answers it, when the search found one

    def record(self) -> dict[str, Any]:
        record = {
            "grid": self.grid.tolist(),
            "votes": self.votes,
            "mean_confidence": self.mean_confidence,
            "poe_score": self.poe_score,
            "source": self.source,
        }
        if self.program is not None:
            record["program"] = self.program
        return record


def _voted(table: VoteTable, task_id: str, index: int) -> list[RankedCandidate]:
    return [RankedCandidate(g, v, c, None, "votes") for g, v, c in table.ranked(task_id, index)]


def _alternate(*orders: list[RankedCandidate]) -> list[RankedCandidate]:
    """Take in turn from each order its best candidate not taken yet, until all are taken."""
    out: list[RankedCandidate] = []
    seen: set[bytes] = set()
    queues = [list(order) for order in orders]
    while any(queues):
        for queue in queues:
            while queue and grid_key(queue[0].grid) in seen:
                queue.pop(0)
            if queue:
                seen.add(grid_key(queue[0].grid))
                out.append(queue.pop(0))
    return out


def rank_candidates(
    voted: list[RankedCandidate],
    views: StoredViews | None,
    mode: str,
    top_k: int,
    scoring: PoeScoring = DEFAULT_SCORING,
    extra_shapes: Sequence[tuple[int, int]] = (),
    argmax: bool = True,
) -> list[RankedCandidate]:
    """One test input's candidates in `mode`'s order (see the module docstring); `voted` in vote order.
    `extra_shapes` get an argmax grid too (besides the shapes of the top `top_k` voted); `argmax`
    False scores the voted grids only (a diagnostic of what the argmax grids add)."""
    if mode == "votes" or views is None or not len(views):
        return list(voted)
    pool = list(voted[:top_k])
    by_key = {grid_key(c.grid): c for c in voted}
    in_pool = {grid_key(c.grid) for c in pool}
    shapes = list(dict.fromkeys([c.grid.shape for c in pool] + [tuple(s) for s in extra_shapes]))
    for grid in argmax_candidates(views, shapes) if argmax else []:
        key = grid_key(grid)
        if key in in_pool:
            continue
        in_pool.add(key)
        grid.setflags(write=False)
        pool.append(by_key.get(key) or RankedCandidate(grid, 0, 0.0, None, "argmax"))
    scores = score_candidates(views, [c.grid for c in pool], scoring)
    scored = [
        RankedCandidate(c.grid, c.votes, c.mean_confidence, float(s), c.source)
        for c, s in zip(pool, scores.tolist(), strict=True)
    ]
    by_poe = sorted(scored, key=lambda c: (-c.poe_score, -c.votes, -c.mean_confidence, grid_key(c.grid)))
    rest = [c for c in voted if grid_key(c.grid) not in in_pool]
    if mode == "poe":
        return by_poe + rest
    if mode == "hybrid":
        by_votes = sorted(scored, key=lambda c: (-c.votes, -c.mean_confidence, grid_key(c.grid)))
        return _alternate(by_poe, by_votes) + rest
    raise ValueError(f"unknown rank mode {mode!r}; expected one of {RANK_MODES}")


class RankedTable:
    """Every test input's candidates in one mode's order; quacks like a `VoteTable` for
    `vote_attempts` and `pass_at_k`."""

    def __init__(self, table: VoteTable, mode: str) -> None:
        if mode not in RANK_MODES:
            raise ValueError(f"unknown rank mode {mode!r}; expected one of {RANK_MODES}")
        self.table = table
        self.mode = mode
        self._ranked: dict[tuple[str, int], list[RankedCandidate]] = {}
        self._views: dict[tuple[str, int], int] = {}

    def set(self, task_id: str, index: int, ranked: list[RankedCandidate], views: int) -> None:
        self._ranked[(str(task_id), int(index))] = ranked
        self._views[(str(task_id), int(index))] = views

    def candidates(self, task_id: str, index: int) -> list[RankedCandidate]:
        """The ranked candidates (vote order for an input that was not ranked by views)."""
        ranked = self._ranked.get((str(task_id), int(index)))
        return ranked if ranked is not None else _voted(self.table, task_id, index)

    def ranked(self, task_id: str, index: int) -> list[tuple[np.ndarray, int, float]]:
        return [(c.grid, c.votes, c.mean_confidence) for c in self.candidates(task_id, index)]

    def invalid_count(self, task_id: str, index: int) -> int:
        return self.table.invalid_count(task_id, index)

    def poe_views(self, task_id: str, index: int) -> int:
        """Views behind the scores of this input (0: ranked by votes)."""
        return self._views.get((str(task_id), int(index)), 0)

    @property
    def scored_inputs(self) -> int:
        return sum(1 for views in self._views.values() if views > 0)


def rank_table(
    table: VoteTable,
    store: ViewStore | None,
    tasks: Sequence[Task],
    mode: str,
    top_k: int,
    until: float | None = None,
    scoring: PoeScoring = DEFAULT_SCORING,
    keep_views: bool = False,
    argmax: bool = True,
    views_limit: int | None = None,
) -> RankedTable:
    """Rank every test input of `tasks` in task order; stop scoring when `time.monotonic()` passes
    `until` (the inputs left keep their vote order). Each input's views leave `store` once it is
    ranked, unless `keep_views` (to rank the same views again in another mode). `views_limit` scores
    with only each input's first so many stored views (a benchmark's comparison of view counts)."""
    ranked = RankedTable(table, mode)
    if mode == "votes" or store is None:
        return ranked
    for task in tasks:
        for index in range(len(task.test_inputs)):
            if until is not None and time.monotonic() > until:
                return ranked
            key = (task.task_id, index)
            views = store.views(key, views_limit)
            if views is None:
                continue
            voted = _voted(table, task.task_id, index)
            guess = [] if voted or not argmax else [guess_output_shape(task, index)]
            order = rank_candidates(voted, views, mode, top_k, scoring, guess, argmax)
            ranked.set(task.task_id, index, order, len(views))
            if not keep_views:
                store.drop(key)
    return ranked


def ranked_records(
    ranked: RankedTable, tasks: Sequence[Task], max_candidates: int | None = None
) -> list[dict[str, Any]]:
    """One record per test input of `tasks`, in task order (`predictions.jsonl`): the mode, the views
    behind the scores, the invalid and valid vote counts, the candidates in rank order (grid, votes,
    mean confidence, PoE score, source) and, when the outputs are known, `solution_rank` (0-based
    rank of the true output among all candidates, null when absent)."""
    records = []
    for task in tasks:
        for index in range(len(task.test_inputs)):
            candidates = ranked.candidates(task.task_id, index)
            record: dict[str, Any] = {
                "task_id": task.task_id,
                "test_index": index,
                "rank": ranked.mode,
                "poe_views": ranked.poe_views(task.task_id, index),
                "invalid": ranked.invalid_count(task.task_id, index),
                "votes": sum(c.votes for c in candidates),
                "candidates": [c.record() for c in candidates[:max_candidates]],
            }
            if task.test_outputs is not None:
                key = grid_key(np.ascontiguousarray(task.test_outputs[index], dtype=np.uint8))
                keys = [grid_key(c.grid) for c in candidates]
                record["solution_rank"] = keys.index(key) if key in keys else None
            records.append(record)
    return records


def write_ranked_jsonl(
    path: str | Path, ranked: RankedTable, tasks: Sequence[Task], max_candidates: int | None = None
) -> None:
    """Write `ranked_records(...)` as JSON lines, atomically."""
    lines = [orjson.dumps(r) + b"\n" for r in ranked_records(ranked, tasks, max_candidates)]
    atomic_write_bytes(path, b"".join(lines))
