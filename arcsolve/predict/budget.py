"""Time budget and stop requests for `predict`, and the adaptation + view planning that uses them.

A run with a time budget must end on time with the best submission it has. The pieces:
- `Stopper`: the run's deadline plus a flag set by SIGTERM; the adaptation loop and the view loop
  ask it before each step or batch whether to go on.
- `stop_on_sigterm`: while inside, the first SIGTERM only sets the flag (the loops then stop, the
  votes gathered so far are written, and predict exits with an error line); a second SIGTERM acts
  as before (usually: the process dies, and the last file written atomically stays valid).
- `plan_work`: splits the time left between adaptation steps and views from measured costs of one
  step and one view. Views come first: every test input's identity view is always planned, and
  when not everything fits, the views get at least `view_share` of the time (as many as they need
  up to that), adaptation the rest. Whatever adaptation leaves unused goes to views.
- `adapt_and_plan`: times a few real adaptation steps and one small view batch, plans with
  `plan_work`, adapts, and plans the views; `rows_that_fit` then sizes each view batch to the
  time left, so the last batch does not overrun the deadline.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from arcsolve.data.tasks import Task
from arcsolve.model.act import act_step, initial_carry
from arcsolve.predict.adapt import AdaptReport, start_adaptation
from arcsolve.predict.adapt_tracking import log_adaptation
from arcsolve.predict.config import PredictConfig
from arcsolve.predict.model import PredictModel
from arcsolve.predict.views import ViewPlan, encode_plan_rows, plan_views


class Stopper:
    """Answers "stop now?" for a loop: past the deadline (or a nearer `until`) or signalled."""

    def __init__(self, deadline: float | None = None) -> None:
        self.deadline = deadline  # a time.monotonic() value, or None for no limit
        self.signal: str | None = None  # the name of the signal that asked to stop

    def seconds_left(self) -> float:
        return math.inf if self.deadline is None else self.deadline - time.monotonic()

    def should_stop(self, next_cost: float = 0.0, until: float | None = None) -> bool:
        """True when signalled, or when work costing `next_cost` seconds would end after the
        deadline or `until`."""
        if self.signal is not None:
            return True
        ends = [t for t in (self.deadline, until) if t is not None]
        return bool(ends) and time.monotonic() + next_cost > min(ends)


@contextlib.contextmanager
def stop_on_sigterm(stopper: Stopper) -> Iterator[Stopper]:
    """Turn the first SIGTERM into `stopper.signal = "SIGTERM"` inside the block (main thread only;
    elsewhere Python cannot install handlers and the block runs unchanged)."""
    if threading.current_thread() is not threading.main_thread():
        yield stopper
        return
    previous = signal.getsignal(signal.SIGTERM)

    def handler(signum: int, frame: object) -> None:
        stopper.signal = signal.Signals(signum).name
        signal.signal(signal.SIGTERM, previous)  # a second SIGTERM is not ignored

    signal.signal(signal.SIGTERM, handler)
    try:
        yield stopper
    finally:
        signal.signal(signal.SIGTERM, previous)


def process_age() -> float:
    """Seconds since this process started (Linux /proc; 0.0 where unknown). The CLI counts its time
    budget from there, so the seconds spent importing torch count too."""
    try:
        with open("/proc/self/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        with open("/proc/uptime", "rb") as handle:
            uptime = float(handle.read().split()[0])
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22 of stat: start time in ticks
    except (OSError, ValueError, IndexError):
        return 0.0
    return max(0.0, uptime - started)


def rows_that_fit(stopper: Stopper, batch_size: int, per_row: float | None, first: int = 8) -> int:
    """Rows for the next batch: `batch_size` without a deadline; with one, as many as fit in the
    time left at `per_row` seconds each (unknown: a small first batch of `first`, which measures
    it); 0 means stop."""
    if stopper.should_stop():
        return 0
    if stopper.deadline is None:
        return batch_size
    if per_row is None or per_row <= 0:
        return min(batch_size, first)
    return max(0, min(batch_size, int(stopper.seconds_left() / per_row)))


def reserve_seconds(budget: float) -> float:
    """Time kept back from a budget for writing the files, errors in the cost estimates, and the
    interpreter's exit (torch and numba take 1-3 s to tear down on a busy machine)."""
    return min(30.0, 2.0 + 0.04 * budget)


@dataclass(frozen=True)
class WorkPlan:
    steps: int  # adaptation steps to run
    views: int  # views expected to be answered in the time left after them
    adapt_seconds: float  # time given to adaptation
    view_seconds: float  # time given to views


