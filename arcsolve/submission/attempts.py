"""Attempts without a model: valid-grid checks, model-free fallback guesses, and the pick of exactly
k distinct attempts that every submission writer uses (`arcsolve/predict/vote.py` ranks the voted
candidates that come first; `arcsolve/submission/writer.py` writes the fallback-only file).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from arcsolve.constants import MAX_GRID, NUM_COLORS
from arcsolve.data.tasks import Task


def as_valid_grid(grid: Any) -> np.ndarray | None:
    """`grid` as a C-contiguous uint8 (h, w) array when it is a valid ARC grid, else None.

    Valid: two dimensions of 1..30, integer dtype (bools and floats are not colours), values 0..9.
    The check happens before the cast so that e.g. 256 cannot wrap around to 0.
    """
    try:
        arr = np.asarray(grid)
    except (ValueError, TypeError):  # ragged nested lists and the like
        return None
    if arr.ndim != 2 or arr.dtype.kind not in "iu":
        return None
    if not (1 <= arr.shape[0] <= MAX_GRID and 1 <= arr.shape[1] <= MAX_GRID):
        return None
    if (arr.dtype.kind == "i" and arr.min() < 0) or arr.max() >= NUM_COLORS:  # unsigned: never < 0
        return None
    return np.ascontiguousarray(arr, dtype=np.uint8)


def grid_key(grid: np.ndarray) -> bytes:
    """An exact, cheap identity for a valid uint8 grid: its two sides then its row-major bytes."""
    return bytes(grid.shape) + grid.tobytes()


def guess_output_shape(task: Task, test_index: int) -> tuple[int, int]:
    """The likeliest output shape without a model.

    The test input's shape when every train pair keeps its shape; otherwise the commonest train
    output shape (the earliest one on ties).
    """
    if all(i.shape == o.shape for i, o in task.train_pairs):
        return tuple(task.test_inputs[test_index].shape)  # type: ignore[return-value]
    counts = Counter(tuple(o.shape) for _, o in task.train_pairs)
    return counts.most_common(1)[0][0]  # most_common keeps first-seen order among equal counts


def default_fallbacks(task: Task, test_index: int) -> Iterator[np.ndarray]:
    """Model-free guesses for a test input, best first (duplicates are skipped by the caller):

    1. the shared train output, when every train output is the same grid;
    2. the test input itself (many ARC outputs are edits of the input);
    3. an all-0 (background) grid of `guess_output_shape`;
    4. an all-0 grid of the test input's shape;
    5. solid grids of colours 1..9 in the guessed shape, which are always distinct, so at least
       ten distinct attempts exist for any test input.
    """
    outputs = [o for _, o in task.train_pairs]
    if all(np.array_equal(outputs[0], o) for o in outputs[1:]):
        yield outputs[0]
    test_input = task.test_inputs[test_index]
    yield test_input
    shape = guess_output_shape(task, test_index)
    yield np.zeros(shape, dtype=np.uint8)
    yield np.zeros(test_input.shape, dtype=np.uint8)
    for colour in range(1, NUM_COLORS):
        yield np.full(shape, colour, dtype=np.uint8)


def pick_attempts(ranked: Sequence[np.ndarray], fallbacks: Iterable[Any], k: int) -> list[np.ndarray]:
    """Exactly `k` grids: the ranked ones first, then fallbacks, never a grid twice while a distinct
    one remains. Invalid fallbacks are skipped. Only if every source runs dry is the first attempt
    repeated to reach `k` (that cannot happen with `default_fallbacks` and k <= 10)."""
    picked: list[np.ndarray] = []
    seen: set[bytes] = set()
    for source in (ranked, fallbacks):
        if len(picked) == k:
            break
        for grid in source:
            valid = as_valid_grid(grid)
            if valid is None or grid_key(valid) in seen:
                continue
            seen.add(grid_key(valid))
            picked.append(valid)
            if len(picked) == k:
                break
    if not picked:
        picked.append(np.zeros((1, 1), dtype=np.uint8))
    while len(picked) < k:
        picked.append(picked[0])
    return picked


def fallback_attempts(tasks: Sequence[Task], k: int) -> dict[str, list[list[np.ndarray]]]:
    """For every task and test input, in order, the first `k` distinct `default_fallbacks`."""
    return {
        task.task_id: [pick_attempts((), default_fallbacks(task, i), k) for i in range(len(task.test_inputs))]
        for task in tasks
    }
