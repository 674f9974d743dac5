"""`arcsolve train`: one flat loop. Each step is one ACT supervision step on one batch.

Per step: lr from the schedule; the next batch of example rows; `act_step` (halted slots take new rows);
loss on the carry's data; backward of loss / global batch; gradients summed over ranks; optimizer
steps (weights, then the sparse task-embedding rows); EMA update. "Once in a while" blocks log,
evaluate and checkpoint; `last_step` makes the final evaluation and save no special case.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from arcsolve.config import to_toml
from arcsolve.data.dataset import TokenDataset
from arcsolve.errors import BadInputError, ConfigError, RunFailure
from arcsolve.io import atomic_write_text
from arcsolve.model.losses import finalize_metrics
from arcsolve.model.trm import TRM, count_parameters
from arcsolve.progress import progress_bar
from arcsolve.runtime import resolve_device, set_cpu_threads
from arcsolve.train import distributed as dist
from arcsolve.train.batches import BatchCursor, TrainBatches
from arcsolve.train.checkpoint import git_revision, latest_checkpoint, load_checkpoint, save_checkpoint
from arcsolve.train.config import RunConfig
from arcsolve.train.data import BatchFeed, open_dataset
from arcsolve.train.evaluate import evaluate_split
from arcsolve.train.metrics import MetricsLog
from arcsolve.train.plan import StepPlan, TrainShape, epochs_per_interval, step_plan
from arcsolve.train.state import TrainState, build_state, gather_carries, restore_state, state_payload
from arcsolve.train.step import FiniteWatch, train_step
from arcsolve.train.trackers import train_trackers


def total_steps(cfg: RunConfig, batches: TrainBatches) -> int:
    return _plan(cfg, batches).total_steps


def _plan(cfg: RunConfig, batches: TrainBatches) -> StepPlan:
    shape = TrainShape.of_indices(batches.group_index, batches.puzzle_index)
    whole = batches.batches_per_epoch() if cfg.train.step_accounting == "whole_batches" else None
    return step_plan(cfg.train, shape, whole)


def _prepare_run_dir(out: Path, resume: bool, is_main: bool) -> None:
    # Every rank checks (reading is safe), so under torchrun all ranks stop together instead of
    # the others waiting forever in the first collective for a rank 0 that has already quit.
    if not resume and latest_checkpoint(out) is not None:
        raise BadInputError(
            str(out), "run directory already has checkpoints; pass --resume or choose another --out"
        )
    if is_main:
        out.mkdir(parents=True, exist_ok=True)


def run_train(
    cfg: RunConfig,
    out: Path,
    max_steps: int | None = None,
    resume: bool = False,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Train (or resume) the run in `out`; returns the final metrics. Works under torchrun."""
    tc = cfg.train
    if max_steps is not None and max_steps < 1:
        raise ConfigError("--max-steps", f"must be >= 1, got {max_steps}")
    device = resolve_device(tc.device, "train.device")
    info = dist.init_distributed(device)
    device = dist.local_device(device, info)
    dist.enable_tf32(device)
    set_cpu_threads(tc.cpu_threads)
    show = progress is not False and info.is_main  # plain lines when stderr is not a terminal
    try:
        _prepare_run_dir(out, resume, info.is_main)
        dataset = open_dataset(cfg.data, info.local_rank == 0, show)
        return _train(cfg, out, dataset, device, info, max_steps, resume, show)
    finally:
        dist.shutdown(info)


