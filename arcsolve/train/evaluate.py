"""Evaluation on a dataset split: every example runs all supervision steps; exact and token accuracy."""

from __future__ import annotations

import numpy as np
import torch

from arcsolve.data.dataset import SplitArrays
from arcsolve.model.act import evaluate_batch
from arcsolve.model.losses import act_loss, finalize_metrics
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
    sums: dict[str, torch.Tensor] = {}
    seen = torch.zeros((), device=device)
    try:
        for chunk in eval_batches(len(rows), per_rank, info.rank, info.world_size):
            batch, real = pad_batch(rows_to_batch(split, rows[chunk], device), per_rank)
            outputs = evaluate_batch(model, batch)
            _, metrics = act_loss(outputs, model.cfg.loss)
            for key, value in metrics.items():
                sums[key] = sums.get(key, torch.zeros((), device=device)) + value.float()
            seen += real
    finally:
        model.train(was_training)
    if not sums:
        return {}
    keys = sorted(sums)
    reduced = dist.all_reduce_sum(torch.stack([sums[k] for k in keys] + [seen]), info).tolist()
    totals = {k: torch.tensor(v) for k, v in zip(keys, reduced[:-1], strict=True)}
    return {k: float(v) for k, v in finalize_metrics(totals, max(int(reduced[-1]), 1)).items()}
