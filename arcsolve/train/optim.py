"""Optimizers: AdamATan2 for the weights, sparse sign-SGD for the task-embedding table (the
paper's training setup, §5).

AdamW is torch's own (`torch.optim.AdamW`); the training loop picks between it and AdamATan2.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch
import torch.distributed as dist


class AdamATan2(torch.optim.Optimizer):
    """Adam with atan2 in place of m / (sqrt(v) + eps), so there is no epsilon to tune.

    Per step t, for each parameter p with gradient g:
        p <- p * (1 - lr * wd)                                   decoupled weight decay
        m <- b1 * m + (1 - b1) * g;   v <- b2 * v + (1 - b2) * g^2
        p <- p - (lr / (1 - b1^t)) * atan2(m, sqrt(v) / sqrt(1 - b2^t))
    The update per coordinate is bounded by lr * pi / 2 / (1 - b1^t).
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor] | Iterable[dict[str, Any]],
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.9, 0.95),
        weight_decay: float = 0.1,
    ) -> None:
        if lr < 0 or weight_decay < 0 or not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"bad AdamATan2 settings: lr={lr}, betas={betas}, weight_decay={weight_decay}")
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure=None):  # type: ignore[override]
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, wd = group["lr"], group["weight_decay"]
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError("AdamATan2 does not support sparse gradients")
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["step"] += 1
                t = state["step"]
                m, v = state["exp_avg"], state["exp_avg_sq"]
                grad = p.grad
                p.mul_(1 - lr * wd)
                m.lerp_(grad, 1 - beta1)
                v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                denom = v.sqrt().div_(math.sqrt(1 - beta2**t))
                p.add_(torch.atan2(m, denom), alpha=-lr / (1 - beta1**t))
        return loss


class SparseSignSGD:
    """Sign-SGD with decoupled weight decay on the rows of an embedding table that a batch touched.

    The gradient arrives as (ids, grads) pairs, one per batch row, not as `table.grad`: the model
    gathers the batch's rows into a leaf tensor (see model/trm.py), and the loop calls
    `step(outputs.puzzle_ids, outputs.puzzle_rows.grad)`. Repeated ids have their gradients summed;
    then for each touched row only:  w <- w * (1 - lr * wd) - lr * sign(g).
    Under torch.distributed every rank gathers all ranks' (ids, grads) first, so all ranks apply the
    same update and their tables stay identical. Every rank must pass the same number of rows.

    It is not a torch.optim.Optimizer (whose step() reads .grad), but it has `param_groups` so the
    LR schedule sets its lr the same way, and a state_dict for checkpoints.
    """

    def __init__(self, table: torch.Tensor, lr: float = 1e-2, weight_decay: float = 0.1) -> None:
        if table.dim() != 2:
            raise ValueError(f"expected a 2-D table, got shape {tuple(table.shape)}")
        self.table = table
        self.param_groups = [{"lr": lr, "weight_decay": weight_decay}]

    @property
    def lr(self) -> float:
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        self.param_groups[0]["lr"] = value

    @torch.no_grad()
    def step(self, ids: torch.Tensor, grads: torch.Tensor | None) -> None:
        if grads is None:
            raise ValueError("no gradient for the puzzle rows: was backward called on this step's loss?")
        ids = ids.reshape(-1)
        grads = grads.reshape(ids.shape[0], -1)
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            ids, grads = _all_gather_rows(ids, grads)
        lr, wd = self.lr, self.param_groups[0]["weight_decay"]
        sorted_ids, summed = summed_by_id(ids, grads.float())
        rows = self.table[sorted_ids]
        # Rows of a repeated id get the same new value, so the duplicate writes agree whatever order
        # index_put_ applies them in.
        self.table.index_put_((sorted_ids,), (rows * (1 - lr * wd) - lr * summed.sign()).to(self.table.dtype))

    def state_dict(self) -> dict[str, Any]:
        return {"param_groups": [dict(g) for g in self.param_groups]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.param_groups = [dict(g) for g in state["param_groups"]]


def summed_by_id(ids: torch.Tensor, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(n,) ids and (n, D) values -> ids sorted (stable) and, at every position, the sum of the values
    of all rows with that id. Deterministic and without a host sync: a fixed-shape segmented scan
    (log2 n shifted adds in a fixed order) replaces index_add_, whose CUDA atomics add in a varying
    order, and torch.unique, whose output size must be read back to the host."""
    sorted_ids, order = torch.sort(ids, stable=True)
    scan = values[order]
    n = sorted_ids.shape[0]
    shift = 1
    while shift < n:  # inclusive scan within runs of equal ids
        same = (sorted_ids[shift:] == sorted_ids[:-shift])[:, None]
        scan = torch.cat([scan[:shift], scan[shift:] + torch.where(same, scan[:-shift], 0.0)])
        shift *= 2
    last = torch.searchsorted(sorted_ids, sorted_ids, right=True) - 1  # each run's last row holds its sum
    return sorted_ids, scan[last]


def _all_gather_rows(ids: torch.Tensor, grads: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    world = dist.get_world_size()
    all_ids = [torch.empty_like(ids) for _ in range(world)]
    all_grads = [torch.empty_like(grads) for _ in range(world)]
    dist.all_gather(all_ids, ids.contiguous())
    dist.all_gather(all_grads, grads.contiguous())
    return torch.cat(all_ids), torch.cat(all_grads)


def set_lr(optimizer: torch.optim.Optimizer | SparseSignSGD, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr
