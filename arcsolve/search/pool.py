"""Worker processes for the search: one task at a time per worker, results as they finish.

Each worker is a fresh `spawn`ed process (never a fork of a process that may hold torch threads or a
GPU context) with an address-space limit, so a task that eats memory fails with MemoryError inside its
own worker. Whatever happens to a task costs only that task: an exception becomes an error record; a
worker killed by the OS, or one past its task's hard deadline (killed here), is replaced and its task
gets a `died` or `timeout` record. Tasks are handed out one by one, so a fast task frees its worker
at once, and the time each gets is decided when it starts (`Schedule`), which spends a run budget
on the tasks still waiting.
"""

from __future__ import annotations

import multiprocessing
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from arcsolve.search.engine import SearchLimits
from arcsolve.search.ops import TaskView
from arcsolve.search.solve import solve_view, warm_up

SolveFn = Callable[[TaskView, SearchLimits], dict[str, Any]]
MIN_TASK_SECONDS = 0.05  # below this a task is not started: it keeps its fallbacks
READY = "ready"
KILL_GRACE_SECONDS = (
    5.0  # past its time, for the last op to return (or a kernel missed by warm_up to compile)
)
STARTUP_SECONDS = 300.0  # a worker not ready by then (imports, numba compilation) is given up


def failed_record(status: str, reason: str, seconds: float = 0.0) -> dict[str, Any]:
    return {"status": status, "reason": reason, "programs": [], "seconds": round(seconds, 4)}


def _limit_memory(memory_bytes: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _worker_main(conn: Connection, memory_bytes: int, solve: SolveFn) -> None:
    _limit_memory(memory_bytes)
    warm_up()  # compile (or load from numba's cache) every kernel before the first task's clock starts
    conn.send(READY)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        index, view, limits = job
        started = time.perf_counter()
        try:
            record = solve(view, limits)
        except MemoryError:
            record = failed_record(
                "error", "out of memory (the worker's limit)", time.perf_counter() - started
            )
        except Exception as err:  # a primitive's bug costs only this task
            reason = f"{type(err).__name__}: {err}"[:300]
            record = failed_record("error", reason, time.perf_counter() - started)
        conn.send((index, record))


@dataclass
class Schedule:
    """How long the next task may take: `task_seconds`, or less when a run deadline
    (`time.perf_counter()` seconds) must be met by the tasks still waiting."""

    task_seconds: float
    workers: int
    deadline: float | None = None
    kill_grace: float = KILL_GRACE_SECONDS

    def seconds_for_next(self, waiting: int) -> float | None:
        if self.deadline is None:
            return self.task_seconds
        left = self.deadline - time.perf_counter()
        share = min(self.task_seconds, left, left * self.workers / max(waiting, 1))
        return share if share >= MIN_TASK_SECONDS else None

    def hard_deadline(self, started: float, seconds: float) -> float:
        """When a task is killed: its time plus a grace for the last op, never past the run's end."""
        end = started + seconds + max(self.kill_grace, 0.5 * seconds)
        return end if self.deadline is None else min(end, self.deadline + 0.5)


@dataclass
class _Job:
    index: int
    started: float
    kill_at: float


class _Worker:
    def __init__(self, ctx: Any, memory_bytes: int, solve: SolveFn) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, memory_bytes, solve), daemon=True)
        self.process.start()
        child.close()
        self.job: _Job | None = None
        self.ready = False
        self.started = time.perf_counter()

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        else:
            try:
                self.conn.send(None)
            except OSError:
                pass
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def run_pool(
    views: list[TaskView],
    schedule: Schedule,
    limits_for: Callable[[float], SearchLimits],
    on_result: Callable[[int, dict[str, Any]], None],
    memory_mb: int,
    solve: SolveFn = solve_view,
    should_stop: Callable[[], bool] = lambda: False,
) -> list[int]:
    """Search every view on `schedule.workers` processes, calling `on_result(index, record)` as each
    finishes. Returns the indices never started (out of time, or stopped): they keep their fallbacks."""
    ctx = multiprocessing.get_context("spawn")
    memory_bytes = memory_mb * 2**20
    waiting = list(range(len(views)))[::-1]  # a stack: pop() hands out tasks in source order
    workers = [_Worker(ctx, memory_bytes, solve) for _ in range(min(schedule.workers, len(views)))]
    failed_starts = 0
    try:
        while waiting or any(w.job for w in workers):
            for worker in workers:
                if worker.ready and worker.job is None and waiting and not should_stop():
                    seconds = schedule.seconds_for_next(len(waiting))
                    if seconds is None:
                        break
                    index = waiting.pop()
                    now = time.perf_counter()
                    worker.job = _Job(index, now, schedule.hard_deadline(now, seconds))
                    worker.conn.send((index, views[index], limits_for(seconds)))
            if not any(w.job for w in workers) and (not waiting or should_stop() or _out_of_time(schedule)):
                break
            failed_starts += _collect(workers, ctx, memory_bytes, solve, on_result)
            if failed_starts > 2 * len(workers) + 1:
                raise RuntimeError(
                    f"search workers keep dying before their first task ({failed_starts} times)"
                )
    finally:
        for worker in workers:
            worker.stop(kill=worker.job is not None)
    return sorted(waiting)


def _out_of_time(schedule: Schedule) -> bool:
    return schedule.deadline is not None and time.perf_counter() >= schedule.deadline


def _collect(workers, ctx, memory_bytes, solve, on_result) -> int:
    """Wait for the next ready signal, result, death or overdue task among the workers and deal with
    it; return how many workers died (or hung) before taking a task."""
    waits = [w.job.kill_at if w.job else w.started + STARTUP_SECONDS for w in workers]
    timeout = max(0.0, min(waits) - time.perf_counter())
    ready = wait([w.conn for w in workers] + [w.process.sentinel for w in workers], timeout=timeout)
    now = time.perf_counter()
    failed_starts = 0
    for slot, worker in enumerate(workers):
        job = worker.job
        message = None
        if worker.conn in ready:
            try:
                message = worker.conn.recv()
            except (EOFError, OSError):
                message = None
        if message == READY:
            worker.ready = True
            continue
        if message is not None and job is not None:
            worker.job = None
            on_result(*message)
            continue
        ended = worker.conn in ready or worker.process.sentinel in ready
        overdue = now >= (job.kill_at if job else worker.started + STARTUP_SECONDS)
        if not (ended or overdue):
            continue
        if ended:  # the pipe closes a moment before the process can be reaped
            worker.process.join(timeout=2)
        worker.stop(kill=True)
        workers[slot] = _Worker(ctx, memory_bytes, solve)
        if job is None:  # died starting up: the fresh one takes its place
            failed_starts += 1
            continue
        status, reason = (
            ("died", f"worker died (exit code {worker.process.exitcode})")
            if ended
            else ("timeout", f"killed after {now - job.started:.1f} s (past its time)")
        )
        on_result(job.index, failed_record(status, reason, now - job.started))
    return failed_starts
