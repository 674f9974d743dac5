"""`ModelConfig`: the TRM architecture knobs. Defaults are the paper's ARC attention model
(paper §4 and its ARC-AGI experiments, §5).

seq_len, vocab_size and num_puzzle_ids are properties of the dataset, so they are constructor
arguments of the model, not config fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from arcsolve.config import check_bounds
from arcsolve.errors import ConfigError


@dataclass
class ModelConfig:
    # mlp = SwiGLU over the sequence axis (TRM's mlp_t); conv = 3x3 convolution over a square grid
    # (not in the paper: a local-mixing variant for mazes, see layers.GridConv)
    variant: Literal["attention", "mlp", "conv"] = "attention"
    hidden_size: int = 512
    num_heads: int = 8
    expansion: float = 4.0  # SwiGLU width factor, before the 2/3 and round-up-to-256 rule
    num_layers: int = 2  # blocks in the one shared network
    H_cycles: int = 3  # T: cycles per supervision step; the first T-1 run without grad
    L_cycles: int = 4  # n: latent updates per cycle (4 for ARC and maze, 6 for sudoku)
    halt_max_steps: int = 16  # supervision (ACT) steps; eval always runs all of them
    halt_exploration_prob: float = 0.1
    puzzle_emb_len: int = 16  # prefix positions; only position 0 holds the learned task vector
    # rope2d (not in the paper): rotary angles from a cell's row and column, for square grids
    pos_encoding: Literal["rope", "rope2d", "learned", "none"] = "rope"
    rope_theta: float = 10_000.0
    rms_eps: float = 1e-5
    # Only True is supported: halt when q_halt > 0. HRM's Q-continue bootstrap is not implemented
    # (in the reference it is dead code that would crash); the field stays so paper configs read the same.
    no_act_continue: bool = True
    # "auto": bfloat16 on CUDA (the paper), float32 elsewhere. "float16" is for GPUs without bfloat16
    # (e.g. T4), meant for predict: training in it has no loss scaling. On a CPU it runs in float32,
    # where half-precision matmuls are slow or missing. Parameters always stay float32.
    forward_dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    loss: Literal["stablemax", "softmax"] = "stablemax"

    def validate(self, where: str) -> None:
        """Ranges and the rules between fields; types and choices are from_dict's (arcsolve/config.py)."""
        positive = ("hidden_size", "num_heads", "num_layers", "H_cycles", "L_cycles", "halt_max_steps")
        check_bounds(self, where, "model.", (*positive, "puzzle_emb_len"), low=1)
        check_bounds(self, where, "model.", ("expansion", "rope_theta", "rms_eps"), low=0, open_low=True)
        check_bounds(self, where, "model.", ("halt_exploration_prob",), low=0, high=1)
        if self.hidden_size % self.num_heads:
            raise ConfigError(
                where,
                f"model.hidden_size ({self.hidden_size}) must be divisible by model.num_heads ({self.num_heads})",
            )
        multiple = {"rope": 2, "rope2d": 4}.get(self.pos_encoding, 1)
        if (self.hidden_size // self.num_heads) % multiple:
            raise ConfigError(
                where,
                f"model.hidden_size / model.num_heads must be a multiple of {multiple} "
                f"for pos_encoding = '{self.pos_encoding}'",
            )
        if self.variant != "attention" and self.pos_encoding in ("rope", "rope2d"):
            raise ConfigError(
                where,
                f"model.variant = '{self.variant}' has no attention to rotate; "
                "set model.pos_encoding to 'none' or 'learned'",
            )
        if not self.no_act_continue:
            raise ConfigError(
                where, "model.no_act_continue = false (HRM's Q-continue halting) is not supported; use true"
            )

    def dtype_for(self, device: torch.device) -> torch.dtype:
        """The activation dtype on `device` (parameters are float32 and cast on use)."""
        if self.forward_dtype == "bfloat16" or (self.forward_dtype == "auto" and device.type == "cuda"):
            return torch.bfloat16
        if self.forward_dtype == "float16" and device.type == "cuda":
            return torch.float16
        return torch.float32
