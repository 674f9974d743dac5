"""One optimizer step of `arcsolve train`: the global batch as micro-batches, gradients summed, one update.

The global batch (train.global_batch_size rows) is cut into world_size x grad_accum_steps slot blocks:
rank r runs blocks r*A .. r*A + A-1 one after the other, each its own ACT carry, and backpropagates
loss / global batch for each; the weight gradients are summed over ranks once; the task rows'
gradients of all blocks and ranks are gathered and their sum's sign is applied once (train/optim.py).
The halting-exploration draws are made once for all global slots from one seeded generator and
sliced, so every slot gets its own draw and a run's numbers do not depend on how the batch is split
(up to float rounding of different matmul shapes).

No host sync: non-finiteness of the loss (any rank) and of the summed gradients is kept as a
device flag (`FiniteWatch`) that the loop reads every train.finite_check_every steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from arcsolve.model.act import Batch, act_step, exploration_min_steps, initial_carry
from arcsolve.model.trm import TRM
from arcsolve.train import distributed as dist
from arcsolve.train.state import EmbeddingGrads, TrainState


@dataclass
class StepResult:
    metrics: dict[str, torch.Tensor]  # this rank's metric sums over its micro-batches
    loss: torch.Tensor  # this rank's summed loss (detached)
    finite: torch.Tensor  # bool on the device: loss of every rank and the summed gradients finite
    rows: EmbeddingGrads


def global_min_steps(state: TrainState) -> torch.Tensor | None:
    """This step's exploration draws for every slot of the global batch (None when nothing explores)."""
    mc = state.cfg.model
    if mc.halt_max_steps <= 1 or mc.halt_exploration_prob <= 0:
        return None
    rows = state.cfg.train.global_batch_size
    return exploration_min_steps(mc.halt_max_steps, mc.halt_exploration_prob, rows, state.halt_generator)


def _micro(batch: Batch, start: int, size: int) -> Batch:
    return {k: v[start : start + size] for k, v in batch.items()}


def train_step(state: TrainState, model: TRM, batch: Batch, info: dist.DistInfo) -> StepResult:
    """Forward and backward of this rank's rows (`batch`: its slice of the sorted global batch)."""
    tc = state.cfg.train
    per_rank = tc.global_batch_size // info.world_size
    micro = per_rank // tc.grad_accum_steps
    draws = global_min_steps(state)
    if state.carries is None:
        state.carries = [
            initial_carry(state.model, _micro(batch, s, micro)) for s in range(0, per_rank, micro)
        ]
    metrics: dict[str, torch.Tensor] = {}
    losses, rows = [], EmbeddingGrads([], [])
    for m, carry in enumerate(state.carries):
        first_slot = info.rank * per_rank + m * micro
        min_steps = None if draws is None else draws[first_slot : first_slot + micro]
        state.carries[m], outputs = act_step(
            model, carry, _micro(batch, m * micro, micro), state.halt_generator, min_steps
        )
        loss, step_metrics = state.loss_fn(outputs)
        (loss / tc.global_batch_size).backward()
        losses.append(loss.detach())
        for key, value in step_metrics.items():
            metrics[key] = metrics[key] + value if key in metrics else value
        if outputs.puzzle_rows.grad is not None:
            rows.ids.append(outputs.puzzle_ids)
            rows.grads.append(outputs.puzzle_rows.grad)
    loss_sum = torch.stack(losses).sum()
    dist.all_reduce_gradients(state.model, info)
    bad_losses = dist.all_reduce_sum((~torch.isfinite(loss_sum)).float().reshape(1), info)
    grads = [p.grad for p in state.model.parameters() if p.grad is not None] + rows.grads
    flags = torch.stack([bad_losses[0] == 0, *(torch.isfinite(g).all() for g in grads)])
    return StepResult(metrics, loss_sum, flags.all(), rows)


class FiniteWatch:
    """The first step whose loss or gradients were not finite, kept on the device until read."""

    def __init__(self, device: torch.device) -> None:
        self.first_bad = torch.zeros((), dtype=torch.int64, device=device)  # 0: none yet
        self.loss_at_bad = torch.zeros((), dtype=torch.float32, device=device)

    def record(self, step: int, result: StepResult) -> None:
        new = (self.first_bad == 0) & ~result.finite
        self.first_bad = torch.where(new, step, self.first_bad)
        self.loss_at_bad = torch.where(new, result.loss.float(), self.loss_at_bad)

    def problem(self) -> str | None:
        """One host sync. The same answer on every rank (the flags are reduced over ranks)."""
        first, loss = torch.stack([self.first_bad.float(), self.loss_at_bad]).tolist()
        if first == 0:
            return None
        what = (
            f"loss became {loss}" if not torch.isfinite(torch.tensor(loss)) else "gradients became non-finite"
        )
        return f"{what} at step {int(first)}; the last good checkpoint is kept"
