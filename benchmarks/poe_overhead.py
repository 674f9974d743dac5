"""What PoE ranking adds to predict's time on the full 30x30 canvas (issue 17: under 5%).

    python benchmarks/poe_overhead.py [--tasks 20] [--tta 8 32] [--threads 1]

Two checkpoints are made on the fly at canvas 30 (one training step each; accuracy is irrelevant,
only time is measured): the smallest model (hidden 32, one layer, one ACT step), whose forward is
so cheap that the ranking's share is an upper bound, and the testbeds' tiny TRM (hidden 128, two
layers, H 2 x L 2, four ACT steps). For each, `rank_sweep` answers the first --tasks arc1:evaluation
tasks once (keeping --poe-views log-probabilities per input) and ranks them; `overhead` is keeping
the log-probabilities plus the poe ranking, over the rest of the view loop, measured in the same run.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import replace
from pathlib import Path

import orjson
import torch
from predict_bench import Options, make_checkpoint, select_tasks
from rank_sweep import RankOptions, rank_sweep

from arcsolve.model.config import ModelConfig

SMALLEST = ModelConfig(
    hidden_size=32, num_heads=2, expansion=2.0, num_layers=1, H_cycles=1, L_cycles=1, halt_max_steps=1,
    puzzle_emb_len=1, forward_dtype="float32",
)  # fmt: skip
TESTBED = replace(SMALLEST, hidden_size=128, num_heads=4, expansion=4.0, num_layers=2, H_cycles=2, L_cycles=2,
                  halt_max_steps=4, puzzle_emb_len=4)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20, help="the first N arc1:evaluation tasks")
    parser.add_argument("--tta", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--poe-views", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    results = {}
    with tempfile.TemporaryDirectory(prefix="poe_overhead_") as scratch:
        for name, model in (("smallest", SMALLEST), ("testbed", TESTBED)):
            run = make_checkpoint(Path(scratch) / name, model, "arc1:training", 30, 30)
            opts = Options(checkpoint=str(run), tasks="arc1:evaluation", limit=args.tasks, tta=args.tta)
            source = Path(scratch) / f"{name}-tasks"
            source.mkdir()
            folder, _ = select_tasks(opts, source)
            sweep = rank_sweep(opts, RankOptions(poe_views=args.poe_views), folder)["sweep"]
            results[name] = [
                {k: row[k] for k in ("tta", "views", "loop_seconds", "overhead")} for row in sweep
            ]
    for name, rows in results.items():
        for row in rows:
            print(
                f"{name:8s} tta {row['tta']:4d}: {row['views']:6d} views, view loop {row['loop_seconds']:.1f} s, "
                f"PoE adds {row['overhead']:.1%}"
            )
    print(orjson.dumps({"canvas": 30, "threads": args.threads, **results}).decode())


if __name__ == "__main__":
    main()
