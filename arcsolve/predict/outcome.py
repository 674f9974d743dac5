"""What happened to each test input of a `predict` run, as `predict_summary.json` beside the submission.

Every test input ends in one of these outcomes:
- `search` (predict --search): attempt 1 is a program's answer (a program fitted every train pair);
- `model`: at least one view decoded to a valid grid, so attempt 1 is the model's top-voted answer;
- `too big for the canvas`: a side longer than the checkpoint's canvas, so no view was planned;
- `no valid prediction`: every view it got decoded to no valid grid;
- `out of time`: the time budget ran out before any of its views ran;
- `stopped (SIGTERM)`: a stop request came before any of its views ran;
- `pending`: not reached yet (only in the summaries written while the run goes on).
Each of the last five means the submission holds fallback attempts for it. Tasks that fail
validation under `--skip-bad-tasks` are listed under `bad_tasks` with their one-line problem; they
are not in the submission at all (the caller gives them fallbacks).

The file is rewritten atomically each time the submission is, so a run killed at any moment leaves a
summary that matches the submission on disk at most one save behind (`final` says which).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from arcsolve.data.tasks import BadTaskError, Task
from arcsolve.io import atomic_write_json
from arcsolve.predict.vote import VoteTable

SUMMARY_FORMAT = 1
MODEL = "model"
SEARCH = "search"
TOO_BIG = "too big for the canvas"
NO_VALID = "no valid prediction"
OUT_OF_TIME = "out of time"
PENDING = "pending"


def input_outcomes(
    tasks: Sequence[Task],
    table: VoteTable,
    skipped: Sequence[tuple[str, int]],
    stopped: str | None,
    final: bool,
    searched: frozenset[tuple[str, int]] = frozenset(),
) -> dict[str, list[str]]:
    """{task id: [outcome per test input]}. `stopped` is None, "time budget" or a signal name;
    `searched` holds the inputs whose attempt 1 came from the search."""
    too_big = set(skipped)
    unreached = PENDING
    if final:
        unreached = OUT_OF_TIME if stopped in (None, "time budget") else f"stopped ({stopped})"
    outcomes: dict[str, list[str]] = {}
    for task in tasks:
        row = []
        for index in range(len(task.test_inputs)):
            if (task.task_id, index) in searched:
                row.append(SEARCH)
            elif table.ranked(task.task_id, index):
                row.append(MODEL)
            elif (task.task_id, index) in too_big:
                row.append(TOO_BIG)
            elif table.invalid_count(task.task_id, index):
                row.append(NO_VALID)
            else:
                row.append(unreached)
        outcomes[task.task_id] = row
    return outcomes


def answered_line(
    model_answered: int, test_inputs: int, fallbacks: dict[str, int], search_answered: int = 0
) -> str:
    """`inputs: 3 of 5 answered by the model; 2 hold fallback attempts (2 no valid prediction)`
    (with `, 1 by the search` after the model's count when predict --search answered some)."""
    line = f"inputs: {model_answered} of {test_inputs} answered by the model"
    if search_answered:
        line += f", {search_answered} by the search"
    held = sum(fallbacks.values())
    if held:
        why = ", ".join(
            f"{n} {reason}" for reason, n in sorted(fallbacks.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        line += f"; {held} hold fallback attempts ({why})"
    return line


def summary_document(
    outcomes: dict[str, list[str]], bad_tasks: Sequence[BadTaskError], stopped: str | None, final: bool
) -> dict[str, Any]:
    counts = Counter(outcome for row in outcomes.values() for outcome in row)
    model, search = counts.pop(MODEL, 0), counts.pop(SEARCH, 0)
    return {
        "format": SUMMARY_FORMAT,
        "final": final,
        "tasks": len(outcomes),
        "test_inputs": model + search + sum(counts.values()),
        "model_answered": model,
        "search_answered": search,
        "fallback": dict(sorted(counts.items())),
        "stopped": stopped,
        "bad_tasks": [{"task": bad.task_id, "problem": bad.one_line()} for bad in bad_tasks],
        "inputs": outcomes,
    }


def write_predict_summary(
    path: str | Path,
    tasks: Sequence[Task],
    table: VoteTable,
    skipped: Sequence[tuple[str, int]],
    bad_tasks: Sequence[BadTaskError] = (),
    stopped: str | None = None,
    final: bool = False,
    searched: frozenset[tuple[str, int]] = frozenset(),
) -> dict[str, Any]:
    """Write the summary for the votes in `table` atomically; return it."""
    outcomes = input_outcomes(tasks, table, skipped, stopped, final, searched)
    document = summary_document(outcomes, bad_tasks, stopped, final)
    atomic_write_json(path, document, indent=True)
    return document
