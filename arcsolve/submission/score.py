"""Score a submission against known test outputs.

A test output is solved when either attempt equals it exactly (shape and every cell). A task scores
the fraction of its test outputs solved; the headline metric is the mean of the task scores, as the
ARC Prize and the TRM paper count it. The mean over all test outputs is reported too: it weighs a
task by its number of test inputs, and the Kaggle overview's wording can be read that way.

The submission is validated first, so an invalid file is an error listing its problems, never a
silent 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from arcsolve.data.tasks import Task
from arcsolve.errors import BadInputError
from arcsolve.submission.validate import ATTEMPT_KEYS, require_valid_submission

_SHOWN_IDS = 10


@dataclass(frozen=True)
class TaskScore:
    """One task: for each test output, 0 when unsolved, else the first attempt (1 or 2) that matches."""

    task_id: str
    solved_by: tuple[int, ...]

    @property
    def n_outputs(self) -> int:
        return len(self.solved_by)

    @property
    def n_solved(self) -> int:
        return sum(1 for attempt in self.solved_by if attempt)

    @property
    def score(self) -> float:
        return self.n_solved / self.n_outputs


@dataclass(frozen=True)
class ScoreReport:
    tasks: tuple[TaskScore, ...]

    @property
    def score(self) -> float:
        """The official metric: mean over tasks of the fraction of their test outputs solved."""
        return sum(t.score for t in self.tasks) / len(self.tasks)

    @property
    def per_output(self) -> float:
        """Solved test outputs over all test outputs."""
        return self.n_solved / self.n_outputs

    @property
    def n_outputs(self) -> int:
        return sum(t.n_outputs for t in self.tasks)

    @property
    def n_solved(self) -> int:
        return sum(t.n_solved for t in self.tasks)

    @property
    def n_tasks_solved(self) -> int:
        """Tasks with every test output solved."""
        return sum(1 for t in self.tasks if t.n_solved == t.n_outputs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "per_output": self.per_output,
            "tasks": len(self.tasks),
            "tasks_solved": self.n_tasks_solved,
            "outputs": self.n_outputs,
            "outputs_solved": self.n_solved,
            "per_task": {t.task_id: {"score": t.score, "solved_by": list(t.solved_by)} for t in self.tasks},
        }


def score_submission(path_or_obj: Any, tasks: Sequence[Task]) -> ScoreReport:
    """Score a submission (path, raw bytes or decoded object) against the test outputs of `tasks`.

    Raises BadInputError when a task has no known test outputs, and InvalidSubmissionError (also a
    BadInputError) listing every problem when the submission does not fit the tasks.
    """
    if not tasks:
        raise BadInputError("tasks", "no tasks to score")
    unknown = [t.task_id for t in tasks if t.test_outputs is None]
    if unknown:
        shown = ", ".join(unknown[:_SHOWN_IDS])
        more = f" and {len(unknown) - _SHOWN_IDS} more" if len(unknown) > _SHOWN_IDS else ""
        raise BadInputError(
            "tasks",
            f"test outputs unknown for {len(unknown)} task(s): {shown}{more}; "
            "scoring needs solutions (e.g. a *_solutions.json beside the challenges file)",
        )
    submission = require_valid_submission(path_or_obj, tasks)
    scores = []
    for task in tasks:
        assert task.test_outputs is not None
        entries = submission[task.task_id]
        solved_by = tuple(
            _solved_by(entry, out) for entry, out in zip(entries, task.test_outputs, strict=True)
        )
        scores.append(TaskScore(task.task_id, solved_by))
    return ScoreReport(tuple(scores))


def _solved_by(entry: dict[str, Any], solution: np.ndarray) -> int:
    for number, key in enumerate(ATTEMPT_KEYS, start=1):
        attempt = np.array(entry[key], dtype=np.uint8)  # validated: a rectangle of ints 0..9
        if attempt.shape == solution.shape and np.array_equal(attempt, solution):
            return number
    return 0


def format_report(report: ScoreReport, verbose: bool = False) -> str:
    """The summary lines; with `verbose`, a per-task table first (1/2 = solved by that attempt, . = not)."""
    lines = []
    if verbose:
        width = max(len("task"), *(len(t.task_id) for t in report.tasks))
        lines.append(f"{'task':<{width}}  score  solved  attempts")
        for t in report.tasks:
            marks = " ".join(str(a) if a else "." for a in t.solved_by)
            lines.append(f"{t.task_id:<{width}}  {t.score:5.3f}  {t.n_solved:>2}/{t.n_outputs:<3}  {marks}")
        lines.append("")
    n_tasks = len(report.tasks)
    task_total = sum(t.score for t in report.tasks)
    lines.append(f"score (mean over tasks): {report.score:.4f}  ({task_total:g} / {n_tasks} tasks)")
    lines.append(
        f"per-test-output mean:    {report.per_output:.4f}  ({report.n_solved} / {report.n_outputs} test outputs)"
    )
    lines.append(f"tasks fully solved:      {report.n_tasks_solved} / {n_tasks}")
    return "\n".join(lines)
