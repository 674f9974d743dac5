"""`arcsolve predict`: checkpoint + tasks -> TTA views -> model -> inverse transforms -> votes -> submission.

The order of work protects the submission:
1. load the tasks and write a complete model-free submission (`write_fallback_submission`) at once,
   so a valid file exists from the first second whatever happens next;
2. load the checkpoint and rebuild the model with its EMA (`eval_model`) weights;
   with --adapt-steps, give the tasks it does not know task embeddings of their own, trained on
   their train pairs (`adapt`; under a time budget `budget.adapt_and_plan` sizes that work);
3. plan the views (`views.plan_views`) and stream them through the model batch by batch: tokens in,
   argmax tokens out, decoded and inverted to the original frame in one numba pass, one vote each.
   Only one batch of logits exists at a time and the vote table holds distinct grids only, so
   memory stays flat however many views run;
4. with --rank poe or hybrid, the log-probabilities of each test input's first --poe-views views are
   kept (`poe.ViewStore`) and its candidates re-ranked by their summed log-probability at the end
   (`rank.rank_table`; time for it is reserved from the budget, and the submissions written while
   views run hold the vote order);
5. pick two attempts per test input (ranked candidates, then fallbacks) and replace the file
   atomically; write predictions.jsonl (ranked candidates, votes, PoE scores) beside it.

With the same checkpoint, tasks, tta, seed, batch size and device the submission is byte-identical.
A time budget stops feeding views once spent; the views are rank-major, so every test input has
had the same number of views when that happens. A SIGTERM stops the work the same way, writes the
votes so far, and ends with an error.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from arcsolve.augment import decode_views
from arcsolve.config import checked
from arcsolve.data.tasks import Task, load_tasks, load_tasks_skipping_bad
from arcsolve.errors import RunFailure
from arcsolve.io import remove_stale_temp_files
from arcsolve.model.act import evaluate_batch
from arcsolve.predict.adapt import AdaptReport
from arcsolve.predict.budget import (
    Stopper,
    adapt_and_plan,
    rank_reserve_seconds,
    reserve_seconds,
    rows_that_fit,
    stop_on_sigterm,
)
from arcsolve.predict.config import PredictConfig
from arcsolve.predict.ensemble import BackgroundSearch, finish_search
from arcsolve.predict.model import PredictModel, load_predict_model
from arcsolve.predict.outcome import write_predict_summary
from arcsolve.predict.poe import ViewStore, store_for_plan, view_log_probs
from arcsolve.predict.rank import rank_table, write_ranked_jsonl
from arcsolve.predict.summary import PredictSummary
from arcsolve.predict.views import ViewPlan, encode_plan_rows
from arcsolve.predict.vote import VoteTable, pass_at_k, vote_attempts
from arcsolve.progress import progress_bar
from arcsolve.runtime import resolve_device, set_cpu_threads
from arcsolve.submission import score_submission, write_fallback_submission, write_submission
from arcsolve.submission.writer import Submission

SUBMISSION_ATTEMPTS = 2
WRITE_EVERY = 10.0  # seconds between intermediate submissions while views are answered


@dataclass
class LoopStats:
    views: int = 0
    invalid: int = 0
    encode_seconds: float = 0.0
    model_seconds: float = 0.0
    decode_vote_seconds: float = 0.0  # decode + inverse transform + vote
    store_seconds: float = 0.0  # log-probabilities of the views kept for --rank poe / hybrid
    stopped_early: bool = False

    @property
    def loop_seconds(self) -> float:
        return self.encode_seconds + self.model_seconds + self.decode_vote_seconds + self.store_seconds


def answer_views(
    net: PredictModel,
    plan: ViewPlan,
    tasks: list[Task],
    table: VoteTable,
    batch_size: int,
    deadline: float | None = None,
    progress: bool = False,
    stopper: Stopper | None = None,
    save: Callable[[], None] | None = None,
    view_seconds: float | None = None,
    store: ViewStore | None = None,
) -> LoopStats:
    """Run every planned view through the model, batch by batch, voting as it goes; with `store`, also
    keep the log-probabilities of the views of rank < `store.max_views` (each input's first ones).

    With a deadline (`deadline`, a `time.monotonic()` value, or `stopper`'s) each batch holds only
    as many views as fit in the time left, at the cost per view of the last batch (or
    `view_seconds`, an estimate for the first); a SIGTERM seen by `stopper` stops before the next
    batch. `save` is called every WRITE_EVERY seconds, to replace the submission with the votes so far.
    """
    stats = LoopStats()
    device = net.model.puzzle_emb.device
    task_ids = [task.task_id for task in tasks]
    stopper = stopper or Stopper(deadline)
    saved_at, start = time.monotonic(), 0
    with progress_bar("predict", "views", progress) as bar:
        job = bar.add_task("predict", total=len(plan))
        while start < len(plan):
            rows = rows_that_fit(stopper, batch_size, view_seconds)
            if rows < 1:
                stats.stopped_early = True
                break
            if save is not None and time.monotonic() - saved_at >= WRITE_EVERY:
                save()
                saved_at = time.monotonic()
            began = time.perf_counter()
            views = plan.subset(slice(start, start + rows))
            start += len(views)
            tokens = encode_plan_rows(views, np.arange(len(views)), net.canvas)
            inputs = torch.from_numpy(tokens.astype(np.int64)).to(device)
            ids = torch.from_numpy(views.puzzle_ids.astype(np.int64)).to(device)
            batch = {"inputs": inputs, "labels": torch.zeros_like(inputs), "puzzle_ids": ids}
            encoded = time.perf_counter()
            outputs = evaluate_batch(net.model, batch)
            predicted = outputs.logits.argmax(-1).to(torch.uint8).cpu().numpy()
            confidence = torch.sigmoid(outputs.q_halt_logits.float()).cpu().numpy().tolist()
            modelled = time.perf_counter()
            if store is not None:
                _store_batch(store, task_ids, views, outputs.logits, net.model.cfg.loss)
            stored = time.perf_counter()
            del outputs  # the logits are the biggest tensor of the loop; never keep two batches
            stats.invalid += _vote_batch(table, task_ids, views, predicted, confidence, net.canvas)
            done = time.perf_counter()
            stats.views += len(views)
            stats.encode_seconds += encoded - began
            stats.model_seconds += modelled - encoded
            stats.store_seconds += stored - modelled
            stats.decode_vote_seconds += done - stored
            view_seconds = (done - began) / len(views)
            bar.update(job, completed=stats.views)
    return stats


def _store_batch(
    store: ViewStore, task_ids: list[str], views: ViewPlan, logits: torch.Tensor, loss: str
) -> None:
    """Keep the log-probabilities of the batch's rows that are among their input's first views."""
    kept = np.flatnonzero(views.rank < store.max_views)
    if not kept.size:
        return
    logprobs = view_log_probs(logits[torch.from_numpy(kept).to(logits.device)], loss)
    cells = zip(views.task_index[kept].tolist(), views.test_index[kept].tolist(), strict=True)
    keys = [(task_ids[t], i) for t, i in cells]
    store.add_rows(keys, logprobs, views.dihedrals[kept], views.colour_maps[kept])


def _vote_batch(
    table: VoteTable,
    task_ids: list[str],
    views: ViewPlan,
    predicted: np.ndarray,
    confidence: list[float],
    canvas: int,
) -> int:
    """Decode and invert one batch of predicted tokens, add one vote per view; return the invalid count."""
    grids, shapes = decode_views(predicted, canvas, views.dihedrals, views.colour_maps)
    cells = zip(
        views.task_index.tolist(), views.test_index.tolist(), shapes.tolist(), confidence, strict=True
    )
    invalid = 0
    for k, (t, i, (h, w), conf) in enumerate(cells):
        if not table.add(task_ids[t], i, grids[k, :h, :w] if h else None, conf):
            invalid += 1
    return invalid


def run_predict(cfg: PredictConfig, started: float | None = None) -> PredictSummary:
    """Answer every test input of `cfg.tasks` with the checkpoint; write the submission and predictions.

    The time budget counts from `started` (a `time.monotonic()` value; default: now) and the work is
    planned to end `reserve_seconds` before it runs out, and with --rank poe / hybrid the views a
    further `rank_reserve_seconds` earlier (inputs the ranking does not reach in time keep their vote
    order). A SIGTERM stops the work early, writes what was voted (in vote order), and raises
    RunFailure. The submission file is valid at every moment.
    """
    cfg = checked(cfg, "predict")  # types, choices and ranges, as for a config read from flags
    started = time.monotonic() if started is None else started
    budget = cfg.time_budget
    stopper = Stopper(started + budget - reserve_seconds(budget) if budget > 0 else None)
    tasks, bad_tasks = (
        load_tasks_skipping_bad(cfg.tasks) if cfg.skip_bad_tasks else (load_tasks(cfg.tasks), [])
    )
    out = Path(cfg.out)
    for path in (out, cfg.predictions_file(), cfg.summary_file()):  # what a killed run left
        remove_stale_temp_files(path)
    write_fallback_submission(out, tasks)
    background = BackgroundSearch(tasks, cfg.search_options, stopper.deadline) if cfg.search else None
    set_cpu_threads(cfg.cpu_threads)
    table = VoteTable()
    skipped: tuple[tuple[str, int], ...] = ()  # planned below; nothing is saved before that
    store: ViewStore | None = None
    inputs = sum(len(task.test_inputs) for task in tasks)

    def save(final: bool = False, stopped: str | None = None) -> Submission:
        submission = write_submission(out, tasks, vote_attempts(table, tasks, k=SUBMISSION_ATTEMPTS))
        write_predict_summary(cfg.summary_file(), tasks, table, skipped, bad_tasks, stopped, final)
        return submission

    with stop_on_sigterm(stopper):
        device = resolve_device(cfg.device, "predict --device")
        net = load_predict_model(cfg.checkpoint, device, cfg.forward_dtype)
        rank_reserve = 0.0
        if cfg.rank != "votes" and stopper.deadline is not None:  # the ranking at the end needs time too
            rank_reserve = rank_reserve_seconds(inputs, cfg.poe_views, cfg.poe_candidates, net.canvas)
            stopper.deadline -= rank_reserve
        net, plan, report, view_seconds = adapt_and_plan(net, tasks, cfg, stopper)
        skipped = plan.skipped
        if cfg.rank != "votes":
            store = store_for_plan(plan, [task.task_id for task in tasks], cfg.poe_views, net.canvas)
        # Under a budget the run may be killed at its end, so the votes so far go to disk as they come.
        midway = save if stopper.deadline is not None else None
        try:
            loop_args = (cfg.batch_size, None, cfg.progress, stopper, midway, view_seconds, store)
            stats = answer_views(net, plan, tasks, table, *loop_args)
        except RuntimeError as err:  # e.g. CUDA out of memory: keep what was voted, then fail loudly
            save(final=True, stopped=type(err).__name__)
            raise RunFailure(
                "predict", f"{err}; {out} holds the votes gathered so far plus fallbacks"
            ) from None
    stopped = stopper.signal or ("time budget" if stats.stopped_early else None)
    # The outcome of every input comes from the votes; the submission is written once, ranked.
    outcomes = write_predict_summary(cfg.summary_file(), tasks, table, skipped, bad_tasks, stopped, True)
    store_mb = 0.0 if store is None else store.nbytes / 2**20
    ranking_began = time.perf_counter()
    until = None if stopper.deadline is None else stopper.deadline + rank_reserve
    if stopper.signal is not None:  # asked to stop: no scoring, the vote order stands
        until = time.monotonic()
    ranked = rank_table(table, store, tasks, cfg.rank, cfg.poe_candidates, until)
    rank_seconds = time.perf_counter() - ranking_began
    searched, led = finish_search(background, ranked, tasks, cfg.search_model_share, until)
    if searched is not None:  # attempt 1 of some inputs is now a program's answer
        outcomes = write_predict_summary(
            cfg.summary_file(), tasks, table, skipped, bad_tasks, stopped, True, led
        )
    submission = write_submission(out, tasks, vote_attempts(ranked, tasks, k=SUBMISSION_ATTEMPTS))
    predictions = cfg.predictions_file()
    write_ranked_jsonl(predictions, ranked, tasks, cfg.max_candidates or None)
    if stopper.signal is not None:
        raise RunFailure(
            "predict",
            f"stopped by {stopper.signal} after {stats.views} of {len(plan)} views; "
            f"{out} holds their votes plus fallbacks",
        )
    ranking = (ranked, rank_seconds if store is not None else 0.0, store_mb)
    summary = _summary(cfg, tasks, plan, stats, ranking, submission, report, outcomes, started, predictions)
    return dataclasses.replace(summary, search=searched)


def _summary(
    cfg: PredictConfig,
    tasks: list[Task],
    plan: ViewPlan,
    stats: LoopStats,
    ranking: tuple[Any, float, float],
    submission: Submission,
    report: AdaptReport | None,
    outcomes: dict[str, Any],
    started: float,
    predictions: Path,
) -> PredictSummary:
    """The run's report: counts, speed, inputs answered by the model (from `outcomes`, the written
    predict_summary.json), pass@K of the ranked candidates and, when every test output is known,
    the written submission's score."""
    ranked, rank_seconds, store_mb = ranking
    out = Path(cfg.out)
    ks = sorted({1, SUBMISSION_ATTEMPTS, cfg.attempts})
    known = bool(tasks) and all(task.test_outputs is not None for task in tasks)
    loop = stats.loop_seconds
    return PredictSummary(
        out=out,
        predictions_path=predictions,
        tasks=len(tasks),
        test_inputs=sum(len(task.test_inputs) for task in tasks),
        unknown_tasks=len(plan.unknown),
        skipped_inputs=len(plan.skipped),
        views_planned=len(plan),
        views=stats.views,
        invalid_views=stats.invalid,
        seconds=time.monotonic() - started,
        model_seconds=stats.model_seconds,
        outside_model_fraction=(loop - stats.model_seconds) / loop if loop > 0 else 0.0,
        views_per_second=stats.views / loop if loop > 0 else 0.0,
        stopped_early=stats.stopped_early,
        pass_at_k=pass_at_k(ranked, tasks, ks),
        score=score_submission(submission, tasks).score if known else None,
        adapt=report,
        bad_tasks=len(outcomes["bad_tasks"]),
        rank=cfg.rank,
        rank_seconds=rank_seconds,
        store_seconds=stats.store_seconds,
        store_mb=store_mb,
        scored_inputs=ranked.scored_inputs,
        model_answered=outcomes["model_answered"],
        search_answered=outcomes.get("search_answered", 0),
        fallbacks=outcomes["fallback"],
    )
