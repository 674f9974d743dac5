"""Evaluation on a dataset split: every example runs all supervision steps; exact and token accuracy."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import torch

from arcsolve.data.dataset import SplitArrays
from arcsolve.model.act import StepOutputs, evaluate_batch
from arcsolve.model.losses import METRIC_KEYS, act_loss, finalize_metrics, valid_label_mask
from arcsolve.model.trm import TRM
from arcsolve.train import distributed as dist
from arcsolve.train.batches import eval_batches
from arcsolve.train.data import pad_batch, rows_to_batch


def eval_rows(num_examples: int, max_examples: int) -> np.ndarray:
    """All rows, or `max_examples` spread evenly over the split (its order groups rows by task)."""
    if max_examples <= 0 or max_examples >= num_examples:
        return np.arange(num_examples, dtype=np.int64)
    return np.unique(np.linspace(0, num_examples - 1, max_examples).round().astype(np.int64))


@torch.no_grad()
def evaluate_split(
    model: TRM,
    split: SplitArrays,
    batch_size: int,
    max_examples: int,
    device: torch.device,
    info: dist.DistInfo | None = None,
) -> dict[str, float]:
    """Mean metrics over the split's labelled examples (rows without labels are not counted)."""
    info = info or dist.DistInfo()
    was_training = model.training
    model.eval()
    rows = eval_rows(split.num_examples, max_examples)
    per_rank = max(1, batch_size // info.world_size)
    # Every rank reduces the same keys, even a rank with no rows (it would otherwise skip the
    # all-reduce and leave the others waiting in it).
    sums = {key: torch.zeros((), device=device) for key in METRIC_KEYS}
    seen = torch.zeros((), device=device)
    try:
        for chunk in eval_batches(len(rows), per_rank, info.rank, info.world_size):
            batch, real = pad_batch(rows_to_batch(split, rows[chunk], device), per_rank)
            outputs = evaluate_batch(model, batch)
            # Padding rows and rows without labels (unknown test outputs) would add to the summed
            # losses and make them depend on the world size; only labelled real rows count.
            keep = valid_label_mask(outputs.labels).any(-1)
            keep[real:] = False
            _, metrics = act_loss(_select_rows(outputs, keep), model.cfg.loss)
            for key, value in metrics.items():
                sums[key] = sums[key] + value.float()
            seen += keep.sum()
    finally:
        model.train(was_training)
    keys = sorted(sums)
    reduced = dist.all_reduce_sum(torch.stack([sums[k] for k in keys] + [seen]), info).tolist()
    if reduced[-1] == 0:
        return {}
    totals = {k: torch.tensor(v) for k, v in zip(keys, reduced[:-1], strict=True)}
    return {k: float(v) for k, v in finalize_metrics(totals, int(reduced[-1])).items()}


def _select_rows(outputs: StepOutputs, keep: torch.Tensor) -> StepOutputs:
    return StepOutputs(**{f.name: getattr(outputs, f.name)[keep] for f in fields(outputs)})
