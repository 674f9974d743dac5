"""The Kaggle ARC Prize 2024/2025 submission file.

Format: `{task_id: [{"attempt_1": grid, "attempt_2": grid}, ...]}` with one object per test input in
the task's order and every task of the challenge file present, in source order. The writer refuses
to produce anything incomplete: a submission that Kaggle would reject is worse than an error.

Output bytes depend only on the tasks and the attempts (compact orjson, insertion-ordered keys), so
the same predictions always give the same file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from arcsolve.data.tasks import Task
from arcsolve.errors import RunFailure
from arcsolve.io import atomic_write_bytes
from arcsolve.submission.attempts import as_valid_grid, fallback_attempts
from arcsolve.submission.validate import ATTEMPT_KEYS, check_submission, summarize_problems

Submission = dict[str, list[dict[str, list[list[int]]]]]


def build_submission(tasks: Sequence[Task], attempts: Mapping[str, Sequence[Sequence[Any]]]) -> Submission:
    """The submission object for `tasks` from `attempts[task_id][test_index] = [grid_1, grid_2]`.

    Grids may be NumPy integer arrays or lists of rows; they come out as lists of lists of Python
    ints. Raises RunFailure listing every problem (a missing task or test input, a wrong number of
    attempts, an invalid grid, attempts for a task that is not in `tasks`) instead of writing less.
    """
    problems: list[str] = []
    known = {task.task_id for task in tasks}
    submission: Submission = {}
    for task in tasks:
        per_test = attempts.get(task.task_id)
        if per_test is None:
            problems.append(f"task {task.task_id}: no attempts")
            continue
        n_test = len(task.test_inputs)
        if len(per_test) != n_test:
            problems.append(
                f"task {task.task_id}: attempts for {len(per_test)} test input(s), expected {n_test}"
            )
            continue
        entries = []
        for index, grids in enumerate(per_test):
            entry = _entry(grids, f"task {task.task_id} test {index}", problems)
            if entry is not None:
                entries.append(entry)
        submission[task.task_id] = entries
    problems += [
        f"task {task_id}: attempts given but not in the tasks" for task_id in attempts if task_id not in known
    ]
    if not problems:
        # Belt and braces: what we hand out must pass the same check users run.
        problems = check_submission(submission, tasks)
    if problems:
        raise RunFailure(
            "submission", f"refusing to write an incomplete submission: {summarize_problems(problems)}"
        )
    return submission


def _entry(grids: Sequence[Any], where: str, problems: list[str]) -> dict[str, list[list[int]]] | None:
    if len(grids) != len(ATTEMPT_KEYS):
        problems.append(f"{where}: {len(grids)} attempt(s), expected {len(ATTEMPT_KEYS)}")
        return None
    entry = {}
    for key, grid in zip(ATTEMPT_KEYS, grids, strict=True):
        valid = as_valid_grid(grid)
        if valid is None:
            problems.append(f"{where}: {key} is not a 1..30 x 1..30 integer grid of colours 0..9")
            return None
        entry[key] = valid.tolist()  # uint8 -> nested lists of Python ints
    return entry


def submission_bytes(submission: Submission) -> bytes:
    """The file contents: compact JSON, keys in insertion order (tasks in source order)."""
    return orjson.dumps(submission)


def write_submission(
    path: str | Path, tasks: Sequence[Task], attempts: Mapping[str, Sequence[Sequence[Any]]]
) -> Submission:
    """Build the submission (raising on any gap) and write it atomically; return the object."""
    submission = build_submission(tasks, attempts)
    atomic_write_bytes(path, submission_bytes(submission))
    return submission


def fallback_submission(tasks: Sequence[Task]) -> Submission:
    """A complete, valid submission with no model: per test input the first two distinct
    `default_fallbacks` (usually attempt_1 = the test input, attempt_2 = a blank grid of the
    guessed output shape). `predict` writes this first so that a valid file exists at once."""
    return build_submission(tasks, fallback_attempts(tasks, k=len(ATTEMPT_KEYS)))


def write_fallback_submission(path: str | Path, tasks: Sequence[Task]) -> Submission:
    submission = fallback_submission(tasks)
    atomic_write_bytes(path, submission_bytes(submission))
    return submission