def plan_work(
    available: float,
    step_seconds: float,
    view_seconds: float,
    steps_wanted: int,
    views_wanted: int,
    min_views: int,
    view_share: float = 0.5,
) -> WorkPlan:
    """Split `available` seconds between `steps_wanted` adaptation steps and `views_wanted` views.

    `min_views` (one view per test input) are always planned first; then, if everything does not
    fit, views get up to `view_share` of the time and adaptation the rest; time adaptation cannot
    use goes back to views.
    """
    available = max(0.0, available)
    need_steps = steps_wanted * step_seconds
    need_views = views_wanted * view_seconds
    if need_steps + need_views <= available:
        return WorkPlan(steps_wanted, views_wanted, need_steps, need_views)
    floor_views = min(need_views, min_views * view_seconds)
    view_time = max(floor_views, min(need_views, view_share * available))
    adapt_time = max(0.0, available - view_time)
    steps = steps_wanted if step_seconds <= 0 else min(steps_wanted, int(adapt_time / step_seconds))
    adapt_time = steps * step_seconds
    view_time = available - adapt_time
    views = views_wanted if view_seconds <= 0 else min(views_wanted, int(view_time / view_seconds))
    return WorkPlan(steps, views, adapt_time, view_time)


def view_cost(net: PredictModel, plan: ViewPlan, rows: int = 8) -> float:
    """Seconds per view, measured on the plan's first `rows` views: one eval supervision step, timed
    after a warm-up step, times the number of steps a view takes. A small batch is cheap to time and
    costs more per view than a full one, so the estimate errs on the safe side."""
    views = plan.subset(slice(0, rows))
    if not len(views):
        return 0.0
    device = net.model.puzzle_emb.device
    inputs = torch.from_numpy(encode_plan_rows(views, np.arange(len(views)), net.canvas).astype(np.int64))
    ids = torch.from_numpy(views.puzzle_ids.astype(np.int64))
    batch = {
        "inputs": inputs.to(device),
        "labels": torch.zeros_like(inputs, device=device),
        "puzzle_ids": ids.to(device),
    }
    with torch.no_grad():
        carry = initial_carry(net.model, batch)
        carry, _ = act_step(net.model, carry, batch)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        began = time.perf_counter()
        act_step(net.model, carry, batch)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
    return (time.perf_counter() - began) * net.model.cfg.halt_max_steps / len(views)


def adapt_and_plan(
    net: PredictModel, tasks: list[Task], cfg: PredictConfig, stopper: Stopper
) -> tuple[PredictModel, ViewPlan, AdaptReport | None, float | None]:
    """Adapt the unknown tasks (as many steps as the time budget allows) and plan every view;
    return also the measured seconds per view (None when not measured)."""
    adapter = None
    if cfg.adapt.steps > 0:
        net, adapter = start_adaptation(net, tasks, cfg, cfg.batch_size)
    plan = plan_views(
        tasks, cfg.tta, cfg.seed, net.canvas, net.aug_table, net.task_ids, permute_black=net.permute_black
    )
    if adapter is None:
        return net, plan, None, None
    report = AdaptReport(steps_planned=cfg.adapt.steps)
    if cfg.adapt.holdout:
        report.holdout_before, report.holdout_tokens_before = adapter.holdout_accuracy(cfg.batch_size)
    until = per_view = None
    if stopper.deadline is not None:  # time a few real steps and a view, then plan the rest
        adapter.run(min(3, cfg.adapt.steps), lambda last: stopper.should_stop(last))
        held = len(adapter.examples.held_inputs)
        per_view = view_cost(net, plan)
        work = plan_work(
            stopper.seconds_left(),
            adapter.step_cost(),
            per_view,
            cfg.adapt.steps - adapter.steps,
            len(plan) + held,
            int((plan.rank == 0).sum()) + held,
        )
        # No step done means the time was gone already: plan none rather than trust a zero cost.
        report.steps_planned = adapter.steps + (work.steps if adapter.steps else 0)
        until = time.monotonic() + work.adapt_seconds
    adapter.run(
        report.steps_planned - adapter.steps,
        lambda last: stopper.should_stop(last, until=until),
        cfg.progress,
    )
    if cfg.adapt.holdout and not stopper.should_stop():
        report.holdout_after, report.holdout_tokens_after = adapter.holdout_accuracy(cfg.batch_size)
    adapter.fill_report(report)
    log_adaptation(cfg, adapter.history, report)
    return net, plan, report, per_view


# Seconds `rank.rank_table` needs per test input and per (candidate, stored view) pair on a 30x30
# canvas; see rank_reserve_seconds.
RANK_SECONDS_PER_INPUT = 5e-3
RANK_SECONDS_PER_PAIR = 1e-4


def rank_reserve_seconds(test_inputs: int, poe_views: int, poe_candidates: int, canvas: int) -> float:
    """Time kept back from the views for ranking by product of experts at the end: 1 s, plus per test
    input a fixed cost and one per (candidate, view) pair scaled by the canvas area; the candidates
    are the top `poe_candidates` voted plus about one argmax grid per shape (counted as half as many
    again). Measured: 31 ms per input at 30x30, 32 views, 10 voted candidates of 4 shapes, on the
    2-core machine at load 6; this gives 53 ms. An input the ranking does not reach in time keeps its
    vote order, so an underestimate costs ranking quality, never the deadline."""
    pairs = 1.5 * poe_candidates * poe_views * (canvas * canvas) / 900
    return 1.0 + test_inputs * (RANK_SECONDS_PER_INPUT + pairs * RANK_SECONDS_PER_PAIR)
