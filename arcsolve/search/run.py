"""`arcsolve search`: tasks -> program search on worker processes -> submission.json + search.jsonl.

The order of work protects the submission, as predict's does: a complete fallback submission is
written before any search starts; each task's answers replace its fallbacks when its record comes
back; the file is rewritten atomically at the end (and every `WRITE_EVERY` seconds while the run
goes on), so an interrupted run still leaves a valid file. Tasks that fail validation are listed
with their reason and left out (the source's valid tasks are answered). Test outputs are never given
to the search: workers receive `TaskView`s, which hold train pairs and test inputs only.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from arcsolve.data.tasks import Task, load_tasks_skipping_bad
from arcsolve.errors import RunFailure
from arcsolve.io import atomic_write_bytes
from arcsolve.progress import progress_bar
from arcsolve.search.config import SearchConfig, SearchOptions
from arcsolve.search.ops import TaskView
from arcsolve.search.pool import Schedule, failed_record, run_pool
from arcsolve.submission import score_submission, write_fallback_submission, write_submission
from arcsolve.submission.attempts import default_fallbacks, pick_attempts

WRITE_EVERY = 10.0
SUBMISSION_ATTEMPTS = 2


def write_reserve(budget: float) -> float:
    """Seconds kept back from a run budget to write the files and exit."""
    return min(30.0, 1.0 + 0.02 * budget)


@dataclass
class SearchRun:
    tasks: list[Task]
    records: list[dict[str, Any]]
    bad: list[str] = field(default_factory=list)  # "task_id: reason" of tasks left out
    log_file: str = ""
    score: float | None = None
    seconds: float = 0.0

    def lines(self) -> list[str]:
        counts: dict[str, int] = {}
        for record in self.records:
            counts[record["status"]] = counts.get(record["status"], 0) + 1
        states = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        out = [f"{len(self.tasks)} task(s) in {self.seconds:.1f} s: {states}"]
        out += [f"left out (invalid): {bad}" for bad in self.bad]
        if self.score is not None:
            out.append(f"pass@2 task score {self.score:.4f}")
        return out


def search_attempts(task: Task, record: dict[str, Any]) -> list[list[np.ndarray]]:
    """Two attempts per test input: the programs' answers in rank order, then fallbacks."""
    per_input = []
    for index in range(len(task.test_inputs)):
        ranked = [np.asarray(p["test_outputs"][index], dtype=np.uint8) for p in record["programs"]]
        per_input.append(pick_attempts(ranked, default_fallbacks(task, index), SUBMISSION_ATTEMPTS))
    return per_input


def search_records(
    tasks: Sequence[Task],
    options: SearchOptions,
    workers: int,
    deadline: float | None,
    on_done: Callable[[], None] = lambda: None,
    should_stop: Callable[[], bool] = lambda: False,
) -> list[dict[str, Any]]:
    """A record per task, in task order (see solve.solve_view; tasks never started say why)."""
    views = [TaskView.from_task(task) for task in tasks]
    records: list[dict[str, Any] | None] = [None] * len(views)

    def on_result(index: int, record: dict[str, Any]) -> None:
        records[index] = record
        on_done()

    schedule = Schedule(options.task_seconds, workers, deadline)
    try:
        never = run_pool(
            views, schedule, options.limits, on_result, options.memory_mb, should_stop=should_stop
        )
    except RuntimeError as err:  # the workers cannot start here: every task keeps its fallbacks
        raise RunFailure("search", str(err)) from None
    for index in never:
        records[index] = failed_record(
            "skipped", "not started: out of time" if not should_stop() else "stopped"
        )
    out = []
    for task, record in zip(tasks, records, strict=True):
        record = record or failed_record("skipped", "no result")
        out.append({"task_id": task.task_id, **record})
    return out


def run_search(cfg: SearchConfig, echo: Callable[[str], None] = print) -> SearchRun:
    cfg.validate()
    started = time.perf_counter()
    tasks, bad = load_tasks_skipping_bad(cfg.tasks)
    write_fallback_submission(cfg.out, tasks)
    deadline = started + cfg.time_budget - write_reserve(cfg.time_budget) if cfg.time_budget else None
    stop = threading.Event()
    previous = _stop_on_sigterm(stop)
    try:
        with progress_bar("search", "tasks", cfg.progress) as bar:
            job = bar.add_task("search", total=len(tasks))
            workers = cfg.options.worker_count()
            records = search_records(
                tasks, cfg.options, workers, deadline, lambda: bar.advance(job), stop.is_set
            )
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    attempts = {t.task_id: search_attempts(t, r) for t, r in zip(tasks, records, strict=True)}
    write_submission(cfg.out, tasks, attempts)
    atomic_write_bytes(cfg.log_file(), b"".join(orjson.dumps(r) + b"\n" for r in records))
    run = SearchRun(tasks, records, [f"{b.task_id}: {b.what}" for b in bad], log_file=str(cfg.log_file()))
    if tasks and all(t.has_solutions for t in tasks):
        run.score = score_submission(cfg.out, tasks).score
    run.seconds = time.perf_counter() - started
    return run


def _stop_on_sigterm(stop: threading.Event):
    """SIGTERM stops handing out tasks; those running finish, and the files are written."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, lambda *_: stop.set())
