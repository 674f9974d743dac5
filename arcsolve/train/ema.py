"""Exponential moving average of the trainable weights (paper §4.7): shadow = d * shadow + (1 - d) * param.

Only parameters that require grad are averaged. Buffers (the task-embedding table, y/z init vectors)
are not, so an EMA model always uses the live task embeddings. Pass the plain model, not a
torch.compile wrapper, so parameter names carry no `_orig_mod.` prefix.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn


class EMA:
    def __init__(self, model: nn.Module, decay: float = 0.999) -> None:
        if not 0 < decay < 1:
            raise ValueError(f"EMA decay must lie in (0, 1), got {decay}")
        self.decay = decay
        self.shadow = {name: p.detach().clone() for name, p in _trainable(model)}

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        for name, p in _trainable(model):
            self.shadow[name].lerp_(p.detach(), 1 - self.decay)

    @torch.no_grad()
    def copy_to(self, model: nn.Module) -> None:
        """Overwrite the model's trainable parameters with the averages."""
        for name, p in _trainable(model):
            p.copy_(self.shadow[name])

    def averaged_copy(self, model: nn.Module) -> nn.Module:
        """A deep copy of `model` holding the EMA weights (for eval or saving); `model` is untouched."""
        twin = copy.deepcopy(model)
        self.copy_to(twin)
        return twin

    @contextmanager
    def swapped_in(self, model: nn.Module) -> Iterator[nn.Module]:
        """Evaluate `model` with the EMA weights inside the block; the live weights come back after,
        even on an exception. Cheaper in memory than `averaged_copy` (one copy of the weights only)."""
        backup = {name: p.detach().clone() for name, p in _trainable(model)}
        self.copy_to(model)
        try:
            yield model
        finally:
            with torch.no_grad():
                for name, p in _trainable(model):
                    p.copy_(backup[name])

    def state_dict(self) -> dict[str, Any]:
        return {"decay": self.decay, "shadow": {k: v.clone() for k, v in self.shadow.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        missing = set(self.shadow) ^ set(state["shadow"])
        if missing:
            raise KeyError(f"EMA state does not match the model: {sorted(missing)[:5]}")
        self.decay = float(state["decay"])
        with torch.no_grad():
            for name, value in state["shadow"].items():
                self.shadow[name].copy_(value)


def _trainable(model: nn.Module) -> Iterator[tuple[str, torch.Tensor]]:
    return ((name, p) for name, p in model.named_parameters() if p.requires_grad)
