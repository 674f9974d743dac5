"""What a task picture shows, shared by the PNG and HTML renderers: colours, grids, roles, marks.

A picture is a list of rows. Each train pair is one row (input, output); each test input is one row
(test input, the true output when known, then attempt 1 and attempt 2 when a submission is given).
An attempt is marked right or wrong only when the true output is known.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from arcsolve.constants import NUM_COLORS
from arcsolve.data.tasks import Task
from arcsolve.errors import BadInputError
from arcsolve.submission.validate import ATTEMPT_KEYS, check_submission, summarize_problems

# The standard ARC palette, colours 0..9.
ARC_PALETTE: tuple[str, ...] = (
    "#000000",  # 0 black
    "#0074D9",  # 1 blue
    "#FF4136",  # 2 red
    "#2ECC40",  # 3 green
    "#FFDC00",  # 4 yellow
    "#AAAAAA",  # 5 grey
    "#F012BE",  # 6 magenta
    "#FF851B",  # 7 orange
    "#7FDBFF",  # 8 light blue
    "#870C25",  # 9 maroon
)
assert len(ARC_PALETTE) == NUM_COLORS

GRID_LINE = "#555555"  # the lines between cells
RIGHT = "right"
WRONG = "wrong"
# Darker than palette green/red so that a mark never reads as a cell colour.
MARK_COLOURS = {RIGHT: "#1E8E3E", WRONG: "#D93025"}

# Kinds of grid in a picture.
TRAIN_INPUT = "train-input"
TRAIN_OUTPUT = "train-output"
TEST_INPUT = "test-input"
TEST_OUTPUT = "test-output"
ATTEMPT = "attempt"


def hex_to_rgb(colour: str) -> tuple[int, int, int]:
    """'#RRGGBB' -> (r, g, b) as ints 0..255."""
    text = colour.lstrip("#")
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)


def palette_rgb() -> np.ndarray:
    """uint8 [10, 3]: row k is the RGB of colour k."""
    return np.array([hex_to_rgb(c) for c in ARC_PALETTE], dtype=np.uint8)


@dataclass(frozen=True, eq=False)
class GridView:
    """One grid to draw, with what it is (`kind`, `role`) and, for attempts, whether it is right."""

    grid: np.ndarray  # uint8 (h, w), colours 0..9
    kind: str
    role: str  # a short human label, e.g. "test 1 attempt 2"
    mark: str | None = None  # RIGHT, WRONG, or None when there is nothing to compare with

    @property
    def size_text(self) -> str:
        h, w = self.grid.shape
        return f"{h}x{w}"


@dataclass(frozen=True)
class GridRow:
    label: str  # "train 1", "test 2"
    views: tuple[GridView, ...]


@dataclass(frozen=True)
class DrawnGrid:
    """A grid as drawn. `box` is (left, top, right, bottom) in image pixels (origin top left) for a
    PNG, so cell (r, c) is centred at left + (c + 0.5) * (right - left) / w, likewise for rows;
    None for HTML, where the browser does the layout."""

    view: GridView
    box: tuple[float, float, float, float] | None


def task_entries(task: Task, submission: Mapping[str, Any] | None) -> list[dict[str, Any]] | None:
    """The submission's entries for `task` (one per test input), checked; None without a submission.

    Only this task's entry is checked, so a submission for a larger set of tasks draws fine.
    """
    if submission is None:
        return None
    if not isinstance(submission, Mapping):
        raise BadInputError("submission", "expected an object mapping task ids to lists of attempts")
    if task.task_id not in submission:
        raise BadInputError("submission", f"task {task.task_id} is not in the submission")
    problems = check_submission({task.task_id: submission[task.task_id]}, [task])
    if problems:
        raise BadInputError("submission", summarize_problems(problems))
    return list(submission[task.task_id])


def is_right(attempt: np.ndarray, truth: np.ndarray) -> bool:
    return attempt.shape == truth.shape and bool(np.array_equal(attempt, truth))


def task_rows(task: Task, entries: Sequence[Mapping[str, Any]] | None = None) -> list[GridRow]:
    """The rows of the picture of `task`; `entries` are its submission entries (see task_entries)."""
    rows = []
    for i, (grid_in, grid_out) in enumerate(task.train_pairs, start=1):
        views = (
            GridView(grid_in, TRAIN_INPUT, f"train {i} input"),
            GridView(grid_out, TRAIN_OUTPUT, f"train {i} output"),
        )
        rows.append(GridRow(f"train {i}", views))
    for i, grid_in in enumerate(task.test_inputs):
        n = i + 1
        truth = task.test_outputs[i] if task.test_outputs is not None else None
        views_list = [GridView(grid_in, TEST_INPUT, f"test {n} input")]
        if truth is not None:
            views_list.append(GridView(truth, TEST_OUTPUT, f"test {n} truth"))
        if entries is not None:
            for number, key in enumerate(ATTEMPT_KEYS, start=1):
                attempt = np.array(entries[i][key], dtype=np.uint8)
                mark = None if truth is None else (RIGHT if is_right(attempt, truth) else WRONG)
                views_list.append(GridView(attempt, ATTEMPT, f"test {n} attempt {number}", mark))
        rows.append(GridRow(f"test {n}", tuple(views_list)))
    return rows
