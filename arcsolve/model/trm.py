"""The Tiny Recursive Model (TRM, arXiv 2510.04871): one small network applied recursively.

Read top to bottom. Choices, all as in the paper (§4, Figure 3's pseudocode) and its reference code:
- Input x = [task prefix; token embeddings] * sqrt(D). The prefix has `puzzle_emb_len` positions; only
  position 0 holds the task's vector, the rest are zeros. The task table is a float32 *buffer*
  (zero-initialised, one row per puzzle id) trained by sparse sign-SGD, not by autograd on the table.
- Answer y and latent z start from two fixed random vectors (buffers, never learned).
- One network `net(h, inj) = blocks(h + inj)` of `num_layers` post-norm blocks. A cycle is n latent
  updates z <- net(z, y + x) then one answer update y <- net(y, z). A supervision step runs T cycles;
  the first T-1 under torch.no_grad, the last with grad (full backprop through that cycle).
- Heads: logits = lm_head(y) without the prefix positions; q_halt = q_head(y[:, 0]) in float32.
- Parameters are float32; activations use `cfg.dtype_for(device)` (bfloat16 on CUDA by default).

How the task rows get gradients: `forward` takes the batch's task vectors `puzzle_rows` (B, D) as an
input instead of looking them up itself. The ACT step (act.py) gathers them from the table and, when
training, makes them a leaf that requires grad, so backward leaves a (B, D) gradient on that leaf and
the sign-SGD optimizer updates only those rows. The 876k x 512 ARC table never gets a dense gradient,
and a torch.compile'd forward sees a plain input tensor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from arcsolve.config import checked
from arcsolve.constants import ARC_VOCAB_SIZE
from arcsolve.errors import ConfigError
from arcsolve.model.config import ModelConfig
from arcsolve.model.layers import (
    Attention,
    GridConv,
    Linear,
    Rotary,
    SwiGLU,
    TokenMixer,
    rms_norm,
    swiglu_width,
    trunc_normal_,
)


class Block(nn.Module):
    """Post-norm: h = RMS(h + mix(h)); h = RMS(h + SwiGLU(h)). mix = attention, token mixing for
    'mlp', or a 3x3 convolution over the grid for 'conv'."""

    def __init__(self, cfg: ModelConfig, seq_len: int, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.eps = cfg.rms_eps
        self.attn: Attention | None = None
        self.mixer: TokenMixer | None = None
        self.conv: GridConv | None = None
        if cfg.variant == "attention":
            self.attn = Attention(cfg.hidden_size, cfg.num_heads, generator)
        elif cfg.variant == "mlp":
            self.mixer = TokenMixer(seq_len + cfg.puzzle_emb_len, cfg.expansion, cfg.rms_eps, generator)
        else:
            side = math.isqrt(seq_len)  # TRM checks that seq_len is a square
            self.conv = GridConv(cfg.hidden_size, side, cfg.puzzle_emb_len, generator)
        self.mlp = SwiGLU(cfg.hidden_size, cfg.expansion, generator)

    def forward(self, h: torch.Tensor, rotary: Rotary | None) -> torch.Tensor:
        if self.attn is not None:
            h = rms_norm(h + self.attn(h, rotary), self.eps)
        elif self.conv is not None:
            h = rms_norm(h + self.conv(h), self.eps)
        else:
            assert self.mixer is not None
            h = self.mixer(h)  # adds its own residual and norm (over the sequence axis)
        return rms_norm(h + self.mlp(h), self.eps)


class TRM(nn.Module):
    def __init__(
        self,
        cfg: ModelConfig,
        seq_len: int,
        vocab_size: int,
        num_puzzle_ids: int,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        cfg = checked(cfg, "model")  # the same typed checks as a config read from TOML
        square = cfg.variant == "conv" or cfg.pos_encoding == "rope2d"
        if square and math.isqrt(seq_len) ** 2 != seq_len:
            raise ConfigError(
                "model",
                f"model.variant = '{cfg.variant}' with pos_encoding = '{cfg.pos_encoding}' needs a "
                f"square grid, but the data has {seq_len} cells",
            )
        D, P = cfg.hidden_size, cfg.puzzle_emb_len
        self.cfg = cfg
        self.seq_len = seq_len
        self.vocab_size = vocab_size
        self.seq_total = seq_len + P

        self.embed_tokens = nn.Parameter(
            trunc_normal_(torch.empty(vocab_size, D), 1.0 / math.sqrt(D), generator)
        )
        self.pos_embed = (
            nn.Parameter(trunc_normal_(torch.empty(self.seq_total, D), 1.0 / math.sqrt(D), generator))
            if cfg.pos_encoding == "learned"
            else None
        )
        grid = (P, math.isqrt(seq_len)) if cfg.pos_encoding == "rope2d" else None  # rows of cells
        self.rotary = (
            Rotary(D // cfg.num_heads, self.seq_total, cfg.rope_theta, grid)
            if cfg.pos_encoding in ("rope", "rope2d")
            else None
        )
        self.blocks = nn.ModuleList(Block(cfg, seq_len, generator) for _ in range(cfg.num_layers))
        self.lm_head = Linear(D, vocab_size, generator=generator)
        self.q_head = Linear(D, 2, bias=True)  # logit 0 = halt; logit 1 (HRM's continue) is unused
        with torch.no_grad():
            self.q_head.weight.zero_()
            self.q_head.bias.fill_(-5.0)  # sigmoid(-5) ~ 0.007: "do not halt" at the start

        self.register_buffer("puzzle_emb", torch.zeros(num_puzzle_ids, D))  # (N, D), sparse sign-SGD
        self.register_buffer("y_init", trunc_normal_(torch.empty(D), 1.0, generator))
        self.register_buffer("z_init", trunc_normal_(torch.empty(D), 1.0, generator))

    def embed(self, inputs: torch.Tensor, puzzle_rows: torch.Tensor) -> torch.Tensor:
        """inputs (B, L) int, puzzle_rows (B, D) float32 -> x (B, P+L, D) in the forward dtype."""
        dtype = self.cfg.dtype_for(inputs.device)
        B, D, P = inputs.shape[0], self.cfg.hidden_size, self.cfg.puzzle_emb_len
        tokens = self.embed_tokens[inputs].to(dtype)  # (B, L, D)
        prefix = torch.zeros(B, P, D, dtype=dtype, device=inputs.device)
        prefix = torch.cat([puzzle_rows.to(dtype)[:, None], prefix[:, 1:]], dim=1)  # (B, P, D)
        x = torch.cat([prefix, tokens], dim=1)  # (B, P+L, D)
        if self.pos_embed is not None:
            x = (x + self.pos_embed.to(dtype)) * (1.0 / math.sqrt(2.0))
        return x * math.sqrt(D)

    def net(self, h: torch.Tensor, injection: torch.Tensor) -> torch.Tensor:
        h = h + injection  # input injection by addition
        for block in self.blocks:
            h = block(h, self.rotary)
        return h

    def cycle(self, y: torch.Tensor, z: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        for _ in range(self.cfg.L_cycles):
            z = self.net(z, y + x)  # refine the latent from the answer and the question
        y = self.net(y, z)  # refine the answer from the latent alone
        return y, z

    def forward(
        self, inputs: torch.Tensor, puzzle_rows: torch.Tensor, y: torch.Tensor, z: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """One supervision step. y, z (B, P+L, D) -> new y, z, logits (B, L, V), q_halt (B,) float32."""
        x = self.embed(inputs, puzzle_rows)
        with torch.no_grad():
            for _ in range(self.cfg.H_cycles - 1):
                y, z = self.cycle(y, z, x)
        y, z = self.cycle(y, z, x)  # the only cycle in the autograd graph
        logits = self.lm_head(y[:, self.cfg.puzzle_emb_len :])  # (B, L, V)
        q_halt = self.q_head(y[:, 0]).float()[:, 0]  # (B,)
        return y, z, logits, q_halt


@dataclass(frozen=True)
class ParamCount:
    weights: int  # trainable parameters (what the paper calls "7M")
    puzzle_embedding: int  # numbers in the task table (a buffer; 876k x 512 for ARC-1)

    @property
    def total(self) -> int:
        return self.weights + self.puzzle_embedding


def count_parameters(model: TRM) -> ParamCount:
    return ParamCount(
        weights=sum(p.numel() for p in model.parameters()),
        puzzle_embedding=model.puzzle_emb.numel(),
    )


def count_parameters_for(cfg: ModelConfig, seq_len: int, vocab_size: int, num_puzzle_ids: int) -> ParamCount:
    """The same count without allocating anything (the model is built on the meta device)."""
    with torch.device("meta"):
        return count_parameters(TRM(cfg, seq_len, vocab_size, num_puzzle_ids))


def flops_per_example(
    cfg: ModelConfig, seq_len: int, vocab_size: int = ARC_VOCAB_SIZE, train: bool = True
) -> int:
    """Approximate FLOPs for one example and one supervision step (forward + backward when `train`).

    Counts matmuls only (2 FLOPs per multiply-add); norms, activations and softmax are ignored.
    Per block on S = seq_len + puzzle_emb_len positions, with I = SwiGLU width:
      attention: 2*S*(3D^2 + D^2) projections + 4*S^2*D scores and values; mlp variant: 6*D*S*I_seq;
      conv variant: 2*seq_len*9*D^2 (the 3x3 convolution over the cells)
      channel SwiGLU: 6*S*D*I.      heads: 2*seq_len*D*V + 4*D.
    Forward runs T*(n+1) net calls of num_layers blocks. Backward costs 2x forward, but only for the
    last cycle ((n+1) calls) and the heads, because the first T-1 cycles run without grad.
    """
    D, S = cfg.hidden_size, seq_len + cfg.puzzle_emb_len
    block = 6 * S * D * swiglu_width(D, cfg.expansion)
    if cfg.variant == "attention":
        block += 2 * S * 4 * D * D + 4 * S * S * D
    elif cfg.variant == "mlp":
        block += 6 * D * S * swiglu_width(S, cfg.expansion)
    else:
        block += 2 * seq_len * 9 * D * D
    heads = 2 * seq_len * D * vocab_size + 4 * D
    calls_per_cycle = (cfg.L_cycles + 1) * cfg.num_layers
    forward = cfg.H_cycles * calls_per_cycle * block + heads
    if not train:
        return forward
    return forward + 2 * (calls_per_cycle * block + heads)
