"""pos_encoding = "rope2d" (an option, not in the paper): rotary angles from a cell's row and column."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from arcsolve.errors import ConfigError
from arcsolve.model import TRM, ModelConfig, act_step, initial_carry
from arcsolve.model.layers import Rotary, apply_rotary, grid_angles


def naive_grid_angles(head_dim: int, prefix: int, side: int, theta: float) -> list[list[float]]:
    """Cell by cell: the row's angles, then the column's; task positions on row -2 at columns 0, 1, ..."""
    quarter = head_dim // 4
    freqs = [1.0 / theta ** (i / quarter) for i in range(quarter)]
    places = [(-2, p) for p in range(prefix)] + [(c // side, c % side) for c in range(side * side)]
    return [[r * f for f in freqs] + [c * f for f in freqs] for r, c in places]


@given(
    quarter=st.integers(1, 4),
    prefix=st.integers(1, 4),
    side=st.integers(1, 6),
    theta=st.sampled_from([10.0, 100.0, 10_000.0]),
)
@settings(max_examples=40, deadline=None)
def test_grid_angles_match_the_cell_by_cell_twin(quarter, prefix, side, theta):
    got = grid_angles(4 * quarter, prefix, side, theta)
    want = torch.tensor(naive_grid_angles(4 * quarter, prefix, side, theta))
    assert got.shape == (prefix + side * side, 2 * quarter)
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)


def _score(rotary: Rotary, q: torch.Tensor, k: torch.Tensor, at_q: int, at_k: int) -> float:
    cos, sin = rotary.cos, rotary.sin
    rq = apply_rotary(q.view(1, 1, 1, -1), cos[at_q : at_q + 1], sin[at_q : at_q + 1])
    rk = apply_rotary(k.view(1, 1, 1, -1), cos[at_k : at_k + 1], sin[at_k : at_k + 1])
    return float((rq * rk).sum())


def test_scores_depend_on_the_2d_offset_only():
    """Moving both cells by the same (rows, cols) keeps every score; a 1D table does not: there the
    cell below is `side` tokens away and the cell right of a row's end is the next row's first."""
    side, prefix, head_dim = 5, 2, 16
    two_d = Rotary(head_dim, prefix + side * side, 100.0, grid=(prefix, side))
    one_d = Rotary(head_dim, prefix + side * side, 100.0)
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(head_dim, generator=g), torch.randn(head_dim, generator=g)
    cell = lambda r, c: prefix + r * side + c  # noqa: E731
    # (0, 4) -> (1, 0) is one token apart in 1D but 4 columns back and a row down in 2D.
    pairs = [((0, 0), (1, 0)), ((2, 3), (3, 3)), ((1, 1), (2, 1))]
    below = [_score(two_d, q, k, cell(*a), cell(*b)) for a, b in pairs]
    assert below == pytest.approx([below[0]] * 3, rel=1e-5, abs=1e-5)
    wrap_2d = _score(two_d, q, k, cell(0, 4), cell(1, 0))
    wrap_1d = _score(one_d, q, k, cell(0, 4), cell(1, 0))
    right_1d = _score(one_d, q, k, cell(0, 0), cell(0, 1))
    assert wrap_1d == pytest.approx(right_1d, rel=1e-5)  # 1D: the wrap looks like a right neighbour
    assert wrap_2d != pytest.approx(_score(two_d, q, k, cell(0, 0), cell(0, 1)), rel=1e-3)


def test_rope2d_model_runs_and_needs_a_square_grid_and_head_dim_of_four():
    cfg = ModelConfig(hidden_size=32, num_heads=2, num_layers=1, H_cycles=1, L_cycles=1,
                      halt_max_steps=2, puzzle_emb_len=1, pos_encoding="rope2d")  # fmt: skip
    model = TRM(cfg, 9, 6, 1, generator=torch.Generator().manual_seed(0))
    assert model.rotary is not None and model.rotary.cos.shape == (10, 16)
    batch = {"inputs": torch.randint(0, 6, (2, 9)), "labels": torch.randint(0, 6, (2, 9)),
             "puzzle_ids": torch.zeros(2, dtype=torch.long)}  # fmt: skip
    _, out = act_step(model, initial_carry(model, batch), batch, torch.Generator().manual_seed(0))
    assert out.logits.shape == (2, 9, 6) and torch.isfinite(out.logits).all()
    with pytest.raises(ConfigError, match="square grid"):
        TRM(cfg, 12, 6, 1)
    with pytest.raises(ConfigError, match="multiple of 4"):
        TRM(ModelConfig(hidden_size=12, num_heads=2, pos_encoding="rope2d"), 9, 6, 1)
