"""The one progress display of long work (training steps, adaptation steps, predicted views, dataset
builds), on stderr so stdout stays the command's report.

On a terminal it is a rich bar, `label  ━━━━━━━  done/total  unit  time left`. When stderr is not a
terminal (a file, a pipe, a notebook cell) a bar would draw nothing useful, so it prints plain lines
instead, at most one every ARCSOLVE_PROGRESS_EVERY seconds (default 10):
`train: 120/400 steps (30%), 1.52/s, 3m 04s left, loss 1.873 exact 0.000`, and a last line when work
that printed any line ends. Disabled (`--quiet`), it shows nothing either way.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

EVERY_VARIABLE = "ARCSOLVE_PROGRESS_EVERY"
DEFAULT_EVERY = 10.0  # seconds between plain lines


def progress_bar(label: str, unit: str, enabled: bool, transient: bool = False) -> Progress | PlainProgress:
    """A rich Progress on a terminal, else a PlainProgress with the same calls (add_task, update,
    advance). `unit` is shown after the count and may name a task field, e.g.
    "{task.fields[info]}" for the training loop's loss line. Disabled, it shows nothing."""
    if enabled and not sys.stderr.isatty():
        return PlainProgress(label, unit, sys.stderr, plain_every())
    columns = (
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeRemainingColumn(),
    )
    return Progress(*columns, console=Console(stderr=True), disable=not enabled, transient=transient)


def plain_every() -> float:
    """Seconds between plain progress lines: ARCSOLVE_PROGRESS_EVERY, else 10."""
    text = os.environ.get(EVERY_VARIABLE, "").strip()
    try:
        seconds = float(text) if text else DEFAULT_EVERY
    except ValueError:
        return DEFAULT_EVERY
    return max(seconds, 0.0)


def duration(seconds: float) -> str:
    """`42s`, `3m 04s`, `2h 05m`: short enough for a progress line."""
    whole = int(round(seconds))
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"


@dataclass
class PlainTask:
    total: float | None
    completed: float
    fields: dict[str, Any]
    started: float
    first: float  # `completed` when the task was added: a resumed run's rate counts only new work
    printed: bool = False


@dataclass
class PlainProgress:
    """Plain progress lines for a stream that is not a terminal, at most one per `every` seconds."""

    label: str
    unit: str
    stream: TextIO
    every: float
    clock: Callable[[], float] = time.monotonic
    tasks: list[PlainTask] = field(default_factory=list)
    last_line: float = 0.0

    def __enter__(self) -> PlainProgress:
        self.last_line = self.clock()
        return self

    def __exit__(self, *exc: object) -> None:
        for job, task in enumerate(self.tasks):
            if task.printed and exc[0] is None:
                self._print(job, done=True)

    def add_task(
        self, description: str, total: float | None = None, completed: float = 0, **fields: Any
    ) -> int:
        now = self.clock()
        self.tasks.append(PlainTask(total, completed, dict(fields), now, completed))
        return len(self.tasks) - 1

    def update(
        self, task_id: int, completed: float | None = None, advance: float | None = None, **fields: Any
    ) -> None:
        task = self.tasks[task_id]
        if completed is not None:
            task.completed = completed
        if advance is not None:
            task.completed += advance
        task.fields.update(fields)
        now = self.clock()
        finished = task.total is not None and task.completed >= task.total  # the closing line says it
        if now - self.last_line >= self.every and not finished:
            self.last_line = now
            self._print(task_id, done=False)

    def advance(self, task_id: int, advance: float = 1) -> None:
        self.update(task_id, advance=advance)

    def line(self, task_id: int, done: bool = False) -> str:
        """`label: done/total unit (pct), rate/s, time left` (`done in <elapsed>` at the end), then
        the unit's fields when the unit names any (the training loop's loss line)."""
        task = self.tasks[task_id]
        elapsed = self.clock() - task.started
        rate = (task.completed - task.first) / elapsed if elapsed > 0 else 0.0
        templated = "{" in self.unit
        count = f"{task.completed:g}" + (f"/{task.total:g}" if task.total else "")
        if not templated:
            count += f" {self.unit}"
        if task.total:
            count += f" ({task.completed / task.total:.0%})"
        parts = [f"{self.label}: {count}", f"{rate:.2f}/s"]
        if done:
            parts.append(f"done in {duration(elapsed)}")
        elif task.total and rate > 0:
            parts.append(f"{duration((task.total - task.completed) / rate)} left")
        shown = self.unit.format(task=SimpleNamespace(fields=task.fields)).strip() if templated else ""
        if shown:
            parts.append(shown)
        return ", ".join(parts)

    def _print(self, task_id: int, done: bool) -> None:
        self.tasks[task_id].printed = True
        print(self.line(task_id, done), file=self.stream, flush=True)
