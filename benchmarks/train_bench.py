"""Training-step throughput against this machine's matmul peak, and what the paper's ARC run costs on H100s.

    python benchmarks/train_bench.py [--quick] [--threads N]

Measured here, in one run:
- the fp32 matmul peak: torch.mm of large square matrices, best of several (2 n^3 FLOPs each);
- one training step exactly as the loop runs it (act_step forward + backward of the stablemax/halting
  loss, AdamATan2, sparse sign-SGD on the task rows, EMA update) for the CPU tiny ARC config
  (hidden 128, 8x8 canvas), a hidden-256 model on the same canvas, and, without --quick, the paper's
  ARC model (hidden 512, 30x30 canvas = 900 tokens, a few rows: it is slow on a CPU);
- model FLOP/s = rows x flops_per_example / step time, and that as a fraction of the matmul peak;
- an estimate of the paper's ARC-AGI-1 run on H100s from the FLOP formula (assumptions printed).
The last line printed is a JSON object with every number; `run(quick)` returns it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from dataclasses import dataclass, replace

import orjson
import torch

from arcsolve.model import TRM, ModelConfig, flops_per_example
from arcsolve.train.batches import reference_total_steps
from arcsolve.train.config import RunConfig, TrainConfig
from arcsolve.train.distributed import DistInfo
from arcsolve.train.ema import EMA
from arcsolve.train.optim import AdamATan2, SparseSignSGD
from arcsolve.train.state import TrainState
from arcsolve.train.step import train_step

VOCAB = 12
NUM_PUZZLE_IDS = 1024

# The paper's ARC-AGI-1 recipe (paper §5 and the reference README's command): 100k epochs over 960 task groups with
# 4.146 examples per puzzle on average at a global batch of 768 rows, i.e. about 518k steps.
PAPER_STEPS = reference_total_steps(100_000, 960, 876_405, 3_633_410, 768)  # 518,226 (tests/test_plan.py)
PAPER_BATCH = 768
H100_BF16_DENSE = 989e12  # FLOP/s, H100 SXM, dense bf16 tensor cores (no sparsity)
H100_MFU = 0.40  # assumed model-FLOP utilisation
H100_GPUS = 4  # the README's 4x H100


@dataclass(frozen=True)
class Shape:
    key: str  # short name in the JSON record
    name: str
    cfg: ModelConfig
    seq_len: int
    rows: int
    steps: int


TINY = ModelConfig(
    hidden_size=128, num_heads=4, num_layers=2, H_cycles=2, L_cycles=2, halt_max_steps=4, puzzle_emb_len=4
)


def shapes(quick: bool, paper: bool | None = None) -> list[Shape]:
    """The tiny CPU config, hidden 256 on the same canvas and (by default without --quick) the paper's
    ARC model, which takes seconds per row on a CPU: 1 row and 1 timed step when quick."""
    out = [
        Shape("tiny", "tiny (cpu config) h128", TINY, 64, 64, 4 if quick else 6),
        Shape("h256", "h256, same canvas", replace(TINY, hidden_size=256), 64, 64, 2 if quick else 4),
    ]
    if paper is None:
        paper = not quick
    if paper:
        rows, steps = (1, 1) if quick else (2, 2)
        out.append(Shape("paper", "paper ARC h512 seq900", ModelConfig(), 900, rows, steps))
    return out


def matmul_peak(n: int, repeats: int) -> float:
    """Best fp32 FLOP/s of an n x n by n x n product."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(n, n, generator=g), torch.randn(n, n, generator=g)
    torch.mm(a, b)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best


def train_state(shape: Shape) -> TrainState:
    """The loop's TrainState for this model (optimizers and EMA as `build_state` makes them)."""
    tc = TrainConfig(global_batch_size=shape.rows, lr=1e-4, device="cpu")
    cfg = RunConfig(model=shape.cfg, train=tc)
    model = TRM(shape.cfg, shape.seq_len, VOCAB, NUM_PUZZLE_IDS, generator=torch.Generator().manual_seed(0))
    model.train()
    optimizer = AdamATan2(
        model.parameters(), lr=tc.lr, betas=(tc.beta1, tc.beta2), weight_decay=tc.weight_decay
    )
    embedding = SparseSignSGD(model.puzzle_emb, lr=tc.puzzle_emb_lr, weight_decay=tc.puzzle_emb_weight_decay)
    return TrainState(
        cfg, model, optimizer, embedding, EMA(model, tc.ema_rate), torch.Generator().manual_seed(1)
    )


