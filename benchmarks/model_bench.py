"""TRM supervision-step cost: the `flops_per_example` formula against torch's FLOP counter and the clock.

    python benchmarks/model_bench.py [--quick] [--threads N]

For a few shapes (a CPU-size ARC model, the paper's sudoku mlp model, and without --quick the paper's
ARC attention model on a 30x30 canvas) it reports:
- the formula's FLOPs per example for one training step (forward + backward) and one eval step;
- FLOPs counted by torch.utils.flop_counter for a real step (the CPU SDPA kernel may not be counted);
- wall time per example of a real training step on this machine and the FLOP/s that implies.
The last line printed is a JSON object with every number; `run(quick)` returns it.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import orjson
import torch
from torch.utils.flop_counter import FlopCounterMode

from arcsolve.model import (
    TRM,
    ModelConfig,
    act_loss,
    act_step,
    count_parameters,
    flops_per_example,
    initial_carry,
)


def shapes(quick: bool) -> list[tuple[str, ModelConfig, int, int, int]]:
    """(name, config, seq_len, vocab, batch)."""
    cpu_arc = ModelConfig(hidden_size=128, num_heads=4, L_cycles=4, halt_max_steps=4, forward_dtype="float32")
    sudoku = ModelConfig(variant="mlp", pos_encoding="none", L_cycles=6, forward_dtype="float32")
    out = [("arc-cpu-128 (10x10)", cpu_arc, 100, 12, 8), ("sudoku-mlp-paper", sudoku, 81, 11, 4)]
    if not quick:
        out.append(("arc-att-paper (30x30)", replace(ModelConfig(), forward_dtype="float32"), 900, 12, 1))
    return out


def one_step(model: TRM, batch: dict[str, torch.Tensor]) -> None:
    carry = initial_carry(model, batch)
    _, out = act_step(model, carry, batch, torch.Generator().manual_seed(0))
    act_loss(out, model.cfg.loss)[0].backward()
    model.zero_grad(set_to_none=True)


def measure(name: str, cfg: ModelConfig, seq_len: int, vocab: int, batch_size: int, repeats: int) -> dict:
    model = TRM(cfg, seq_len, vocab, num_puzzle_ids=4, generator=torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(1)
    batch = {
        "inputs": torch.randint(0, vocab, (batch_size, seq_len), generator=g),
        "labels": torch.randint(1, vocab, (batch_size, seq_len), generator=g),
        "puzzle_ids": torch.zeros(batch_size, dtype=torch.long),
    }
    with FlopCounterMode(display=False) as counter:
        one_step(model, batch)
    one_step(model, batch)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        one_step(model, batch)
        times.append(time.perf_counter() - start)
    seconds = min(times) / batch_size
    formula = flops_per_example(cfg, seq_len, vocab)
    return {
        "name": name,
        "weights": count_parameters(model).weights,
        "flops_train_formula": formula,
        "flops_eval_step_formula": flops_per_example(cfg, seq_len, vocab, train=False),
        "flops_train_counted": counter.get_total_flops() / batch_size,
        "seconds_per_example": seconds,
        "gflops_per_second": formula / seconds / 1e9,
    }


def run(quick: bool, repeats: int = 3, shape_list: list | None = None) -> dict:
    """Every number of this benchmark (`shape_list` replaces the default shapes, e.g. in tests)."""
    results = []
    for name, cfg, seq_len, vocab, batch in shape_list or shapes(quick):
        r = measure(name, cfg, seq_len, vocab, batch, repeats)
        results.append(r)
        print(
            f"{name:24s} {r['weights'] / 1e6:6.2f}M params  formula {r['flops_train_formula'] / 1e9:8.2f} GFLOP"
            f"  counted {r['flops_train_counted'] / 1e9:8.2f}  {r['seconds_per_example'] * 1e3:8.1f} ms/example"
            f"  {r['gflops_per_second']:6.1f} GFLOP/s"
        )
    return {"threads": torch.get_num_threads(), "results": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the paper-size ARC model")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    print(orjson.dumps(run(args.quick, args.repeats)).decode())


if __name__ == "__main__":
    main()
