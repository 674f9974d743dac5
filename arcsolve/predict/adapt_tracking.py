"""Test-time adaptation's loss curve in TensorBoard or Weights & Biases (`--set adapt.tensorboard=true`,
`--set adapt.wandb_project=NAME`; see docs/tracking.md).

Written once adaptation ends, from the per-step values the Adapter already keeps as Python numbers:
nothing is added to the adaptation steps (no device sync, no time taken from a budget mid-way).
Step k is the k-th optimizer step; the held-out score (with `adapt.holdout`) sits at step 0 before
adapting and at the last step after. Trackers are `arcsolve/train/trackers.py`'s: one that fails is
one warning line, and predict goes on.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from arcsolve.config import to_toml
from arcsolve.predict.adapt import AdaptReport
from arcsolve.predict.config import PredictConfig
from arcsolve.train.trackers import TENSORBOARD_DIR, WandbTarget, start_trackers

ADAPT_RUN = "adapt"  # the TensorBoard sub-folder, and the suffix of the W&B run name


def adaptation_records(
    history: list[tuple[float, float, float]], report: AdaptReport
) -> list[tuple[int, dict[str, Any]]]:
    """(step, values) per adaptation step: lm loss per row, and the exact share of the rows that
    halted at that step (when any did); the held-out scores before (step 0) and after (last step)."""
    records: list[tuple[int, dict[str, Any]]] = []
    if report.holdout_before is not None:
        before = {
            "adapt/holdout_exact": report.holdout_before,
            "adapt/holdout_tokens": report.holdout_tokens_before,
        }
        records.append((0, before))
    for step, (loss, exact, halted) in enumerate(history, start=1):
        values = {"adapt/lm_loss": loss, **({"adapt/exact_accuracy": exact / halted} if halted else {})}
        records.append((step, values))
    if report.holdout_after is not None:
        after = {
            "adapt/holdout_exact": report.holdout_after,
            "adapt/holdout_tokens": report.holdout_tokens_after,
        }
        records.append((len(history), after))
    return records


def log_adaptation(
    cfg: PredictConfig, history: list[tuple[float, float, float]], report: AdaptReport
) -> None:
    """Send the adaptation curve to the trackers `cfg.adapt` asks for (none: nothing happens)."""
    ac = cfg.adapt
    if not (ac.tensorboard or ac.wandb_project):
        return
    folder = Path(cfg.out).parent
    board = folder / TENSORBOARD_DIR / ADAPT_RUN if ac.tensorboard else None
    name = f"{folder.resolve().name}-{ADAPT_RUN}"
    wandb = WandbTarget(ac.wandb_project, name, folder) if ac.wandb_project else None
    resolved = asdict(cfg)
    # First step 0: a rerun into the same folder hides the earlier curve instead of mixing with it.
    trackers = start_trackers(board, wandb, 0, resolved, to_toml(resolved))
    for step, values in adaptation_records(history, report):
        for tracker in trackers:
            tracker.write(step, values)
    for tracker in trackers:
        tracker.close(failed=False)