def _start_or_resume(
    cfg: RunConfig, out: Path, dataset: TokenDataset, device: torch.device, info: dist.DistInfo, resume: bool
) -> tuple[TrainState, TrainBatches, MetricsLog]:
    """A fresh state, or the run's latest checkpoint restored into it; the metrics log and the
    written config.toml agree with it; every rank holds rank 0's weights."""
    tc = cfg.train
    train_split = dataset.split("train")
    # Nothing in the step draws from torch's global RNG today, but whatever does later (dropout,
    # a random op) is then seeded per rank and its state, saved in checkpoints, means something.
    torch.manual_seed(tc.seed + info.rank)
    state = build_state(cfg, dataset, device)
    ordered = int(dataset.meta.get("ordered_groups", 0))  # a curriculum's stages, read first (batches.py)
    batches = _batches(cfg, train_split.group_index, train_split.puzzle_index, info, ordered)
    log = MetricsLog(out / "metrics.jsonl", enabled=info.is_main)
    checkpoint = latest_checkpoint(out) if resume else None
    if checkpoint is not None:
        # Read from the file (mapped, on the CPU) and copied into the live tensors; nothing of the
        # payload stays alive after this block.
        payload = load_checkpoint(checkpoint, map_location="cpu", mmap=True)
        restore_state(state, payload, dataset, str(checkpoint), info)
        batches.cursor = BatchCursor(**payload["cursor"])
        del payload
    # Lines after the restored step (or every line, when starting from step 0: a run killed before
    # its first checkpoint) will be logged again; keeping them would duplicate steps.
    kept = state.step if checkpoint is not None else -1
    log.truncate_after(kept)
    if info.is_main:  # only now: a refused --resume must not overwrite the run's config
        atomic_write_text(out / "config.toml", to_toml(asdict(cfg)))
    log.trackers = train_trackers(cfg, out, kept + 1, info.is_main)
    dist.broadcast_module(state.model, info)
    return state, batches, log


def _train(
    cfg: RunConfig,
    out: Path,
    dataset: TokenDataset,
    device: torch.device,
    info: dist.DistInfo,
    max_steps: int | None,
    resume: bool,
    show: bool,
) -> dict[str, Any]:
    tc = cfg.train
    state, batches, log = _start_or_resume(cfg, out, dataset, device, info, resume)
    # The schedule runs over the config's horizon; --max-steps only stops early, so a run cut into
    # pieces with --max-steps and --resume follows the same learning rates as one straight run.
    plan = _plan(cfg, batches)
    horizon = plan.total_steps
    end = horizon if max_steps is None else min(max_steps, horizon)
    if info.is_main and state.step == 0:
        count = count_parameters(state.model)
        header = {"params": count.weights, "puzzle_embedding_numbers": count.puzzle_embedding}
        # total_steps: where this run stops (--max-steps honoured); schedule_steps: the lr horizon.
        steps = {"total_steps": end, "schedule_steps": horizon}
        log.write(0, {**header, "world_size": info.world_size, **steps})

    compiled = _maybe_compile(state.model, tc.compile, device)
    watch = FiniteWatch(device)
    eval_points = set(plan.eval_steps)
    metrics: dict[str, Any] = {}
    started, logged_at = time.perf_counter(), state.step
    feed = BatchFeed(dataset.split("train"), batches)
    with log, progress_bar("train", "{task.fields[info]}", show) as bar:
        job = bar.add_task("train", total=end, completed=state.step, info="")
        while state.step < end:
            last_step = state.step + 1 == end
            batch = feed.next(device)
            lrs = state.set_learning_rates(horizon)
            result = train_step(state, compiled, batch, info)
            watch.record(state.step + 1, result)
            state.optimizer_step(result.rows, info)
            state.step += 1
            bar.update(job, completed=state.step)

            do_log = state.step % tc.log_every == 0 or last_step
            do_eval = last_step or state.step in eval_points
            do_save = (
                last_step or do_eval or (tc.checkpoint_every > 0 and state.step % tc.checkpoint_every == 0)
            )
            if do_log or do_save or state.step % tc.finite_check_every == 0:
                problem = watch.problem()  # the same on every rank: no collective needed
                if problem is not None:
                    raise RunFailure(str(out), problem)
            if do_log:
                record = _train_record(result.metrics, lrs, tc.global_batch_size, info)
                record["steps_per_s"] = (state.step - logged_at) / max(time.perf_counter() - started, 1e-9)
                started, logged_at = time.perf_counter(), state.step
                log.write(state.step, record)
                bar.update(
                    job, info=f"loss {record['train/lm_loss']:.3f} exact {record['train/exact_accuracy']:.3f}"
                )
            if do_eval:
                metrics = _evaluate(state, compiled, dataset, device, info)
                if metrics:  # empty when the split has no labelled rows (hidden test outputs)
                    log.write(state.step, {f"eval/{k}": v for k, v in metrics.items()})
            if do_save:
                _save(state, cfg, dataset, feed.cursor, out, info, device)
    feed.close()
    return {"step": state.step, **metrics}


