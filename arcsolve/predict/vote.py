"""Voting over augmented predictions and the pass@K pick.

Every augmented view of a test input yields one predicted grid (already mapped back to the original
frame) and a confidence, sigmoid(q_halt) of the step that produced it. The `VoteTable` groups equal
grids per (task id, test index) and keeps, for each distinct grid, its vote count and the sum of
its confidences. Candidates rank by votes, then by mean confidence (the reference evaluator's rule),
then by the grid's bytes so that the order never depends on the order the votes arrived in.

Two fixes over the reference evaluator: a table holds the votes of one checkpoint only (make a new
one per checkpoint, `merge` the tables of several ranks), and a test input with too few candidates
is filled from fallbacks instead of being skipped, so a submission is never short.

Memory is bounded by the number of distinct grids: equal predictions collapse to one entry.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import orjson

from arcsolve.data.tasks import Task
from arcsolve.io import atomic_write_bytes
from arcsolve.submission.attempts import as_valid_grid, default_fallbacks, grid_key, pick_attempts

REFERENCE_PASS_KS = (1, 2, 5, 10, 100, 1000)

# One candidate: [votes, sum of confidences, the grid (read-only uint8)].
Candidate = list[Any]
Fallback = Callable[[Task, int], Iterable[np.ndarray]]


class Ranked(Protocol):
    """Anything with candidates in rank order per test input: a `VoteTable`, or the re-ranked
    `arcsolve.predict.rank.RankedTable`."""

    def ranked(self, task_id: str, test_index: int) -> list[tuple[np.ndarray, int, float]]: ...


class VoteTable:
    """Streaming votes per (task id, test index); holds only distinct grids and their tallies."""

    def __init__(self) -> None:
        self._candidates: dict[tuple[str, int], dict[bytes, Candidate]] = {}
        self._invalid: dict[tuple[str, int], int] = {}

    def add(self, task_id: str, test_index: int, grid: np.ndarray | None, confidence: float) -> bool:
        """Record one prediction; return whether it counted as a vote.

        `grid` None (or anything that is not a valid ARC grid) is an invalid prediction: no vote,
        but it is counted. A non-finite confidence counts as 0 so that one NaN cannot spoil the order.
        """
        cell = (str(task_id), _check_index(test_index))
        valid = None if grid is None else as_valid_grid(grid)
        if valid is None:
            self._invalid[cell] = self._invalid.get(cell, 0) + 1
            return False
        confidence = float(confidence)
        if not math.isfinite(confidence):
            confidence = 0.0
        candidates = self._candidates.setdefault(cell, {})
        key = grid_key(valid)
        entry = candidates.get(key)
        if entry is None:
            stored = valid.copy()  # never alias a buffer the caller reuses for the next batch
            stored.setflags(write=False)
            candidates[key] = [1, confidence, stored]
        else:
            entry[0] += 1
            entry[1] += confidence
        return True

    def merge(self, other: VoteTable) -> None:
        """Add every vote and invalid count of `other` (e.g. the table of another rank) to this one."""
        for cell, theirs in other._candidates.items():
            ours = self._candidates.setdefault(cell, {})
            for key, (votes, conf_sum, grid) in theirs.items():
                entry = ours.get(key)
                if entry is None:
                    ours[key] = [votes, conf_sum, grid]
                else:
                    entry[0] += votes
                    entry[1] += conf_sum
        for cell, count in other._invalid.items():
            self._invalid[cell] = self._invalid.get(cell, 0) + count

    def ranked(self, task_id: str, test_index: int) -> list[tuple[np.ndarray, int, float]]:
        """Candidates as (grid, votes, mean confidence): most votes first, then most confident,
        then by grid bytes (a fixed, arbitrary order) so that the result is reproducible."""
        candidates = self._candidates.get((str(task_id), int(test_index)), {})
        order = sorted(candidates.items(), key=lambda kv: (-kv[1][0], -kv[1][1] / kv[1][0], kv[0]))
        return [(grid, votes, conf_sum / votes) for _, (votes, conf_sum, grid) in order]

    def invalid_count(self, task_id: str, test_index: int) -> int:
        return self._invalid.get((str(task_id), int(test_index)), 0)

    def cells(self) -> list[tuple[str, int]]:
        """Every (task id, test index) that received a prediction, valid or not, sorted."""
        return sorted(set(self._candidates) | set(self._invalid))

    def stats(self) -> dict[str, int]:
        """Totals for logs: cells, valid votes, invalid predictions, distinct grids held."""
        return {
            "cells": len(self.cells()),
            "votes": sum(e[0] for c in self._candidates.values() for e in c.values()),
            "invalid": sum(self._invalid.values()),
            "distinct_grids": sum(len(c) for c in self._candidates.values()),
        }

    def to_jsonl_records(
        self, tasks: Sequence[Task] | None = None, max_candidates: int | None = None
    ) -> list[dict[str, Any]]:
        """One record per test input, for analysis (`predictions.jsonl`).

        With `tasks`, every test input of those tasks appears in task order, voted or not, and
        `solution_rank` gives the 0-based rank of the true output among the candidates (null when
        absent; the key is left out when the outputs are unknown). Without `tasks`, the table's own
        cells appear in sorted order.
        """
        if tasks is None:
            cells: list[tuple[str, int, np.ndarray | None]] = [(t, i, None) for t, i in self.cells()]
        else:
            cells = [
                (task.task_id, i, None if task.test_outputs is None else task.test_outputs[i])
                for task in tasks
                for i in range(len(task.test_inputs))
            ]
        records = []
        for task_id, index, solution in cells:
            ranked = self.ranked(task_id, index)
            record: dict[str, Any] = {
                "task_id": task_id,
                "test_index": index,
                "invalid": self.invalid_count(task_id, index),
                "votes": sum(votes for _, votes, _ in ranked),
                "candidates": [
                    {"grid": grid.tolist(), "votes": votes, "mean_confidence": conf}
                    for grid, votes, conf in ranked[:max_candidates]
                ],
            }
            if tasks is not None and solution is not None:
                record["solution_rank"] = _rank_of(ranked, solution)
            records.append(record)
        return records


def write_predictions_jsonl(
    path: str | Path,
    table: VoteTable,
    tasks: Sequence[Task] | None = None,
    max_candidates: int | None = None,
) -> None:
    """Write `table.to_jsonl_records(...)` as JSON lines, atomically."""
    lines = [orjson.dumps(r) + b"\n" for r in table.to_jsonl_records(tasks, max_candidates)]
    atomic_write_bytes(path, b"".join(lines))


def vote_attempts(
    table: Ranked,
    tasks: Sequence[Task],
    k: int = 2,
    fallback: Fallback = default_fallbacks,
) -> dict[str, list[list[np.ndarray]]]:
    """For every task (in order) and every test input (in order), the top-`k` distinct grids.

    Voted candidates come first in rank order; a test input with fewer than `k` of them is filled
    from `fallback(task, test_index)` (see `default_fallbacks`). Votes for unknown tasks are ignored.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    attempts: dict[str, list[list[np.ndarray]]] = {}
    for task in tasks:
        per_test = []
        for index in range(len(task.test_inputs)):
            ranked = [grid for grid, _, _ in table.ranked(task.task_id, index)]
            # `_lazy` defers calling `fallback` until the votes run out; usually it is never called.
            per_test.append(pick_attempts(ranked, _lazy(fallback, task, index), k))
        attempts[task.task_id] = per_test
    return attempts


