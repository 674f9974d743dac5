"""The TRM model, its layers and the ACT carry: shapes, recursion schedule, halting, counts, overfitting."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from arcsolve.config import from_dict
from arcsolve.errors import ConfigError
from arcsolve.model import (
    TRM,
    ModelConfig,
    act_loss,
    act_step,
    count_parameters,
    count_parameters_for,
    evaluate_batch,
    flops_per_example,
    initial_carry,
)
from arcsolve.model.layers import (
    GridConv,
    Rotary,
    apply_rotary,
    rms_norm,
    silu_gate,
    swiglu_width,
    trunc_normal_,
)
from arcsolve.model.trm import Block
from arcsolve.train.optim import AdamATan2, SparseSignSGD

SEQ, VOCAB, IDS = 12, 6, 5


def tiny_cfg(**overrides) -> ModelConfig:
    base = ModelConfig(
        hidden_size=32, num_heads=2, num_layers=2, H_cycles=3, L_cycles=2, halt_max_steps=4, puzzle_emb_len=2
    )
    return replace(base, **overrides)


def tiny_model(cfg: ModelConfig | None = None, seed: int = 0) -> TRM:
    return TRM(cfg or tiny_cfg(), SEQ, VOCAB, IDS, generator=torch.Generator().manual_seed(seed))


def random_batch(batch: int = 4, seed: int = 1) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "inputs": torch.randint(0, VOCAB, (batch, SEQ), generator=g),
        "labels": torch.randint(1, VOCAB, (batch, SEQ), generator=g),
        "puzzle_ids": torch.randint(0, IDS, (batch,), generator=g),
    }


def test_param_counts_match_the_paper():
    arc = count_parameters_for(ModelConfig(), seq_len=900, vocab_size=12, num_puzzle_ids=876_406)
    assert arc.weights == 6_829_058
    assert abs(arc.weights - 6.83e6) / 6.83e6 < 0.01
    assert arc.puzzle_embedding == 876_406 * 512
    sudoku_cfg = ModelConfig(variant="mlp", pos_encoding="none", L_cycles=6)
    sudoku = count_parameters_for(sudoku_cfg, seq_len=81, vocab_size=11, num_puzzle_ids=1)
    assert sudoku.weights == 5_028_866
    assert abs(sudoku.weights - 5.0e6) / 5.0e6 < 0.01


def test_meta_count_equals_real_count_and_table_is_a_buffer():
    model = tiny_model()
    assert count_parameters(model) == count_parameters_for(tiny_cfg(), SEQ, VOCAB, IDS)
    assert "puzzle_emb" not in dict(model.named_parameters())
    state = model.state_dict()
    assert {"puzzle_emb", "y_init", "z_init"} <= set(state)
    assert not any("rotary" in key for key in state)  # cos/sin tables are rebuilt, not saved
    assert torch.count_nonzero(model.puzzle_emb) == 0


@pytest.mark.parametrize(
    "variant,pos", [("attention", "rope"), ("attention", "learned"), ("attention", "none"), ("mlp", "none")]
)
def test_shapes(variant, pos):
    cfg = tiny_cfg(variant=variant, pos_encoding=pos)
    model = tiny_model(cfg)
    batch = random_batch()
    carry, out = act_step(model, initial_carry(model, batch), batch, torch.Generator().manual_seed(0))
    assert out.logits.shape == (4, SEQ, VOCAB)
    assert out.q_halt_logits.shape == (4,) and out.q_halt_logits.dtype == torch.float32
    assert carry.y.shape == carry.z.shape == (4, SEQ + cfg.puzzle_emb_len, cfg.hidden_size)
    assert carry.y.dtype == torch.float32  # "auto" is float32 on CPU
    assert not carry.y.requires_grad and not carry.z.requires_grad
    assert torch.allclose(out.q_halt_logits, torch.full((4,), -5.0))  # q head starts at weight 0, bias -5


def test_only_the_last_cycle_is_in_the_graph():
    cfg = tiny_cfg(H_cycles=3, L_cycles=2)
    model = tiny_model(cfg)
    calls: list[tuple[bool, bool]] = []
    model.blocks[0].register_forward_hook(
        lambda m, i, o: calls.append((torch.is_grad_enabled(), o.requires_grad))
    )
    batch = random_batch()
    _, out = act_step(model, initial_carry(model, batch), batch, torch.Generator().manual_seed(0))
    per_cycle = cfg.L_cycles + 1
    assert len(calls) == cfg.H_cycles * per_cycle
    assert calls == [(False, False)] * (cfg.H_cycles - 1) * per_cycle + [(True, True)] * per_cycle
    loss, _ = act_loss(out)
    loss.backward()
    assert out.puzzle_rows.grad is not None and out.puzzle_rows.grad.shape == (4, cfg.hidden_size)
    assert all(p.grad is not None for p in model.parameters())


def test_last_cycle_gradient_ignores_how_earlier_cycles_ran():
    """Gradients depend on the earlier cycles only through their (detached) values."""
    model = tiny_model(tiny_cfg(H_cycles=2))
    batch = random_batch()
    rows = model.puzzle_emb[batch["puzzle_ids"]]
    y0 = model.y_init.expand(4, SEQ + 2, -1)
    z0 = model.z_init.expand(4, SEQ + 2, -1)
    x = model.embed(batch["inputs"], rows)
    with torch.no_grad():
        y1, z1 = model.cycle(y0, z0, x)
    _, _, logits, _ = model(batch["inputs"], rows, y0, z0)
    grads_full = torch.autograd.grad(logits.sum(), model.lm_head.weight)[0]
    model.cfg = replace(model.cfg, H_cycles=1)
    _, _, logits_direct, _ = model(batch["inputs"], rows, y1, z1)
    grads_direct = torch.autograd.grad(logits_direct.sum(), model.lm_head.weight)[0]
    torch.testing.assert_close(grads_full, grads_direct)


def test_prefix_holds_the_task_vector_only_at_position_zero():
    cfg = tiny_cfg(puzzle_emb_len=3)
    model = tiny_model(cfg)
    rows = torch.randn(4, cfg.hidden_size)
    x = model.embed(random_batch()["inputs"], rows)
    assert x.shape == (4, SEQ + 3, cfg.hidden_size)
    torch.testing.assert_close(x[:, 0], rows * math.sqrt(cfg.hidden_size))
    assert torch.count_nonzero(x[:, 1:3]) == 0


def test_carry_resets_halted_rows_and_keeps_the_others():
    model = tiny_model()
    model.eval()
    first, second = random_batch(seed=1), random_batch(seed=2)
    carry, _ = act_step(model, initial_carry(model, first), first)
    carry.halted = torch.tensor([True, False, True, False])
    new, out = act_step(model, carry, second)
    for row, was_halted in enumerate([True, False, True, False]):
        source = second if was_halted else first
        assert torch.equal(new.inputs[row], source["inputs"][row])
        assert torch.equal(out.labels[row], source["labels"][row])
        assert new.puzzle_ids[row] == source["puzzle_ids"][row]
    assert new.steps.tolist() == [1, 2, 1, 2]
    # Each row continues from its own state: a fresh row from y_init/z_init, a kept row from the carry.
    rows = model.puzzle_emb[new.puzzle_ids]
    fresh_y = model.y_init.expand_as(carry.y)
    fresh_z = model.z_init.expand_as(carry.z)
    with torch.no_grad():
        y_fresh, _, _, _ = model(new.inputs, rows, fresh_y, fresh_z)
        y_kept, _, _, _ = model(new.inputs, rows, carry.y, carry.z)
    torch.testing.assert_close(new.y[[0, 2]], y_fresh[[0, 2]])
    torch.testing.assert_close(new.y[[1, 3]], y_kept[[1, 3]])


def test_eval_runs_exactly_halt_max_steps_even_if_q_says_halt():
    model = tiny_model()
    with torch.no_grad():
        model.q_head.bias.fill_(5.0)  # q_halt > 0 everywhere: training would stop at once
    model.eval()
    batch = random_batch()
    carry = initial_carry(model, batch)
    for step in range(1, model.cfg.halt_max_steps + 1):
        carry, out = act_step(model, carry, batch)
        assert out.steps.tolist() == [step] * 4
        assert bool(out.halted.all()) == (step == model.cfg.halt_max_steps)
    assert not out.puzzle_rows.requires_grad
    final = evaluate_batch(model, batch)
    assert final.steps.tolist() == [model.cfg.halt_max_steps] * 4
    torch.testing.assert_close(final.logits, out.logits)


def test_training_halting_rules_and_exploration():
    model = tiny_model(tiny_cfg(halt_exploration_prob=0.0))
    with torch.no_grad():
        model.q_head.bias.fill_(5.0)
    batch = random_batch()
    _, out = act_step(model, initial_carry(model, batch), batch, None)
    assert out.halted.all()  # q_halt > 0 halts in training

    with torch.no_grad():
        model.q_head.bias.fill_(-5.0)
    carry = initial_carry(model, batch)
    for _ in range(model.cfg.halt_max_steps):
        carry, out = act_step(model, carry, batch)
    assert out.halted.all() and out.steps.tolist() == [4] * 4  # the step limit always halts

    explore = tiny_model(tiny_cfg(halt_exploration_prob=1.0, halt_max_steps=6))
    with torch.no_grad():
        explore.q_head.bias.fill_(5.0)
    big = random_batch(batch=64)
    carry = initial_carry(explore, big)
    halt_steps = torch.zeros(64, dtype=torch.int32)
    gen = torch.Generator().manual_seed(3)
    for _ in range(6):
        carry, out = act_step(explore, carry, big, gen)
        halt_steps = torch.where((halt_steps == 0) & out.halted, out.steps, halt_steps)
    assert halt_steps.min() >= 2 and halt_steps.max() <= 6 and len(set(halt_steps.tolist())) > 1
    with pytest.raises(ValueError, match="Generator"):
        act_step(explore, initial_carry(explore, big), big, None)


def test_exploration_is_deterministic_given_the_generator():
    model = tiny_model(tiny_cfg(halt_exploration_prob=0.5))
    with torch.no_grad():
        model.q_head.bias.fill_(5.0)
    batch = random_batch(batch=32)
    runs = []
    for _ in range(2):
        _, out = act_step(model, initial_carry(model, batch), batch, torch.Generator().manual_seed(7))
        runs.append(out.halted)
    assert torch.equal(runs[0], runs[1])


def test_bfloat16_forward_keeps_float32_parameters():
    model = tiny_model(tiny_cfg(forward_dtype="bfloat16"))
    batch = random_batch()
    carry, out = act_step(model, initial_carry(model, batch), batch, torch.Generator().manual_seed(0))
    assert carry.y.dtype == torch.bfloat16 and out.logits.dtype == torch.bfloat16
    assert out.q_halt_logits.dtype == torch.float32
    act_loss(out)[0].backward()
    assert all(p.dtype == torch.float32 and p.grad.dtype == torch.float32 for p in model.parameters())


def test_layers():
    assert swiglu_width(512, 4.0) == 1536 and swiglu_width(97, 4.0) == 512
    x = trunc_normal_(torch.empty(200_000), std=0.5, generator=torch.Generator().manual_seed(0))
    assert abs(x.std().item() - 0.5) < 0.01 and x.abs().max() <= 2 * 0.5 / 0.8796 + 1e-4
    h = torch.randn(3, 5, 16, dtype=torch.bfloat16)
    out = rms_norm(h, 1e-5)
    ref = h.float() / torch.sqrt(h.float().pow(2).mean(-1, keepdim=True) + 1e-5)
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out.float(), ref, atol=1e-2, rtol=1e-2)
    # RoPE: q.k after rotation depends only on the offset between the two positions.
    rot = Rotary(8, 20, 10_000.0)
    q, k = torch.randn(8), torch.randn(8)
    qs = apply_rotary(q.expand(1, 1, 20, 8), rot.cos, rot.sin)[0, 0]
    ks = apply_rotary(k.expand(1, 1, 20, 8), rot.cos, rot.sin)[0, 0]
    torch.testing.assert_close(qs[3] @ ks[1], qs[12] @ ks[10])
    torch.testing.assert_close(qs[0], q)


def _with_grad(fn, x: torch.Tensor, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    leaf = x.detach().clone().requires_grad_(True)
    out = fn(leaf)
    out.backward(grad)
    return out.detach(), leaf.grad


@pytest.mark.parametrize("transposed", [False, True])
def test_fast_layers_equal_their_written_out_formulas_bit_for_bit(transposed):
    """Rotary (roll with a signed sin table) and the SwiGLU gate (one gradient tensor instead of
    chunk's concatenation) against the plain formulas they replaced: float32 values and gradients
    exactly equal, for contiguous and transposed memory layouts."""
    g = torch.Generator().manual_seed(0)
    rot = Rotary(8, 37, 10_000.0)
    half = torch.outer(torch.arange(37.0), 1.0 / 10_000.0 ** (torch.arange(0, 8, 2) / 8))
    cos, sin = torch.cat([half.cos(), half.cos()], -1), torch.cat([half.sin(), half.sin()], -1)
    q = torch.randn(4, 3, 37, 8, generator=g)

    def rotate_half(t: torch.Tensor) -> torch.Tensor:
        return torch.cat([-t[..., 4:], t[..., :4]], dim=-1)

    grad = torch.randn(q.shape, generator=g)
    fast = _with_grad(lambda t: apply_rotary(t, rot.cos, rot.sin), q, grad)
    slow = _with_grad(lambda t: t * cos + rotate_half(t) * sin, q, grad)
    assert torch.equal(rot.cos, cos) and torch.equal(fast[0], slow[0]) and torch.equal(fast[1], slow[1])

    h = torch.randn(4, 37, 2 * 24, generator=g)
    h = h.transpose(1, 2).contiguous().transpose(1, 2) if transposed else h
    grad = torch.randn(4, 37, 24, generator=g)

    def plain_gate(t: torch.Tensor) -> torch.Tensor:
        gate, up = t.chunk(2, dim=-1)
        return torch.nn.functional.silu(gate) * up

    fast, slow = _with_grad(silu_gate, h, grad), _with_grad(plain_gate, h, grad)
    assert torch.equal(fast[0], slow[0]) and torch.equal(fast[1], slow[1])
    with torch.no_grad():
        assert torch.equal(silu_gate(h), slow[0])


@pytest.mark.parametrize("variant,pos", [("attention", "rope"), ("mlp", "none")])
def test_flops_formula_matches_the_counter(variant, pos):
    cfg = tiny_cfg(variant=variant, pos_encoding=pos)
    model = tiny_model(cfg)
    batch = random_batch(batch=2)
    carry = initial_carry(model, batch)
    with FlopCounterMode(display=False) as counter:
        _, out = act_step(model, carry, batch, torch.Generator().manual_seed(0))
        act_loss(out)[0].backward()
    measured = counter.get_total_flops() / 2
    formula = flops_per_example(cfg, SEQ, VOCAB)
    S, D = SEQ + cfg.puzzle_emb_len, cfg.hidden_size
    calls = (cfg.H_cycles + 2) * (cfg.L_cycles + 1) * cfg.num_layers
    attention_core = calls * 4 * S * S * D if variant == "attention" else 0
    # Some torch builds do not count the CPU SDPA kernel; everything else must agree exactly.
    assert measured in (formula, formula - attention_core)
    assert flops_per_example(cfg, SEQ, VOCAB, train=False) < formula


def test_config_validation():
    from arcsolve.config import checked

    ModelConfig().validate("cfg")
    with pytest.raises(ConfigError, match="num_heads"):
        ModelConfig(hidden_size=100, num_heads=8).validate("cfg")
    with pytest.raises(ConfigError, match="pos_encoding"):
        ModelConfig(variant="mlp").validate("cfg")
    with pytest.raises(ConfigError, match="'conv' has no attention"):
        ModelConfig(variant="conv").validate("cfg")
    with pytest.raises(ConfigError, match="'variant' must be one of 'attention', 'mlp', 'conv'"):
        checked(ModelConfig(variant="gru", pos_encoding="none"), "cfg")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="'hidden_size' must be an integer"):
        checked(ModelConfig(hidden_size=64.0), "cfg")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="no_act_continue"):
        ModelConfig(no_act_continue=False).validate("cfg")
    with pytest.raises(ConfigError, match="halt_exploration_prob"):
        ModelConfig(halt_exploration_prob=1.5).validate("cfg")
    with pytest.raises(ConfigError, match="L_cycles"):
        from_dict(ModelConfig, {"L_cycles": 0})
    with pytest.raises(ConfigError, match="L_cycels"):
        from_dict(ModelConfig, {"L_cycels": 6})
    cfg = from_dict(ModelConfig, {"variant": "mlp", "pos_encoding": "none", "L_cycles": 6})
    assert cfg.variant == "mlp" and cfg.hidden_size == 512
    assert cfg.dtype_for(torch.device("cpu")) == torch.float32
    assert cfg.dtype_for(torch.device("cuda")) == torch.bfloat16


@pytest.mark.slow
def test_tiny_model_overfits_a_fixed_batch():
    """The whole training step (ACT, stablemax, AdamATan2, sign-SGD rows) learns a fixed batch exactly."""
    torch.manual_seed(0)
    cfg = ModelConfig(
        hidden_size=64,
        num_heads=4,
        num_layers=2,
        H_cycles=2,
        L_cycles=2,
        halt_max_steps=2,
        puzzle_emb_len=2,
        halt_exploration_prob=0.1,
    )
    seq, vocab, ids, rows = 16, 8, 4, 8
    model = TRM(cfg, seq, vocab, ids, generator=torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(1)
    inputs = torch.randint(1, vocab, (rows, seq), generator=g)
    labels = torch.tensor([0, 3, 5, 7, 1, 2, 4, 6])[inputs.roll(1, dims=1)]  # needs the left neighbour
    labels[:, -2:] = 0  # a couple of ignored positions
    batch = {"inputs": inputs, "labels": labels, "puzzle_ids": torch.arange(rows) % ids}
    opt = AdamATan2(model.parameters(), lr=1e-3, weight_decay=0.0)
    # Sign-SGD moves every coordinate by its full rate each step, even at the optimum: at 1e-2 the
    # rows random-walk and 3 of 10 seeds lost exactness again by step 300; at 1e-3, 10 of 10 held it.
    sparse = SparseSignSGD(model.puzzle_emb, lr=1e-3, weight_decay=0.0)
    carry, gen = initial_carry(model, batch), torch.Generator().manual_seed(2)
    first = None
    for _ in range(300):
        carry, out = act_step(model, carry, batch, gen)
        loss, metrics = act_loss(out)
        (loss / rows).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        sparse.step(out.puzzle_ids, out.puzzle_rows.grad)
        first = metrics["lm_loss"].item() if first is None else first
    model.eval()
    final = evaluate_batch(model, batch)
    _, metrics = act_loss(final)
    assert metrics["lm_loss"].item() < 0.1 * first
    assert metrics["exact_accuracy"].item() == metrics["count"].item() == rows


# The conv variant (local mixing over a square grid). SIDE x SIDE cells after PREFIX task positions.
SIDE, PREFIX = 5, 2


def conv_cfg(**overrides) -> ModelConfig:
    return tiny_cfg(variant="conv", pos_encoding="none", puzzle_emb_len=PREFIX, **overrides)


def test_grid_conv_matches_a_neighbour_sum_reference():
    torch.manual_seed(0)
    D = 6
    conv = GridConv(D, SIDE, PREFIX, generator=torch.Generator().manual_seed(0))
    h = torch.randn(2, PREFIX + SIDE * SIDE, D)
    out = conv(h)
    cells = h[:, PREFIX:].reshape(2, SIDE, SIDE, D)
    want = torch.zeros(2, SIDE, SIDE, D)
    for i in range(SIDE):
        for j in range(SIDE):
            for a in range(3):
                for b in range(3):
                    r, c = i + a - 1, j + b - 1
                    if 0 <= r < SIDE and 0 <= c < SIDE:  # zero padding outside the grid
                        want[:, i, j] += cells[:, r, c] @ conv.weight[:, :, a, b].T
    want = want.reshape(2, SIDE * SIDE, D)
    assert torch.allclose(out[:, PREFIX:], want, atol=1e-5)
    for p in range(PREFIX):  # every prefix position gets the mean over the cells
        assert torch.allclose(out[:, p], want.mean(dim=1), atol=1e-5)


@pytest.mark.parametrize("cell", [(2, 2), (0, 0), (1, SIDE - 1), (SIDE - 1, 0)])
def test_conv_block_changes_only_the_3x3_neighbourhood_of_a_cell(cell):
    """A flattened-sequence bug would leak across row ends ((1, 4) -> (2, 0)) or wrap around."""
    block = Block(conv_cfg(), SIDE * SIDE, generator=torch.Generator().manual_seed(0))
    h = torch.randn(1, PREFIX + SIDE * SIDE, 32, generator=torch.Generator().manual_seed(1))
    bumped = h.clone()
    bumped[0, PREFIX + cell[0] * SIDE + cell[1]] += 1.0
    with torch.no_grad():
        changed = (block(bumped, None) - block(h, None)).abs().amax(dim=-1)[0] > 1e-6
    assert changed[:PREFIX].all()  # the prefix sees the mean over the cells
    for r in range(SIDE):
        for c in range(SIDE):
            near = abs(r - cell[0]) <= 1 and abs(c - cell[1]) <= 1
            assert bool(changed[PREFIX + r * SIDE + c]) == near, (r, c)


def test_conv_variant_runs_trains_and_counts_its_flops():
    cfg = conv_cfg()
    seq = SIDE * SIDE
    model = TRM(cfg, seq, VOCAB, IDS, generator=torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(1)
    batch = {
        "inputs": torch.randint(0, VOCAB, (2, seq), generator=g),
        "labels": torch.randint(1, VOCAB, (2, seq), generator=g),
        "puzzle_ids": torch.randint(0, IDS, (2,), generator=g),
    }
    with FlopCounterMode(display=False) as counter:
        _, out = act_step(model, initial_carry(model, batch), batch, torch.Generator().manual_seed(0))
        act_loss(out)[0].backward()
    assert out.logits.shape == (2, seq, VOCAB)
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters() if p.dim() == 4)
    assert counter.get_total_flops() / 2 == flops_per_example(cfg, seq, VOCAB)


def test_conv_variant_refuses_data_that_is_not_a_square_grid():
    with pytest.raises(ConfigError, match="square grid, but the data has 12 cells"):
        TRM(conv_cfg(), 12, VOCAB, IDS)


def _rope_reference(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Textbook rotary in float32, rounded once: x * cos + rotate_half(x) * sin, rotate_half = [-x2, x1].
    (Rotary's `sin` carries the rotate-half sign in its first half; the plain table is its second half.)"""
    half = x.shape[-1] // 2
    x32 = x.float()
    plain_sin = torch.cat([sin[..., half:], sin[..., half:]], dim=-1)
    rotated = torch.cat([-x32[..., half:], x32[..., :half]], dim=-1)
    return (x32 * cos.float() + rotated * plain_sin.float()).to(x.dtype)


def _rope_in_bf16(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """What arcsolve did before: the tables rounded to the activation dtype."""
    return x * cos.to(x.dtype) + x.roll(x.shape[-1] // 2, dims=-1) * sin.to(x.dtype)


def test_bf16_rope_runs_in_float32_like_the_reference(monkeypatch):
    import arcsolve.model.layers as layers

    # Rotary angles grow with the position: 40 positions make the bf16 rounding of the table visible.
    model = TRM(
        tiny_cfg(forward_dtype="bfloat16"), 38, VOCAB, IDS, generator=torch.Generator().manual_seed(0)
    )
    g = torch.Generator().manual_seed(3)
    batch = {
        "inputs": torch.randint(0, VOCAB, (4, 38), generator=g),
        "labels": torch.randint(1, VOCAB, (4, 38), generator=g),
        "puzzle_ids": torch.randint(0, IDS, (4,), generator=g),
    }
    with torch.no_grad():
        model.puzzle_emb.normal_(generator=g)

    def one_step_logits() -> torch.Tensor:
        _, out = act_step(model.eval(), initial_carry(model, batch), batch)
        assert out.logits.dtype == torch.bfloat16
        return out.logits.float()

    ours = one_step_logits()
    monkeypatch.setattr(layers, "apply_rotary", _rope_reference)
    reference = one_step_logits()
    monkeypatch.setattr(layers, "apply_rotary", _rope_in_bf16)
    table_in_bf16 = one_step_logits()
    assert torch.equal(ours, reference)
    assert not torch.equal(table_in_bf16, reference)  # the test sees the old rounding
