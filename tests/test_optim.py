"""AdamATan2 against a scalar reference, sparse sign-SGD, EMA and the LR schedule."""

from __future__ import annotations

import math
import os
import tempfile

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from arcsolve.train.ema import EMA
from arcsolve.train.optim import AdamATan2, SparseSignSGD, set_lr
from arcsolve.train.schedule import lr_at


def adam_atan2_scalar(p, grads, lr, b1, b2, wd):
    """The update rule written out for one number, straight from the definition."""
    m = v = 0.0
    for t, g in enumerate(grads, start=1):
        p = p * (1 - lr * wd)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p = p - lr / (1 - b1**t) * math.atan2(m, math.sqrt(v) / math.sqrt(1 - b2**t))
    return p


def test_adam_atan2_matches_the_scalar_reference():
    g = torch.Generator().manual_seed(0)
    start = torch.randn(3, 4, generator=g, dtype=torch.float64)
    grads = [torch.randn(3, 4, generator=g, dtype=torch.float64) for _ in range(6)]
    grads[2][0, 0] = 0.0  # atan2(0, 0) = 0: no eps needed for a zero gradient
    p = nn.Parameter(start.clone())
    opt = AdamATan2([p], lr=0.05, betas=(0.9, 0.95), weight_decay=0.1)
    for grad in grads:
        p.grad = grad.clone()
        opt.step()
    for i in range(3):
        for j in range(4):
            want = adam_atan2_scalar(
                start[i, j].item(), [gr[i, j].item() for gr in grads], 0.05, 0.9, 0.95, 0.1
            )
            assert math.isclose(p[i, j].item(), want, rel_tol=1e-12, abs_tol=1e-12)


def test_adam_atan2_minimises_a_quadratic_and_resumes_exactly():
    target = torch.tensor([3.0, -2.0, 0.5])

    def run(steps, opt_state=None, start=None):
        p = nn.Parameter(torch.zeros(3) if start is None else start.clone())
        opt = AdamATan2([p], lr=0.05, weight_decay=0.0)
        if opt_state is not None:
            opt.load_state_dict(opt_state)
        for _ in range(steps):
            opt.zero_grad()
            ((p - target) ** 2).sum().backward()
            opt.step()
        return p.detach(), opt.state_dict()

    final, _ = run(400)
    assert torch.allclose(final, target, atol=0.05)
    half, state = run(100)
    resumed, _ = run(100, state, half)
    straight, _ = run(200)
    assert torch.equal(resumed, straight)


def test_sign_sgd_touches_only_the_batch_rows_and_sums_repeats():
    table = torch.randn(10, 3)
    before = table.clone()
    opt = SparseSignSGD(table, lr=0.1, weight_decay=0.5)
    ids = torch.tensor([2, 7, 2, 4])
    grads = torch.tensor([[1.0, -1.0, 0.0], [0.5, 0.5, -0.5], [-3.0, 2.0, 0.0], [0.0, 0.0, 0.0]])
    opt.step(ids, grads)
    untouched = [i for i in range(10) if i not in (2, 4, 7)]
    assert torch.equal(table[untouched], before[untouched])  # bit-identical
    decay = 1 - 0.1 * 0.5
    torch.testing.assert_close(
        table[2], before[2] * decay - 0.1 * torch.tensor([-1.0, 1.0, 0.0])
    )  # summed first
    torch.testing.assert_close(table[7], before[7] * decay - 0.1 * torch.tensor([1.0, 1.0, -1.0]))
    torch.testing.assert_close(table[4], before[4] * decay)  # touched, zero gradient: decay only
    set_lr(opt, 0.2)
    assert opt.lr == 0.2 and opt.state_dict()["param_groups"][0]["lr"] == 0.2
    opt.lr = 0.3
    assert opt.param_groups[0]["lr"] == 0.3
    with pytest.raises(ValueError, match="backward"):
        opt.step(ids, None)


