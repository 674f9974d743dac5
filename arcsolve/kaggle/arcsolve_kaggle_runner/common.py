"""Shared pieces of the runner: the log, atomic JSON writes, ARC grid checks and the exit codes."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

ATTEMPTS = ("attempt_1", "attempt_2")
MAX_SIDE = 30
CLOCK = {"started": time.monotonic()}

# Exit codes of run.py (the README's Kaggle section lists them too).
EXIT_OK = 0  # submission written; the model answered at least one test input
EXIT_NO_MODEL_ANSWER = 1  # submission written, but every test input holds fallbacks
EXIT_BAD_SETTINGS = 2  # a flag, environment variable or bundle.json was wrong; fallbacks written
EXIT_CHALLENGES_UNREADABLE = 3  # challenges missing or unparseable; built from sample_submission.json
EXIT_NOTHING_WRITTEN = 4  # challenges unreadable and no sample_submission.json: no file could be made
EXIT_SIGNAL_BASE = 128  # + the signal number: 130 after SIGINT, 143 after SIGTERM (file written)


def elapsed() -> float:
    return time.monotonic() - CLOCK["started"]


def log(message: str) -> None:
    print(f"[run.py {elapsed():8.1f}s] {message}", flush=True)


def banner(kind: str, lines: list[str]) -> None:
    """An unmissable block (ERROR or WARNING), once, on stderr, where notebooks show it red (a
    notebook cell shows stdout and stderr together, so a copy on each was seen twice)."""
    rule = "!" * 78
    text = "\n".join([rule, f"{kind}:", *(f"  {line}" for line in lines), rule])
    sys.stdout.flush()  # the log lines before it stay before it
    print(text, file=sys.stderr, flush=True)


def write_json_atomic(path: Path, obj: object, indent: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(obj, handle, indent=indent, separators=None if indent else (",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_json(path: Path, pairs_hook=None) -> object:
    """The decoded file (objects built by `pairs_hook` when given); raises ValueError naming the
    file and the problem in one line."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise ValueError(f"{path}: cannot read: {err.strerror or err}") from None
    if not raw.strip():
        raise ValueError(f"{path}: empty file")
    try:
        return json.loads(raw, object_pairs_hook=pairs_hook)
    except (ValueError, RecursionError) as err:
        raise ValueError(f"{path}: not valid JSON ({' '.join(str(err).split())})") from None


def grid_problem(value: object) -> str | None:
    """None for a valid ARC grid (1..30 x 1..30 integers 0..9), else what is wrong with it."""
    if not isinstance(value, list):
        return f"is {type(value).__name__}, expected a list of rows"
    if not 1 <= len(value) <= MAX_SIDE:
        return f"has {len(value)} rows, expected 1..{MAX_SIDE}"
    if not all(isinstance(row, list) for row in value):
        return "has a row that is not a list"
    width = len(value[0])
    if not 1 <= width <= MAX_SIDE or any(len(row) != width for row in value):
        return "is not a rectangle of 1..30 columns"
    if not all(type(cell) is int and 0 <= cell <= 9 for row in value for cell in row):
        return "holds a cell that is not an integer 0..9"
    return None


def is_grid(value: object) -> bool:
    return grid_problem(value) is None