def _batches(
    cfg: RunConfig, group_index: Any, puzzle_index: Any, info: dist.DistInfo, ordered_groups: int = 0
) -> TrainBatches:
    tc = cfg.train
    if tc.global_batch_size % (info.world_size * tc.grad_accum_steps):
        raise ConfigError(
            "train.global_batch_size",
            f"{tc.global_batch_size} does not split into {info.world_size} rank(s) x "
            f"{tc.grad_accum_steps} micro-batch(es) (train.grad_accum_steps)",
        )
    try:
        return TrainBatches(
            group_index,
            puzzle_index,
            tc.global_batch_size,
            tc.seed,
            info.rank,
            info.world_size,
            accounting=tc.step_accounting,
            epochs_per_interval=epochs_per_interval(tc),
            ordered_groups=ordered_groups,
        )
    except ValueError as err:  # a batch too big for the data
        raise ConfigError("train.global_batch_size", str(err)) from None


def _evaluate(
    state: TrainState, compiled: TRM, dataset: TokenDataset, device: torch.device, info: dist.DistInfo
) -> dict[str, float]:
    """The test split under the EMA weights, through the compiled model when compile is on (the EMA
    weights are swapped into the module the compiled wrapper holds)."""
    tc = state.cfg.train
    size = tc.eval_batch_size or tc.global_batch_size
    with state.eval_weights():
        return evaluate_split(compiled, dataset.split("test"), size, tc.eval_max_examples, device, info)


def _save(
    state: TrainState,
    cfg: RunConfig,
    dataset: TokenDataset,
    cursor: BatchCursor,
    out: Path,
    info: dist.DistInfo,
    device: torch.device,
) -> None:
    if not dist.all_agree(_weights_finite(state), info, device):
        # Finite loss and gradients can still overflow in the update (a huge lr); such
        # weights must never become the latest checkpoint.
        raise RunFailure(
            str(out), f"weights became non-finite at step {state.step}; the last good checkpoint is kept"
        )
    carries = gather_carries(state, info)  # a collective: every rank
    if info.is_main:
        payload = state_payload(state, cfg, dataset, cursor, carries)
        save_checkpoint(
            out, state.step, {**payload, "git_revision": git_revision()}, cfg.train.keep_checkpoints
        )


def _train_record(
    sums: dict[str, torch.Tensor], lrs: dict[str, float], global_batch: int, info: dist.DistInfo
) -> dict[str, float]:
    """Means over the global batch (losses) or over the rows that halted this step (the rest)."""
    keys = sorted(sums)
    reduced = dist.all_reduce_sum(torch.stack([sums[k].float() for k in keys]), info).cpu()  # one sync
    means = finalize_metrics(dict(zip(keys, reduced, strict=True)), global_batch)
    return {**{f"train/{k}": float(v) for k, v in means.items()}, **{f"train/{k}": v for k, v in lrs.items()}}


def _weights_finite(state: TrainState) -> bool:
    """Weights, buffers (the task table) and EMA averages, in chunks: no table-sized temporary."""
    tensors = list(state.model.state_dict().values())
    tensors += [] if state.ema is None else list(state.ema.shadow.values())
    chunks = (c for t in tensors if t.is_floating_point() for c in t.detach().reshape(-1).split(1 << 24))
    return all(bool(torch.isfinite(c).all()) for c in chunks)


def _maybe_compile(model: TRM, choice: str, device: torch.device) -> TRM:
    on = choice == "on" or (choice == "auto" and device.type == "cuda")
    # dynamic=False: one static graph per batch shape (train micro-batch, eval batch), no symbolic sizes.
    return torch.compile(model, dynamic=False) if on else model  # type: ignore[return-value]