def _sign_sgd_worker(rank: int, world: int, init_file: str, queue) -> None:
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        table = torch.zeros(6, 2)
        opt = SparseSignSGD(table, lr=1.0, weight_decay=0.0)
        # rank 0 pushes row 1 up and row 3 down; rank 1 pushes row 1 down harder, touches row 5
        ids = [torch.tensor([1, 3]), torch.tensor([1, 5])][rank]
        grads = [torch.tensor([[1.0, 1.0], [-1.0, 0.0]]), torch.tensor([[-3.0, 0.5], [2.0, 2.0]])][rank]
        opt.step(ids, grads)
        # Plain lists: a tensor would travel as a shared-memory handle that dies with this process.
        queue.put((rank, table.tolist()))
    finally:
        dist.destroy_process_group()


@pytest.mark.slow
def test_sign_sgd_gathers_rows_over_ranks():
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    with tempfile.TemporaryDirectory() as tmp:
        init_file = os.path.join(tmp, "rendezvous")
        procs = [ctx.Process(target=_sign_sgd_worker, args=(r, 2, init_file, queue)) for r in range(2)]
        for proc in procs:
            proc.start()
        results = dict(queue.get(timeout=60) for _ in procs)
        for proc in procs:
            proc.join(timeout=60)
            assert proc.exitcode == 0
    want = torch.zeros(6, 2)
    want[1] = -torch.tensor([-1.0, 1.0])  # 1 - 3 < 0, 1 + 0.5 > 0
    want[3] = -torch.tensor([-1.0, 0.0])
    want[5] = -torch.tensor([1.0, 1.0])
    assert results[0] == want.tolist() and results[1] == want.tolist()


class TwoLayer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(3, 2)
        self.b = nn.Linear(2, 1)
        self.b.bias.requires_grad_(False)
        self.register_buffer("table", torch.zeros(4))


def test_ema_math_state_and_swapping():
    torch.manual_seed(0)
    model = TwoLayer()
    start = {k: v.clone() for k, v in model.state_dict().items()}
    ema = EMA(model, decay=0.9)
    assert set(ema.shadow) == {"a.weight", "a.bias", "b.weight"}  # frozen params and buffers excluded
    for _ in range(3):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(1.0)
            model.table.add_(1.0)
        ema.update(model)
    # shadow = d^3 * p0 + sum_k (1 - d) d^(3-k) * (p0 + k)
    want = 0.9**3 * start["a.weight"] + sum(0.1 * 0.9 ** (3 - k) * (start["a.weight"] + k) for k in (1, 2, 3))
    torch.testing.assert_close(ema.shadow["a.weight"], want)

    live = model.a.weight.detach().clone()
    with ema.swapped_in(model) as swapped:
        torch.testing.assert_close(swapped.a.weight, ema.shadow["a.weight"])
    assert torch.equal(model.a.weight, live)
    twin = ema.averaged_copy(model)
    torch.testing.assert_close(twin.a.weight, ema.shadow["a.weight"])
    assert torch.equal(twin.table, model.table) and torch.equal(model.a.weight, live)

    other = EMA(TwoLayer(), decay=0.5)
    other.load_state_dict(ema.state_dict())
    assert other.decay == 0.9 and all(torch.equal(other.shadow[k], ema.shadow[k]) for k in ema.shadow)


def test_lr_schedule():
    assert lr_at(0, 1e-4, 2000, 10_000) == 0.0
    assert math.isclose(lr_at(1000, 1e-4, 2000, 10_000), 5e-5)
    assert lr_at(2000, 1e-4, 2000, 10_000) == 1e-4
    assert lr_at(9_999, 1e-4, 2000, 10_000) == 1e-4  # ratio 1.0: constant after warm-up
    assert math.isclose(lr_at(2000, 1.0, 2000, 4000, 0.1), 1.0)
    assert math.isclose(lr_at(3000, 1.0, 2000, 4000, 0.1), 0.55)  # half way down the cosine
    assert math.isclose(lr_at(4000, 1.0, 2000, 4000, 0.1), 0.1)
    assert math.isclose(lr_at(9000, 1.0, 2000, 4000, 0.1), 0.1)  # stays at the floor
    assert lr_at(5, 1.0, 0, 100) == 1.0  # no warm-up
