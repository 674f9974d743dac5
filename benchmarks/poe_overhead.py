"""What PoE ranking adds to predict's time on the full 30x30 canvas (issue 17: under 5%).

    python benchmarks/poe_overhead.py [--tasks 20] [--tta 8 32] [--threads 1]

Two checkpoints are made on the fly at canvas 30 (one training step each; accuracy is irrelevant,
only time is measured): the smallest model (predict_bench.SMALLEST_MODEL: hidden 32, one layer, one
ACT step), whose forward is so cheap that the ranking's share is an upper bound, and the testbeds'
tiny TRM (the model of configs/arc1-cpu-8x8-poe.toml: hidden 128, two layers, H 2 x L 2, four ACT
steps). For each, `rank_sweep` answers the first --tasks arc1:evaluation tasks once (keeping
--poe-views log-probabilities per input) and ranks them; `overhead` is keeping the log-probabilities
plus the poe ranking, over the rest of the view loop, measured in the same run.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import orjson
import torch
from predict_bench import SMALLEST_MODEL, Options, make_checkpoint, select_tasks
from rank_sweep import RankOptions, rank_sweep

from arcsolve.train.config import load_run_config

TESTBED_CONFIG = Path(__file__).resolve().parents[1] / "configs" / "arc1-cpu-8x8-poe.toml"


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
        testbed = load_run_config(TESTBED_CONFIG).model
        for name, model in (("smallest", SMALLEST_MODEL), ("testbed", testbed)):
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
