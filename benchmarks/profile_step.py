"""Where a train step and a predict batch spend their CPU time: torch.profiler by op, plus the clock.

    python benchmarks/profile_step.py [--threads N] [--repeats N] [--only train/tiny,...] [--json OUT]

Cases (rows x tokens):
- train/tiny: the CPU tiny config (hidden 128, 2 layers, T=2, n=2, 4 ACT steps), 64 rows x 64 tokens,
  one step exactly as the training loop runs it (`train_step`: act_step, stablemax loss, backward,
  the device-side finite flag; then AdamATan2, sparse sign-SGD, EMA);
- train/paper: the paper's ARC model (hidden 512, T=3, n=6), 1 row x 900 tokens, the same step;
- predict/tiny: `evaluate_batch` (all 4 ACT steps, eval mode) on 64 views of the tiny config;
- predict/paper: `evaluate_batch` of the paper's model on 1 view x 900 tokens with 1 ACT step of its
  16 (a whole view is 16 times that).
For each: wall milliseconds per step (best of --repeats, no profiler), then one profiled step: the
share of the ops' self CPU time in matmul kernels (aten::mm, addmm, bmm, baddbmm), in the attention
kernel (SDPA's CPU flash attention, forward and backward), the time no op accounts for (Python and
dispatch between ops), the number of host syncs (aten::item / _local_scalar_dense), and the top
non-matmul ops. The last line printed is a JSON object.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, replace
from pathlib import Path

import orjson
import torch
from torch.profiler import ProfilerActivity, profile

from arcsolve.io import atomic_write_json
from arcsolve.model import TRM, ModelConfig
from arcsolve.model.act import evaluate_batch
from arcsolve.train.config import RunConfig, TrainConfig
from arcsolve.train.distributed import DistInfo
from arcsolve.train.ema import EMA
from arcsolve.train.optim import AdamATan2, SparseSignSGD
from arcsolve.train.state import TrainState
from arcsolve.train.step import FiniteWatch, train_step

VOCAB = 12
NUM_PUZZLE_IDS = 1024
MATMUL_OPS = {"aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm"}
ATTENTION_OPS = {
    "aten::_scaled_dot_product_flash_attention_for_cpu",
    "aten::_scaled_dot_product_flash_attention_for_cpu_backward",
}
SYNC_OPS = {"aten::item", "aten::_local_scalar_dense"}
TINY = ModelConfig(
    hidden_size=128, num_heads=4, num_layers=2, H_cycles=2, L_cycles=2, halt_max_steps=4, puzzle_emb_len=4
)


@dataclass(frozen=True)
class Case:
    name: str
    cfg: ModelConfig
    seq_len: int
    rows: int
    train: bool


CASES = (
    Case("train/tiny", TINY, 64, 64, True),
    Case("train/paper", ModelConfig(), 900, 1, True),
    Case("predict/tiny", TINY, 64, 64, False),
    Case("predict/paper", replace(ModelConfig(), halt_max_steps=1), 900, 1, False),
)


def make_step(case: Case):
    """A closure running one train step (or one predict batch) of `case`, state kept across calls."""
    model = TRM(case.cfg, case.seq_len, VOCAB, NUM_PUZZLE_IDS, generator=torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(2)
    batch = {
        "inputs": torch.randint(1, VOCAB, (case.rows, case.seq_len), generator=g),
        "labels": torch.randint(1, VOCAB, (case.rows, case.seq_len), generator=g),
        "puzzle_ids": torch.randint(1, NUM_PUZZLE_IDS, (case.rows,), generator=g),
    }
    if not case.train:
        model.eval()
        return lambda: evaluate_batch(model, batch)

    model.train()
    tc = TrainConfig(global_batch_size=case.rows, lr=1e-4, device="cpu")
    optimizer = AdamATan2(model.parameters(), lr=1e-4, betas=(0.9, 0.95), weight_decay=0.1)
    embedding = SparseSignSGD(model.puzzle_emb, lr=1e-2, weight_decay=0.1)
    state = TrainState(
        RunConfig(model=case.cfg, train=tc),
        model,
        optimizer,
        embedding,
        EMA(model, 0.999),
        torch.Generator().manual_seed(1),
    )
    watch = FiniteWatch(torch.device("cpu"))

    def step() -> None:  # the loop's step; its finite flag stays on the device (read after profiling)
        result = train_step(state, model, batch, DistInfo())
        watch.record(state.step + 1, result)
        state.optimizer_step(result.rows, DistInfo())
        state.step += 1

    return step


def wall_ms(step, repeats: int) -> float:
    step()  # warm-up: first-call allocations, optimizer state
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def profiled(step, top: int) -> dict:
    """One step under torch.profiler: shares of self CPU time and the top non-matmul ops."""
    start = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        step()
    wall_us = (time.perf_counter() - start) * 1e6
    events = [e for e in prof.key_averages() if e.key != "ProfilerStep*"]
    total = sum(e.self_cpu_time_total for e in events)
    matmul = sum(e.self_cpu_time_total for e in events if e.key in MATMUL_OPS)
    attention = sum(e.self_cpu_time_total for e in events if e.key in ATTENTION_OPS)
    others = sorted(
        (e for e in events if e.key not in MATMUL_OPS | ATTENTION_OPS),
        key=lambda e: e.self_cpu_time_total,
        reverse=True,
    )
    return {
        "profiled_wall_ms": wall_us / 1e3,
        "op_self_ms": total / 1e3,
        "matmul_share": matmul / total,
        "attention_share": attention / total,
        "unaccounted_share_of_wall": max(wall_us - total, 0.0) / wall_us,
        "host_syncs": sum(e.count for e in events if e.key in SYNC_OPS),
        "ops_called": sum(e.count for e in events),
        "top_non_matmul": [
            {"op": e.key, "share": e.self_cpu_time_total / total, "calls": e.count} for e in others[:top]
        ],
    }


def run(cases: list[Case], repeats: int, top: int = 10) -> dict:
    results = {}
    for case in cases:
        torch.manual_seed(0)
        step = make_step(case)
        ms = wall_ms(step, repeats)
        prof = profiled(step, top)
        results[case.name] = {"rows": case.rows, "seq_len": case.seq_len, "ms_per_step": ms, **prof}
        print_case(case.name, results[case.name])
    return {"threads": torch.get_num_threads(), "cases": results}


def print_case(name: str, r: dict) -> None:
    print(
        f"\n{name}: {r['ms_per_step']:.1f} ms per step ({r['rows']} rows x {r['seq_len']} tokens); "
        f"matmul {r['matmul_share']:.1%}, attention kernel {r['attention_share']:.1%} of op time; "
        f"{r['unaccounted_share_of_wall']:.1%} of the wall time outside ops; {r['host_syncs']} host syncs; "
        f"{r['ops_called']} op calls"
    )
    for op in r["top_non_matmul"]:
        print(f"    {op['share']:6.1%}  {op['calls']:6d}  {op['op']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (0 = torch's default)")
    parser.add_argument("--repeats", type=int, default=3, help="timed steps per case (best is kept)")
    parser.add_argument("--only", default="", help="comma-separated case names (default: all)")
    parser.add_argument("--json", type=Path, default=None, help="also write the record here")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    wanted = set(filter(None, args.only.split(",")))
    cases = [c for c in CASES if not wanted or c.name in wanted]
    record = run(cases, args.repeats)
    if args.json is not None:
        atomic_write_json(args.json, record, indent=True)
    print(orjson.dumps(record).decode())


if __name__ == "__main__":
    main()
