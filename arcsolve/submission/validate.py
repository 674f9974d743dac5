"""Check a submission against its tasks and report every problem, one line each.

The checker never raises on any input: a missing, unreadable or non-JSON file is one message; a
decoded value of any shape yields one message per problem, each naming the task and test index.
Grids are checked by `arcsolve.data.tasks.parse_grid`, the same rule that task files obey.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import orjson

from arcsolve.data.tasks import Task, parse_grid
from arcsolve.errors import BadInputError
from arcsolve.io import read_input_bytes

ATTEMPT_KEYS = ("attempt_1", "attempt_2")
_SHOWN_CHARS = 40
_SHOWN_KEYS = 3


class InvalidSubmissionError(BadInputError):
    """A submission that does not fit its tasks; `problems` holds every message for the CLI."""

    def __init__(self, where: str, problems: list[str]) -> None:
        super().__init__(where, f"invalid submission: {summarize_problems(problems)}")
        self.problems = list(problems)


def validate_submission(path_or_obj: Any, tasks: Sequence[Task]) -> list[str]:
    """Every problem of a submission for `tasks`; an empty list means it is valid.

    `path_or_obj` is a path (str or Path), the raw file bytes, or an already decoded object.
    """
    obj, problems = load_submission(path_or_obj)
    return problems or check_submission(obj, tasks)


def require_valid_submission(path_or_obj: Any, tasks: Sequence[Task]) -> Any:
    """The decoded submission; raise InvalidSubmissionError listing the problems when it is invalid."""
    obj, problems = load_submission(path_or_obj)
    problems = problems or check_submission(obj, tasks)
    if problems:
        where = str(path_or_obj) if isinstance(path_or_obj, (str, os.PathLike)) else "submission"
        raise InvalidSubmissionError(_show(where), problems)
    return obj


def load_submission(path_or_obj: Any) -> tuple[Any, list[str]]:
    """(decoded object, []) or (None, [one file-level message]); decoded objects pass through."""
    if isinstance(path_or_obj, (str, os.PathLike)):
        name = _show(str(path_or_obj), limit=200)
        try:
            raw = read_input_bytes(path_or_obj, "a JSON file")
        except BadInputError as err:
            return None, [f"{name}: {_one_line(err.what)}"]
    elif isinstance(path_or_obj, (bytes, bytearray, memoryview)):
        name = "submission"
        raw = bytes(path_or_obj)
    else:
        return path_or_obj, []
    if not raw.strip():
        return None, [f"{name}: empty file"]
    try:
        return orjson.loads(raw), []
    except orjson.JSONDecodeError as err:
        return None, [f"{name}: malformed JSON: {_one_line(str(err))}"]


def check_submission(obj: Any, tasks: Sequence[Task]) -> list[str]:
    """Every problem of a decoded submission, in task order, then unknown task ids."""
    if not isinstance(obj, dict):
        return [f"submission is {_describe(obj)}, expected an object mapping task ids to lists of attempts"]
    problems: list[str] = []
    for task in tasks:
        n_test = len(task.test_inputs)
        if task.task_id not in obj:
            problems.append(f"task {_show(task.task_id)}: missing (expected {_entries(n_test)})")
        else:
            problems += _check_task(obj[task.task_id], task)
    known = {task.task_id for task in tasks}
    problems += [
        f"task {_show_id(key)}: unknown task id, not in the task source" for key in obj if key not in known
    ]
    return problems


def _check_task(value: Any, task: Task) -> list[str]:
    where = f"task {_show(task.task_id)}"
    n_test = len(task.test_inputs)
    if not isinstance(value, list):
        return [f"{where}: is {_describe(value)}, expected a list of {_entries(n_test)}"]
    problems = []
    if len(value) != n_test:
        problems.append(f"{where}: has {_entries(len(value))}, expected {n_test} (one per test input)")
    for index, entry in enumerate(value[:n_test]):
        problems += _check_entry(entry, f"{where} test {index}")
    return problems


def _check_entry(entry: Any, where: str) -> list[str]:
    if not isinstance(entry, dict):
        return [f"{where}: entry is {_describe(entry)}, expected an object with attempt_1 and attempt_2"]
    problems = []
    extra = [key for key in entry if key not in ATTEMPT_KEYS]
    if extra:
        shown = ", ".join(_show_key(key) for key in extra[:_SHOWN_KEYS])
        more = f" (and {len(extra) - _SHOWN_KEYS} more)" if len(extra) > _SHOWN_KEYS else ""
        problems.append(f"{where}: unexpected key(s) {shown}{more}; only attempt_1 and attempt_2 are allowed")
    for key in ATTEMPT_KEYS:
        if key not in entry:
            problems.append(f"{where}: missing {key}")
            continue
        problem = _grid_problem(entry[key], f"{where}: {key}")
        if problem is not None:
            problems.append(problem)
    return problems


def _grid_problem(value: Any, what: str) -> str | None:
    try:
        parse_grid(value, what)
    except ValueError:
        # Only an int too long to turn into text lands here (decoded JSON never holds one).
        return f"{what} holds an integer too large to show, expected colours 0..9"
    except Exception as err:  # parse_grid's own problem type; its text is the message
        return _one_line(str(err))
    return None


def summarize_problems(problems: Sequence[str], limit: int = 3) -> str:
    """'N problem(s): first; second; third (and M more)', for one-line error messages."""
    shown = "; ".join(problems[:limit])
    more = f" (and {len(problems) - limit} more)" if len(problems) > limit else ""
    return f"{len(problems)} problem(s): {shown}{more}"


def _entries(n: int) -> str:
    return f"{n} entry" if n == 1 else f"{n} entries"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _show(text: str, limit: int = _SHOWN_CHARS) -> str:
    """Untrusted text made printable on one line and cut short."""
    if not text.isprintable():
        text = text.encode("unicode_escape", errors="backslashreplace").decode("ascii")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _show_key(key: Any) -> str:
    return f"'{_show(key)}'" if isinstance(key, str) else _describe(key)


def _show_id(key: Any) -> str:
    return _show(key) if isinstance(key, str) else _describe(key)


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"a number ({value})" if abs(value) < 10**18 else "a very large integer"
    if isinstance(value, float):
        return f"a number ({value!r})"
    if isinstance(value, str):
        return f"a string ('{_show(value, limit=20)}')"
    if isinstance(value, list):
        return f"a list of {len(value)} item(s)"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"
