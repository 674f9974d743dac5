"""`arcsolve train`: one flat loop. Each step is one ACT supervision step on one batch.

Per step: lr from the schedule; the next batch of example rows; `act_step` (halted slots take new rows);
loss on the carry's data; backward of loss / global batch; gradients summed over ranks; optimizer
steps (weights, then the sparse task-embedding rows); EMA update. "Once in a while" blocks log,
evaluate and checkpoint; `last_step` makes the final evaluation and save no special case.
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from arcsolve.config import to_toml
from arcsolve.data.dataset import TokenDataset
from arcsolve.errors import BadInputError, ConfigError, RunFailure
from arcsolve.io import atomic_write_text
from arcsolve.model.act import StepOutputs, act_step, initial_carry
from arcsolve.model.losses import finalize_metrics
from arcsolve.model.trm import TRM, count_parameters
from arcsolve.runtime import resolve_device, set_cpu_threads
from arcsolve.train import distributed as dist
from arcsolve.train.batches import BatchCursor, TrainBatches
from arcsolve.train.checkpoint import git_revision, latest_checkpoint, load_checkpoint, save_checkpoint
from arcsolve.train.config import RunConfig
from arcsolve.train.data import open_dataset, rows_to_batch
from arcsolve.train.evaluate import evaluate_split
from arcsolve.train.metrics import MetricsLog
from arcsolve.train.state import TrainState, build_state, gather_carries, restore_state, state_payload


def total_steps(cfg: RunConfig, batches: TrainBatches) -> int:
    if cfg.train.max_steps > 0:
        return cfg.train.max_steps
    return cfg.train.epochs * batches.batches_per_epoch()


def _progress(enabled: bool) -> Progress:
    columns = (
        TextColumn("[bold]train"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeRemainingColumn(),
    )
    return Progress(*columns, disable=not enabled, transient=False)


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
    set_cpu_threads(tc.cpu_threads)
    show = (sys.stderr.isatty() if progress is None else progress) and info.is_main
    try:
        _prepare_run_dir(out, resume, info.is_main)
        dataset = open_dataset(cfg.data, info.is_main, show)
        return _train(cfg, out, dataset, device, info, max_steps, resume, show)
    finally:
        dist.shutdown(info)


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
    train_split, test_split = dataset.split("train"), dataset.split("test")
    # Nothing in the step draws from torch's global RNG today, but whatever does later (dropout,
    # a random op) is then seeded per rank and its state, saved in checkpoints, means something.
    torch.manual_seed(tc.seed + info.rank)
    state = build_state(cfg, dataset, device)
    try:
        batches = TrainBatches(
            train_split.group_index,
            train_split.puzzle_index,
            tc.global_batch_size,
            tc.seed,
            info.rank,
            info.world_size,
        )
    except ValueError as err:  # a batch too big for the data, or not divisible by the ranks
        raise ConfigError("train.global_batch_size", str(err)) from None
    log = MetricsLog(out / "metrics.jsonl", enabled=info.is_main)
    checkpoint = latest_checkpoint(out) if resume else None
    if checkpoint is not None:
        payload = load_checkpoint(checkpoint, map_location=device)
        restore_state(state, payload, dataset, str(checkpoint), info)
        batches.cursor = BatchCursor(**payload["cursor"])
    # Lines after the restored step (or every line, when starting from step 0: a run killed before
    # its first checkpoint) will be logged again; keeping them would duplicate steps.
    log.truncate_after(state.step if checkpoint is not None else -1)
    if info.is_main:  # only now: a refused --resume must not overwrite the run's config
        atomic_write_text(out / "config.toml", to_toml(asdict(cfg)))
    dist.broadcast_module(state.model, info)
    # The schedule runs over the config's horizon; --max-steps only stops early, so a run cut into
    # pieces with --max-steps and --resume follows the same learning rates as one straight run.
    horizon = total_steps(cfg, batches)
    end = horizon if max_steps is None else min(max_steps, horizon)
    if info.is_main and state.step == 0:
        count = count_parameters(state.model)
        log.write(
            0,
            {
                "params": count.weights,
                "puzzle_embedding_numbers": count.puzzle_embedding,
                "world_size": info.world_size,
            },
        )

    compiled = _maybe_compile(state.model, tc.compile, device)
    metrics: dict[str, Any] = {}
    started, logged_at = time.perf_counter(), state.step
    with _progress(show) as bar:
        job = bar.add_task("train", total=end, completed=state.step, info="")
        while state.step < end:
            last_step = state.step + 1 == end
            batch = rows_to_batch(train_split, batches.next(), device)
            if state.carry is None:
                state.carry = initial_carry(state.model, batch)
            lrs = state.set_learning_rates(horizon)
            state.carry, outputs = act_step(compiled, state.carry, batch, state.halt_generator)
            loss, step_metrics = state.loss_fn(outputs)
            (loss / tc.global_batch_size).backward()
            dist.all_reduce_gradients(state.model, info)
            if not dist.all_agree(_loss_and_grads_finite(loss, state.model, outputs), info, device):
                bad = "gradients became non-finite" if torch.isfinite(loss) else f"loss became {loss.item()}"
                raise RunFailure(
                    str(out), f"{bad} at step {state.step + 1}; the last good checkpoint is kept"
                )
            state.optimizer_step(outputs, info)
            state.step += 1
            bar.update(job, completed=state.step)

            if state.step % tc.log_every == 0 or last_step:
                record = _train_record(step_metrics, lrs, tc.global_batch_size, info)
                record["steps_per_s"] = (state.step - logged_at) / max(time.perf_counter() - started, 1e-9)
                started, logged_at = time.perf_counter(), state.step
                log.write(state.step, record)
                bar.update(
                    job, info=f"loss {record['train/lm_loss']:.3f} exact {record['train/exact_accuracy']:.3f}"
                )

            do_eval = last_step or (tc.eval_every > 0 and state.step % tc.eval_every == 0)
            if do_eval:
                with state.eval_weights() as eval_model:
                    metrics = evaluate_split(
                        eval_model, test_split, tc.global_batch_size, tc.eval_max_examples, device, info
                    )
                if metrics:  # empty when the split has no labelled rows (hidden test outputs)
                    log.write(state.step, {f"eval/{k}": v for k, v in metrics.items()})
            do_save = (
                last_step or do_eval or (tc.checkpoint_every > 0 and state.step % tc.checkpoint_every == 0)
            )
            if do_save and not dist.all_agree(_weights_finite(state), info, device):
                # Finite loss and gradients can still overflow in the update (a huge lr); such
                # weights must never become the latest checkpoint.
                raise RunFailure(
                    str(out),
                    f"weights became non-finite at step {state.step}; the last good checkpoint is kept",
                )
            carries = gather_carries(state, info) if do_save else None  # a collective: every rank
            if do_save and info.is_main:
                payload = state_payload(state, cfg, dataset, batches.cursor, carries)
                save_checkpoint(
                    out, state.step, {**payload, "git_revision": git_revision()}, tc.keep_checkpoints
                )
    log.close()
    return {"step": state.step, **metrics}


def _train_record(
    sums: dict[str, torch.Tensor], lrs: dict[str, float], global_batch: int, info: dist.DistInfo
) -> dict[str, float]:
    """Means over the global batch (losses) or over the rows that halted this step (the rest)."""
    keys = sorted(sums)
    reduced = dist.all_reduce_sum(torch.stack([sums[k].float() for k in keys]), info)
    means = finalize_metrics(dict(zip(keys, reduced, strict=True)), global_batch)
    return {**{f"train/{k}": float(v) for k, v in means.items()}, **{f"train/{k}": v for k, v in lrs.items()}}


def _loss_and_grads_finite(loss: torch.Tensor, model: TRM, outputs: StepOutputs) -> bool:
    """One host sync. Gradients are checked too: a finite loss with an inf gradient would put NaN
    weights into the next checkpoint, and `latest.pt` must always point at usable weights."""
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    if outputs.puzzle_rows.grad is not None:
        grads.append(outputs.puzzle_rows.grad)
    flags = torch.stack([torch.isfinite(loss).all(), *(torch.isfinite(g).all() for g in grads)])
    return bool(flags.all().item())


def _weights_finite(state: TrainState) -> bool:
    """Weights, buffers (the task table) and EMA averages, in chunks: no table-sized temporary."""
    tensors = list(state.model.state_dict().values())
    tensors += [] if state.ema is None else list(state.ema.shadow.values())
    chunks = (c for t in tensors if t.is_floating_point() for c in t.detach().reshape(-1).split(1 << 24))
    return all(bool(torch.isfinite(c).all()) for c in chunks)


def _maybe_compile(model: TRM, choice: str, device: torch.device) -> TRM:
    on = choice == "on" or (choice == "auto" and device.type == "cuda")
    return torch.compile(model) if on else model  # type: ignore[return-value]