def pass_at_k(
    table: Ranked, tasks: Sequence[Task], ks: Sequence[int] = REFERENCE_PASS_KS
) -> dict[int, float]:
    """pass@K of the ranked candidates alone (no fallbacks), as in the reference evaluator.

    A test output counts when it is among the top K candidates; a task scores the fraction of its
    test outputs that count; pass@K is the mean over the tasks whose outputs are known. An empty
    dict when no task has known outputs.
    """
    known = [t for t in tasks if t.test_outputs is not None]
    if not known:
        return {}
    totals = dict.fromkeys(ks, 0.0)
    for task in known:
        assert task.test_outputs is not None
        ranks = [_rank_of(table.ranked(task.task_id, i), out) for i, out in enumerate(task.test_outputs)]
        for k in ks:
            hits = sum(1 for r in ranks if r is not None and r < k)
            totals[k] += hits / len(ranks)
    return {k: total / len(known) for k, total in totals.items()}


def _rank_of(ranked: list[tuple[np.ndarray, int, float]], solution: np.ndarray) -> int | None:
    key = grid_key(np.ascontiguousarray(solution, dtype=np.uint8))
    for rank, (grid, _, _) in enumerate(ranked):
        if grid_key(grid) == key:
            return rank
    return None


def _lazy(fallback: Fallback, task: Task, index: int) -> Iterator[Any]:
    yield from fallback(task, index)


def _check_index(test_index: Any) -> int:
    if isinstance(test_index, bool) or not isinstance(test_index, (int, np.integer)) or test_index < 0:
        raise ValueError(f"test_index must be a non-negative integer, got {test_index!r}")
    return int(test_index)
