"""Building blocks of the TRM: init helper, RMSNorm, SwiGLU, rotary embeddings, attention, token mixing.

Parameters are float32. Every layer casts its weights to the dtype of its input on use, so the
activation dtype (bfloat16 on GPU, float32 on CPU) is chosen once, where the embeddings are made.
This is the reference's "cast on use" scheme; it also works unchanged under torch.autocast.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

# Standard deviation of a standard normal truncated to [-2, 2]: sampling there and dividing by it
# gives the requested std after truncation (JAX's truncated_normal initialiser does the same).
_TRUNC2_STD = math.sqrt(1.0 - 4.0 * math.exp(-2.0) / math.sqrt(2.0 * math.pi) / math.erf(math.sqrt(2.0)))


def trunc_normal_(tensor: torch.Tensor, std: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """In place: normal cut at +-2 std, rescaled so the result really has standard deviation `std`."""
    with torch.no_grad():
        nn.init.trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=generator)
        return tensor.mul_(std / _TRUNC2_STD)


def rms_norm(x: torch.Tensor, eps: float) -> torch.Tensor:
    """RMSNorm over the last axis with no learned scale, computed in float32, returned in x's dtype."""
    x32 = x.float()
    x32 = x32 * torch.rsqrt(x32.square().mean(dim=-1, keepdim=True) + eps)
    return x32.to(x.dtype)


