"""The training step's device-side pieces: the deterministic segment sum behind sparse sign-SGD,
and a step (micro-batches, backward, sign-SGD, AdamATan2, EMA) that never reads a value back to the host."""

from __future__ import annotations

import dataclasses

import orjson
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from arcsolve.data.arc_builder import ArcBuildConfig, build_arc_dataset
from arcsolve.data.dataset import TokenDataset
from arcsolve.model import ModelConfig
from arcsolve.train import distributed as dist
from arcsolve.train.config import DataConfig, RunConfig, TrainConfig
from arcsolve.train.data import rows_to_batch
from arcsolve.train.optim import SparseSignSGD, summed_by_id
from arcsolve.train.state import build_state
from arcsolve.train.step import FiniteWatch, train_step


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=1, max_size=40), st.integers(0, 2**31 - 1))
def test_summed_by_id_gives_every_row_its_ids_total(ids, seed):
    ids_t = torch.tensor(ids)
    values = torch.randn(len(ids), 3, generator=torch.Generator().manual_seed(seed))
    sorted_ids, totals = summed_by_id(ids_t, values)
    assert torch.equal(sorted_ids, torch.sort(ids_t).values)
    exact = torch.zeros(7, 3, dtype=torch.float64).index_add_(0, ids_t, values.double())
    torch.testing.assert_close(totals.double(), exact[sorted_ids], rtol=1e-6, atol=1e-6)
    again = summed_by_id(ids_t, values)[1]
    assert torch.equal(totals, again)  # bit for bit


def test_sign_sgd_moves_each_touched_row_once_by_the_sign_of_its_summed_gradient():
    table = torch.ones(5, 2)
    opt = SparseSignSGD(table, lr=0.5, weight_decay=0.2)
    ids = torch.tensor([3, 1, 3, 3, 0])
    grads = torch.tensor([[1.0, -1.0], [2.0, 0.0], [-3.0, 2.0], [1.5, 0.5], [0.0, -0.1]])
    opt.step(ids, grads)
    decayed = 1 - 0.5 * 0.2
    want = torch.ones(5, 2)
    want[3] = decayed - 0.5 * torch.tensor([-1.0, 1.0])  # sums -0.5, 1.5
    want[1] = decayed - 0.5 * torch.tensor([1.0, 0.0])
    want[0] = decayed - 0.5 * torch.tensor([0.0, -1.0])
    assert torch.equal(table, want)


def _tiny_state(tmp_path, accum: int):
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    grids = [[[1, 2], [3, 0]], [[0, 5], [6, 7]], [[8, 0], [0, 9]]]
    for name in ("a", "b"):
        pairs = [{"input": g, "output": [r[::-1] for r in g]} for g in grids]
        (tasks / f"{name}.json").write_bytes(orjson.dumps({"train": pairs[:2], "test": pairs[2:]}))
    build_arc_dataset(ArcBuildConfig(source=str(tasks), aug=2, canvas=4), tmp_path / "data", progress=False)
    dataset = TokenDataset.open(tmp_path / "data")
    model = ModelConfig(hidden_size=32, num_heads=2, num_layers=1, H_cycles=2, L_cycles=1, halt_max_steps=3)
    model = dataclasses.replace(model, halt_exploration_prob=0.5, puzzle_emb_len=1)
    train = TrainConfig(global_batch_size=4, grad_accum_steps=accum, device="cpu", lr_warmup_steps=1)
    cfg = RunConfig(DataConfig(path=str(tmp_path / "data")), model, train)
    return cfg, dataset, build_state(cfg, dataset, torch.device("cpu"))


@pytest.mark.parametrize("accum", [1, 2])
def test_a_training_step_reads_nothing_back_to_the_host(tmp_path, monkeypatch, accum):
    cfg, dataset, state = _tiny_state(tmp_path, accum)
    split = dataset.split("train")
    batches = [
        rows_to_batch(split, torch.arange(i, i + 4).numpy() % split.num_examples, torch.device("cpu"))
        for i in range(3)
    ]
    watch = FiniteWatch(torch.device("cpu"))

    def host_sync(*args, **kwargs):
        raise AssertionError("a host sync inside the training step")

    with monkeypatch.context() as patch:
        for name in ("item", "tolist", "__bool__", "__int__", "__float__", "nonzero"):
            patch.setattr(torch.Tensor, name, host_sync)
        patch.setattr(torch, "unique", host_sync)
        for step, batch in enumerate(batches, start=1):
            state.set_learning_rates(10)
            result = train_step(state, state.model, batch, dist.DistInfo())
            watch.record(step, result)
            state.optimizer_step(result.rows, dist.DistInfo())
    assert watch.problem() is None
    assert torch.count_nonzero(state.model.puzzle_emb) > 0
