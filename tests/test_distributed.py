"""`arcsolve train` under torchrun on CPU (gloo, 2 ranks), and the rank-aware pieces of evaluation.

The torchrun tests start real processes (each imports torch: ~5-10 s apiece on a small machine), so
they share one run directory: 4 steps with the plain CLI, then `--resume` to 6 through a small
wrapper that also saves each rank's final weights for comparison.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import numpy as np
import orjson
import pytest
import torch

from arcsolve.data.arc_builder import ArcBuildConfig, build_arc_dataset
from arcsolve.data.dataset import TokenDataset
from arcsolve.model import TRM, ModelConfig
from arcsolve.train import distributed as dist
from arcsolve.train import evaluate
from arcsolve.train.checkpoint import list_checkpoints, load_checkpoint
from arcsolve.train.config import load_run_config
from arcsolve.train.loop import run_train
from arcsolve.train.metrics import read_metrics

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 300

# Runs the real CLI under torchrun and then saves this rank's live weights, which no rank but 0
# writes anywhere. The TrainState is caught by wrapping the loop's build_state.
WRAPPER = textwrap.dedent(
    """
    import os, sys
    import torch
    import arcsolve.train.loop as loop
    from arcsolve.cli import main

    states = []
    build = loop.build_state
    loop.build_state = lambda *a, **k: states.append(build(*a, **k)) or states[-1]
    dump, sys.argv = sys.argv[1], ["arcsolve", *sys.argv[2:]]
    try:
        main()
    except SystemExit as done:
        if done.code:
            raise
    torch.save(states[-1].model.state_dict(), f"{dump}.rank{os.environ['RANK']}.pt")
    """
)

CONFIG = """
[data]
path = "{data}"

[model]
hidden_size = 32
num_heads = 2
num_layers = 1
H_cycles = 2
L_cycles = 1
halt_max_steps = 3
puzzle_emb_len = 1