def step_seconds(shape: Shape) -> list[float]:
    """Wall time of each timed step (after one warm-up step), carry kept across steps as in the loop."""
    state = train_state(shape)
    g = torch.Generator().manual_seed(2)
    batch = {
        "inputs": torch.randint(1, VOCAB, (shape.rows, shape.seq_len), generator=g),
        "labels": torch.randint(1, VOCAB, (shape.rows, shape.seq_len), generator=g),
        "puzzle_ids": torch.randint(1, NUM_PUZZLE_IDS, (shape.rows,), generator=g),
    }
    times = []
    for i in range(shape.steps + 1):
        start = time.perf_counter()
        result = train_step(state, state.model, batch, DistInfo())  # the loop's own step
        state.optimizer_step(result.rows, DistInfo())
        if i:
            times.append(time.perf_counter() - start)
    return times


def h100_estimate(flops: int) -> dict:
    total = PAPER_STEPS * PAPER_BATCH * flops
    seconds = total / (H100_GPUS * H100_BF16_DENSE * H100_MFU)
    return {
        "steps": PAPER_STEPS,
        "global_batch": PAPER_BATCH,
        "flops_per_example": flops,
        "total_flops": float(total),  # beyond 64-bit integers
        "gpus": H100_GPUS,
        "peak_flops_per_gpu": H100_BF16_DENSE,
        "assumed_mfu": H100_MFU,
        "hours": seconds / 3600,
    }


def measure(shape: Shape) -> dict:
    flops = flops_per_example(shape.cfg, shape.seq_len, VOCAB)
    times = step_seconds(shape)
    best = min(times)
    return {
        "key": shape.key,
        "name": shape.name,
        "hidden": shape.cfg.hidden_size,
        "seq_len": shape.seq_len,
        "rows": shape.rows,
        "flops_per_example": flops,
        "step_ms_best": best * 1e3,
        "step_ms_median": statistics.median(times) * 1e3,
        "flops_per_second": shape.rows * flops / best,
    }


def print_report(peak: dict, results: list[dict], paper: dict) -> None:
    print(f"threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.2f}")
    print(
        f"fp32 matmul peak ({peak['n']}x{peak['n']} mm, best of {peak['repeats']}, measured before and "
        f"after the steps): {peak['before'] / 1e9:.1f} / {peak['after'] / 1e9:.1f} GFLOP/s\n"
    )
    header = (
        f"{'shape':26s} {'rows':>4s} {'seq':>4s} {'GFLOP/row':>10s} {'ms/step':>10s} {'median':>10s}"
        f" {'GFLOP/s':>8s} {'of peak':>8s}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['name']:26s} {r['rows']:4d} {r['seq_len']:4d} {r['flops_per_example'] / 1e9:10.3f}"
            f" {r['step_ms_best']:10.1f} {r['step_ms_median']:10.1f} {r['flops_per_second'] / 1e9:8.1f}"
            f" {r['fraction_of_matmul_peak']:8.2f}"
        )
    print(
        f"\nARC-AGI-1 paper run estimate: {paper['steps']:,} steps x {PAPER_BATCH} rows x "
        f"{paper['flops_per_example'] / 1e9:.2f} GFLOP/row = {paper['total_flops']:.3g} FLOP;\n"
        f"on {H100_GPUS}x H100 at an assumed {H100_MFU:.0%} of {H100_BF16_DENSE / 1e12:.0f} TFLOP/s "
        f"(bf16 dense) that is {paper['hours']:.1f} h ({paper['hours'] / 24:.2f} days). The FLOP count "
        "covers matmuls only (norms, softmax, the optimizer and evaluation are left out), so the real run "
        "is longer; the README reports about 3 days."
    )


def run(quick: bool, shape_list: list[Shape] | None = None, matmul_n: int | None = None) -> dict:
    """Every number of this benchmark (`shape_list` and `matmul_n` replace the defaults, e.g. in tests)."""
    torch.manual_seed(0)
    n, repeats = (1024, 5) if quick else (2048, 8)
    n = matmul_n or n
    peak = {"n": n, "repeats": repeats, "before": matmul_peak(n, repeats)}
    results = [measure(shape) for shape in (shape_list or shapes(quick))]
    # On a shared machine one measurement can land on a busy moment; the best of a measurement
    # before and one after the steps keeps the fractions from being flattered by a low peak.
    peak["after"] = matmul_peak(n, repeats)
    peak["best"] = max(peak["before"], peak["after"])
    for r in results:
        r["fraction_of_matmul_peak"] = r["flops_per_second"] / peak["best"]
    paper = h100_estimate(flops_per_example(ModelConfig(), 900, VOCAB))
    print_report(peak, results, paper)
    return {
        "threads": torch.get_num_threads(),
        "load_average": os.getloadavg()[0],
        "matmul_peak_flops": peak,
        "train_steps": results,
        "h100_paper_estimate": paper,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="smaller matmul, fewer steps, no paper-size step"
    )
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    print(orjson.dumps(run(args.quick)).decode())


if __name__ == "__main__":
    main()