class Linear(nn.Module):
    """A float32 weight (LeCun truncated-normal, std 1/sqrt(fan_in)) cast to the input dtype on use."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = False,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.weight = nn.Parameter(
            trunc_normal_(torch.empty(out_features, in_features), 1.0 / math.sqrt(in_features), generator)
        )
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = None if self.bias is None else self.bias.to(x.dtype)
        return F.linear(x, self.weight.to(x.dtype), bias)


def swiglu_width(dim: int, expansion: float) -> int:
    """TRM's inner width: round(expansion * dim * 2/3) rounded up to a multiple of 256 (512 -> 1536, 97 -> 512)."""
    raw = round(expansion * dim * 2 / 3)
    return -(-raw // 256) * 256


class _SiluGate(torch.autograd.Function):
    """silu(gate) * up for h = [gate | up] on the last axis.

    The same arithmetic as `F.silu(gate) * up` after `h.chunk(2, -1)`, forward and backward, so the
    results are bit-identical; but autograd's backward of `chunk` concatenates the two half gradients
    into a fresh tensor, a copy of the whole (rows, 2 x inner) gradient on every call. Here both
    halves are written straight into one gradient tensor.
    """

    @staticmethod
    def forward(ctx, h: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        gate, up = h.chunk(2, dim=-1)
        act = F.silu(gate)
        ctx.save_for_backward(h, act)
        return act * up

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        h, act = ctx.saved_tensors
        gate, up = h.chunk(2, dim=-1)
        grad_h = torch.empty_like(h)
        grad_gate, grad_up = grad_h.chunk(2, dim=-1)
        torch.ops.aten.silu_backward.grad_input(grad * up, gate, grad_input=grad_gate)
        torch.mul(grad, act, out=grad_up)
        return grad_h


def silu_gate(h: torch.Tensor) -> torch.Tensor:
    """(..., 2 * inner) -> (..., inner): silu of the first half times the second half.

    Under torch.compile the plain expression is traced instead: the compiler fuses it anyway, and
    it cannot trace writes into strided `out=` views.
    """
    if torch.is_grad_enabled() and h.requires_grad and not torch.compiler.is_compiling():
        return _SiluGate.apply(h)
    gate, up = h.chunk(2, dim=-1)
    return F.silu(gate) * up


class SwiGLU(nn.Module):
    """down(silu(gate) * up), with gate and up from one fused Linear. Acts on the last axis."""

    def __init__(self, dim: int, expansion: float, generator: torch.Generator | None = None) -> None:
        super().__init__()
        inner = swiglu_width(dim, expansion)
        self.gate_up = Linear(dim, 2 * inner, generator=generator)
        self.down = Linear(inner, dim, generator=generator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(silu_gate(self.gate_up(x)))


class Rotary(nn.Module):
    """cos/sin tables for every position, built once at construction (non-persistent buffers).

    `sin` carries the sign of the rotate-half trick: rotate_half(x) * sin_plain equals
    roll(x, hd/2) * sin with the first half of `sin` negated (sign flips are exact, so this is
    bit-identical and saves a negation and a concatenation per call).
    """

    def __init__(
        self, head_dim: int, max_len: int, theta: float, grid: tuple[int, int] | None = None
    ) -> None:
        super().__init__()
        if grid is None:
            inv_freq = 1.0 / theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
            angles = torch.outer(torch.arange(max_len, dtype=torch.float32), inv_freq)  # (S, hd/2)
        else:
            angles = grid_angles(head_dim, *grid, theta)
        self.register_buffer("cos", torch.cat([angles.cos(), angles.cos()], dim=-1), persistent=False)
        self.register_buffer("sin", torch.cat([-angles.sin(), angles.sin()], dim=-1), persistent=False)


def grid_angles(head_dim: int, prefix: int, side: int, theta: float) -> torch.Tensor:
    """(prefix + side^2, hd/2) rotation angles of 2D RoPE (pos_encoding "rope2d", not in the paper).

    Half the frequency pairs turn with a cell's row, the other half with its column, each half with
    the 1D frequencies of a head_dim/2 head, so a head can pick "the cell above" as sharply as 1D
    RoPE picks "the token before" (in 1D the cell above is `side` tokens away, a far, aliased offset).
    The `prefix` task positions sit on a row of their own two rows above the grid, at columns 0, 1, ...
    """
    quarter = head_dim // 4
    inv_freq = 1.0 / theta ** (torch.arange(0, quarter, dtype=torch.float32) / quarter)
    cells = torch.arange(side * side)
    rows = torch.cat([torch.full((prefix,), -2.0), (cells // side).float()])
    cols = torch.cat([torch.arange(prefix, dtype=torch.float32), (cells % side).float()])
    return torch.cat([torch.outer(rows, inv_freq), torch.outer(cols, inv_freq)], dim=-1)


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x (B, H, S, hd); cos, sin (S, hd) float32 from `Rotary` (sin signed for the roll below).

    x * cos + rotate_half(x) * sin, with rotate_half(x) = [-x2, x1] written as roll(x) = [x2, x1]
    times the signed table. Computed in float32 and rounded once to x's dtype, as the reference does
    (it upcasts q and k to its float32 table): rounding the table to bfloat16 instead moved bf16
    logits by up to 13% after one step. In float32 this is the same arithmetic as before.
    """
    x32 = x.float()
    return (x32 * cos + x32.roll(x.shape[-1] // 2, dims=-1) * sin).to(x.dtype)


class Attention(nn.Module):
    """Non-causal multi-head self-attention: fused qkv, optional RoPE on q and k, SDPA, output projection."""

    def __init__(self, hidden: int, num_heads: int, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.qkv = Linear(hidden, 3 * hidden, generator=generator)
        self.out = Linear(hidden, hidden, generator=generator)

    def forward(self, x: torch.Tensor, rotary: Rotary | None) -> torch.Tensor:
        B, S, D = x.shape
        qkv = self.qkv(x).view(B, S, 3, self.num_heads, D // self.num_heads)
        q, k, v = (t.transpose(1, 2) for t in qkv.unbind(dim=2))  # each (B, H, S, hd)
        if rotary is not None:
            q = apply_rotary(q, rotary.cos[:S], rotary.sin[:S])
            k = apply_rotary(k, rotary.cos[:S], rotary.sin[:S])
        y = F.scaled_dot_product_attention(q, k, v, is_causal=False)  # (B, H, S, hd)
        return self.out(y.transpose(1, 2).reshape(B, S, D))


class TokenMixer(nn.Module):
    """TRM's mlp_t: a SwiGLU across the sequence axis, h <- RMS(h + SwiGLU(h^T))^T.

    Fidelity quirk kept on purpose: the reference applies this RMSNorm to the transposed tensor, so it
    normalises each channel over the *sequence* positions, not each position over the channels. The
    paper's sudoku numbers were obtained that way; changing it would change the model.
    """

    def __init__(
        self, seq_len: int, expansion: float, eps: float, generator: torch.Generator | None = None
    ) -> None:
        super().__init__()
        self.mlp = SwiGLU(seq_len, expansion, generator)
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.transpose(1, 2)  # (B, D, S)
        h = rms_norm(h + self.mlp(h), self.eps)  # normalised over S (see the class docstring)
        return h.transpose(1, 2)  # (B, S, D)


class GridConv(nn.Module):
    """Local token mixing for square grids (variant "conv", not in the paper): a 3x3 convolution.

    The L = side * side answer positions are the cells of the grid, row by row. Each cell mixes with
    its 8 neighbours (zero padding at the border), so one call moves information one cell, and the
    recursion's many calls move it as far as it has to go: a wavefront, as a maze search needs. The
    `prefix` task positions are not cells; they receive the mean over all cells (so q_halt, read at
    position 0, sees the whole grid) and give nothing back except through the channel SwiGLU.
    """

    def __init__(self, dim: int, side: int, prefix: int, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.side, self.prefix = side, prefix
        # Same scale as Linear: std 1/sqrt(fan_in), fan_in = 9 neighbours x dim channels.
        self.weight = nn.Parameter(
            trunc_normal_(torch.empty(dim, dim, 3, 3), 1.0 / math.sqrt(9 * dim), generator)
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        B, _, D = h.shape
        cells = h[:, self.prefix :].transpose(1, 2).reshape(B, D, self.side, self.side)
        mixed = F.conv2d(cells, self.weight.to(h.dtype), padding=1)  # (B, D, side, side)
        mixed = mixed.flatten(2).transpose(1, 2)  # (B, L, D)
        pooled = mixed.mean(dim=1, keepdim=True).expand(B, self.prefix, D)
        return torch.cat([pooled, mixed], dim=1)  # (B, S, D)