[train]
global_batch_size = 4
lr = 1e-3
lr_warmup_steps = 2
ema_rate = 0.5
eval_every = 0
log_every = 1
device = "cpu"
cpu_threads = 1
"""


def torchrun() -> list[str]:
    beside = Path(sys.executable).with_name("torchrun")
    found = str(beside) if beside.exists() else shutil.which("torchrun")
    if found is None:
        pytest.skip("torchrun is not installed")
    # --standalone picks a free rendezvous port: other test runs on the machine do not collide
    return [found, "--standalone", "--nproc_per_node", "2"]


def launch(*args: str) -> subprocess.CompletedProcess:
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": path}
    done = subprocess.run(
        [*torchrun(), *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=TIMEOUT
    )
    assert done.returncode == 0, f"torchrun failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-4000:]}"
    return done


def build_dataset(root: Path) -> Path:
    tasks = root / "tasks"
    tasks.mkdir(parents=True)
    grids = [
        [[1, 2, 0], [0, 3, 0], [4, 0, 0]],
        [[5, 0, 6], [0, 7, 0], [0, 0, 8]],
        [[0, 9, 1], [2, 0, 0], [0, 3, 4]],
    ]
    for t in range(3):
        pairs = [{"input": g, "output": [row[::-1] for row in g]} for g in np.roll(grids, t, axis=0).tolist()]
        (tasks / f"t{t}.json").write_bytes(orjson.dumps({"train": pairs[:2], "test": pairs[2:]}))
    out = root / "data"
    build_arc_dataset(ArcBuildConfig(source=str(tasks), aug=2, canvas=4, seed=0), out, progress=False)
    return out


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    """The same run dir after `torchrun -m arcsolve train --max-steps 4`, then `--resume` to 6."""
    root = tmp_path_factory.mktemp("dist")
    config = root / "tiny.toml"
    config.write_text(CONFIG.format(data=build_dataset(root)))
    run = root / "run"
    first = launch("-m", "arcsolve", "train", str(config), "--out", str(run), "--max-steps", "4")
    after_four = {
        "checkpoints": [p.name for p in list_checkpoints(run)],
        "metrics": read_metrics(run / "metrics.jsonl"),
        "stdout": first.stdout,
    }
    (root / "wrapper.py").write_text(WRAPPER)
    resume = ["train", str(config), "--out", str(run), "--max-steps", "6", "--resume"]
    launch(str(root / "wrapper.py"), str(root / "resumed"), *resume)
    return root, run, config, after_four


def step_kinds(records: list[dict]) -> list[tuple[int, str]]:
    return [(r["step"], next((k.split("/")[0] for k in r if "/" in k), "header")) for r in records]


@pytest.mark.slow
def test_torchrun_trains_on_cpu_with_gloo(two_ranks):
    _, run, _, after_four = two_ranks
    assert after_four["checkpoints"] == ["step_00000004.pt"]
    assert "step 4" in after_four["stdout"]
    kinds = step_kinds(after_four["metrics"])
    assert kinds == [(0, "header"), (1, "train"), (2, "train"), (3, "train"), (4, "train"), (4, "eval")]
    header = after_four["metrics"][0]
    assert header["world_size"] == 2
    assert (run / "config.toml").exists()


@pytest.mark.slow
def test_resume_under_torchrun_keeps_both_ranks_identical(two_ranks):
    root, run, _, _ = two_ranks
    rank0 = torch.load(root / "resumed.rank0.pt")
    rank1 = torch.load(root / "resumed.rank1.pt")
    payload = load_checkpoint(run)
    assert payload["step"] == 6
    for name, value in rank0.items():
        assert torch.equal(value, rank1[name]), f"{name} differs between ranks"
        assert torch.equal(value, payload["model"][name]), f"{name} differs from the checkpoint"
    assert torch.count_nonzero(rank0["puzzle_emb"]) > 0  # sign-SGD rows were gathered over ranks

    carries = payload["carry"]  # one per rank: each continues its own in-flight sequences
    assert len(carries) == 2 and not torch.equal(carries[0]["inputs"], carries[1]["inputs"])
    assert carries[0]["inputs"].shape[0] == 2  # per-rank half of the global batch

    counts = Counter(step_kinds(read_metrics(run / "metrics.jsonl")))
    assert [k for k, n in counts.items() if n > 1] == []
    assert sorted(s for s, kind in counts if kind == "train") == [1, 2, 3, 4, 5, 6]


@pytest.mark.slow
def test_resume_under_torchrun_is_bit_exact(two_ranks):
    root, run, config, _ = two_ranks
    straight = root / "straight"
    args = ["train", str(config), "--out", str(straight), "--max-steps", "6"]
    launch(str(root / "wrapper.py"), str(root / "straight"), *args)
    resumed, direct = load_checkpoint(run), load_checkpoint(straight)
    for key in ("model", "eval_model"):
        for name, value in direct[key].items():
            assert torch.equal(value, resumed[key][name]), f"{key}.{name}"

    def train_lines(path):
        return [
            {k: v for k, v in r.items() if k != "steps_per_s"}
            for r in read_metrics(path)
            if "train/lm_loss" in r
        ]

    assert train_lines(run / "metrics.jsonl") == train_lines(straight / "metrics.jsonl")


def first_steps(run: Path, steps: int) -> tuple[list[dict], dict]:
    lines = [
        {k: v for k, v in r.items() if k != "steps_per_s"}
        for r in read_metrics(run / "metrics.jsonl")
        if "train/lm_loss" in r and r["step"] <= steps
    ]
    return lines, load_checkpoint(run / "checkpoints" / f"step_{steps:08d}.pt")


def assert_same_to_rounding(a: Path, b: Path, steps: int = 4) -> None:
    """The same run split differently over ranks and micro-batches: equal to float32 rounding."""
    (lines_a, pa), (lines_b, pb) = first_steps(a, steps), first_steps(b, steps)
    assert len(lines_a) == len(lines_b) == steps
    for x, y in zip(lines_a, lines_b, strict=True):
        assert x == pytest.approx(y, rel=1e-5, abs=1e-6)
    for name, value in pa["model"].items():
        torch.testing.assert_close(pb["model"][name], value, rtol=1e-5, atol=1e-6, msg=name)
    slots = [torch.cat([c[k] for c in p["carry"]]) for p in (pa, pb) for k in ("inputs",)]
    assert torch.equal(slots[0], slots[1])  # the same rows in the same global slots


def test_two_ranks_equal_one_process_with_two_micro_batches(two_ranks, tmp_path):
    """Global batch 4: two gloo ranks of 2 rows each vs one process running 2 micro-batches of 2."""
    _, run, config, _ = two_ranks
    single = tmp_path / "single"
    run_train(load_run_config(config, ["train.grad_accum_steps=2"]), single, max_steps=4, progress=False)
    assert_same_to_rounding(run, single)


@pytest.mark.slow
def test_two_ranks_with_micro_batches_equal_two_ranks_without(two_ranks):
    root, run, config, _ = two_ranks
    accum = root / "accum"
    args = ["-m", "arcsolve", "train", str(config), "--out", str(accum), "--max-steps", "4"]
    launch(*args, "--set", "train.grad_accum_steps=2")
    assert_same_to_rounding(run, accum)


def small_model_and_split(tmp_path: Path):
    dataset = TokenDataset.open(build_dataset(tmp_path))
    cfg = ModelConfig(
        hidden_size=32, num_heads=2, num_layers=1, H_cycles=2, L_cycles=1, halt_max_steps=2, puzzle_emb_len=1
    )
    model = TRM(
        cfg,
        dataset.seq_len,
        dataset.vocab_size,
        dataset.num_puzzle_ids,
        generator=torch.Generator().manual_seed(0),
    )
    return model, dataset.split("test")


def test_eval_metrics_do_not_depend_on_padding_or_batch_size(tmp_path):
    model, split = small_model_and_split(tmp_path)
    cpu = torch.device("cpu")
    results = [evaluate.evaluate_split(model, split, size, 0, cpu) for size in (1, 2, 4, 32)]
    assert results[0]["count"] == split.num_examples == 9
    for other in results[1:]:
        assert other == pytest.approx(results[0], rel=1e-5)


def test_a_rank_without_eval_rows_still_joins_the_reduction(tmp_path, monkeypatch):
    """With fewer eval rows than ranks, rank 1 has nothing to run; skipping the all-reduce would hang rank 0."""
    model, split = small_model_and_split(tmp_path)
    calls = []

    def fake_all_reduce(values, info):
        calls.append(values.clone())
        return values

    monkeypatch.setattr(evaluate.dist, "all_reduce_sum", fake_all_reduce)
    info = dist.DistInfo(rank=1, world_size=2)
    assert evaluate.evaluate_split(model, split, 4, 1, torch.device("cpu"), info) == {}  # max_examples = 1
    assert len(calls) == 1 and calls[0][-1] == 0  # joined, with zero rows seen
    assert (
        evaluate.evaluate_split(model, split, 4, 1, torch.device("cpu"), dist.DistInfo(0, 0, 2))["count"] == 1
    )


def test_gather_to_main_without_a_process_group_is_a_one_item_list():
    assert dist.gather_to_main({"x": 1}, dist.DistInfo()) == [{"x": 1}]
