"""`arcsolve submission merge`: several submissions for the same tasks -> one, by priority.

Any solver's file can take part (the model's, the search's, another team's). Per test input the
candidates are, with `order="attempts"` (the default), every file's attempt_1 in the files' order,
then every file's attempt_2; with `order="files"`, the first file's two attempts, then the next
file's. The first two distinct valid grids are kept, and fallbacks fill what remains, so the result
is complete and valid even when a file misses tasks or holds invalid grids (those are counted and
reported, never copied).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from arcsolve.data.tasks import Task
from arcsolve.errors import BadInputError
from arcsolve.submission.attempts import as_valid_grid, default_fallbacks, grid_key, pick_attempts
from arcsolve.submission.validate import ATTEMPT_KEYS, load_submission
from arcsolve.submission.writer import Submission, write_submission

MergeOrder = Literal["attempts", "files"]


@dataclass
class MergeReport:
    files: list[str]
    first_from: list[int] = field(default_factory=list)  # per file: inputs whose attempt_1 it gave
    missing: list[int] = field(default_factory=list)  # per file: test inputs it has no valid grid for
    filled: int = 0  # attempts taken from fallbacks

    def lines(self) -> list[str]:
        out = [
            f"{name}: attempt_1 of {first} input(s); no valid answer for {missing}"
            for name, first, missing in zip(self.files, self.first_from, self.missing, strict=True)
        ]
        return out + [f"{self.filled} attempt(s) filled from fallbacks"]


def _read(path: str | Path) -> dict[str, Any]:
    obj, problems = load_submission(path)
    if problems:
        raise BadInputError(str(path), problems[0])
    if not isinstance(obj, dict):
        raise BadInputError(str(path), "expected an object mapping task ids to lists of attempts")
    return obj


def _answers(obj: dict[str, Any], task_id: str, index: int) -> list[Any]:
    """The valid attempt grids of one test input in a decoded submission, attempt_1 first."""
    entries = obj.get(task_id)
    if not isinstance(entries, list) or index >= len(entries) or not isinstance(entries[index], dict):
        return []
    grids = (as_valid_grid(entries[index].get(key)) for key in ATTEMPT_KEYS)
    return [g for g in grids if g is not None]


def merge_submissions(
    paths: Sequence[str | Path], tasks: Sequence[Task], out: str | Path, order: MergeOrder = "attempts"
) -> tuple[Submission, MergeReport]:
    """Merge the files at `paths` (highest priority first) for `tasks` and write `out` atomically."""
    if not paths:
        raise BadInputError("submission merge", "no submission files given")
    decoded = [_read(p) for p in paths]
    report = MergeReport([str(p) for p in paths], [0] * len(paths), [0] * len(paths))
    attempts: dict[str, list[list[Any]]] = {}
    for task in tasks:
        per_input = []
        for index in range(len(task.test_inputs)):
            answers = [_answers(obj, task.task_id, index) for obj in decoded]
            for k, found in enumerate(answers):
                report.missing[k] += not found
            if order == "attempts":
                ranked = [a[0] for a in answers if a] + [a[1] for a in answers if len(a) > 1]
            else:
                ranked = [g for a in answers for g in a]
            picked = pick_attempts(ranked, default_fallbacks(task, index), len(ATTEMPT_KEYS))
            source = next((k for k, a in enumerate(answers) if a), None)  # picked[0] is its first answer
            if source is not None:
                report.first_from[source] += 1
            ranked_keys = {grid_key(g) for g in ranked}
            report.filled += sum(grid_key(g) not in ranked_keys for g in picked)
            per_input.append(picked)
        attempts[task.task_id] = per_input
    return write_submission(out, tasks, attempts), report
