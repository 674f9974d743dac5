"""Losses and metrics of one supervision step (deep supervision, paper §2.4; halting loss, §4.6).

Ignored labels: the datasets write PAD (0) where a position has no label. Instead of remapping
labels to -100 in the collate step as the reference does, the loss masks positions whose label
equals `ignore_id` (default PAD) or is negative, so -100 labels are ignored too.

- lm loss: token cross-entropy (stablemax in float64, or softmax), per sequence summed and divided by
  its number of valid tokens, then summed over the batch.
- q_halt loss: BCE-with-logits of q_halt against "the whole sequence is correct", summed over every
  row at every step. total = lm + 0.5 * q_halt. (No Q-continue term: see ModelConfig.no_act_continue.)
- Metrics are *sums* over rows that halted at this step and have >= 1 valid label, so they can be
  all-reduced over ranks as they are; `finalize_metrics` turns them into means. Nothing here calls
  .item(), so a step costs no host sync.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

from arcsolve.constants import PAD_TOKEN
from arcsolve.model.act import StepOutputs

METRIC_KEYS = ("count", "accuracy", "exact_accuracy", "q_halt_accuracy", "steps", "lm_loss", "q_halt_loss")


def log_stablemax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """log(s(x_i) / sum_j s(x_j)) with s(x) = x + 1 for x >= 0 and 1 / (1 - x) for x < 0."""
    nonneg = x >= 0
    # The inner where keeps the unused branch finite (1/(1-x) blows up at x = 1 and would give 0 * inf).
    s = torch.where(nonneg, x + 1, 1 / (1 - torch.where(nonneg, torch.zeros_like(x), x)))
    return torch.log(s) - torch.log(s.sum(dim=dim, keepdim=True))


def valid_label_mask(labels: torch.Tensor, ignore_id: int = PAD_TOKEN) -> torch.Tensor:
    return (labels != ignore_id) & (labels >= 0)


def token_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, valid: torch.Tensor, kind: Literal["stablemax", "softmax"]
) -> torch.Tensor:
    """(B, L, V), (B, L), (B, L) bool -> (B, L) float32 loss, 0 where not valid."""
    safe_labels = torch.where(valid, labels, 0)[..., None]  # (B, L, 1), any in-range index
    if kind == "stablemax":
        logprobs = log_stablemax(logits.to(torch.float64))
    else:
        logprobs = F.log_softmax(logits.float(), dim=-1)
    picked = logprobs.gather(-1, safe_labels)[..., 0]  # (B, L)
    return torch.where(valid, -picked, 0).float()


def act_loss(
    outputs: StepOutputs, kind: Literal["stablemax", "softmax"] = "stablemax", ignore_id: int = PAD_TOKEN
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Loss of one supervision step, summed over the batch (divide by the global batch before backward)."""
    labels, logits, q_halt = outputs.labels, outputs.logits, outputs.q_halt_logits
    valid = valid_label_mask(labels, ignore_id)  # (B, L)
    num_valid = valid.sum(-1)  # (B,)
    divisor = num_valid.clamp_min(1).float()

    lm_loss = (token_cross_entropy(logits, labels, valid, kind).sum(-1) / divisor).sum()

    with torch.no_grad():
        correct = valid & (logits.argmax(-1) == labels)  # (B, L)
        num_correct = correct.sum(-1)
        seq_correct = num_correct == num_valid  # (B,)
    q_halt_loss = F.binary_cross_entropy_with_logits(q_halt, seq_correct.float(), reduction="sum")
    total = lm_loss + 0.5 * q_halt_loss

    with torch.no_grad():
        counted = outputs.halted & (num_valid > 0)
        counted_f = counted.float()
        metrics = {
            "count": counted_f.sum(),
            "accuracy": (counted_f * num_correct.float() / divisor).sum(),
            "exact_accuracy": (counted & seq_correct).float().sum(),
            "q_halt_accuracy": (counted & ((q_halt >= 0) == seq_correct)).float().sum(),
            "steps": (counted_f * outputs.steps.float()).sum(),
            "lm_loss": lm_loss.detach(),
            "q_halt_loss": q_halt_loss.detach(),
        }
    return total, metrics


def finalize_metrics(sums: dict[str, torch.Tensor], batch_size: int) -> dict[str, torch.Tensor]:
    """Means from (possibly all-reduced) sums: losses per batch row, the rest per counted row.

    For training logs pass the global batch size; for eval accumulate sums over batches first and pass
    the number of rows seen. Returns tensors; call .item() (one sync) when logging.
    """
    count = sums["count"].clamp_min(1)
    out = {"count": sums["count"]}
    for key in ("accuracy", "exact_accuracy", "q_halt_accuracy", "steps"):
        out[key] = sums[key] / count
    for key in ("lm_loss", "q_halt_loss"):
        out[key] = sums[key] / batch_size
    return out
