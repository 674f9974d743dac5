"""Recipe datasets against materialized ones, measured side by side in one run (issue 23).

    python benchmarks/recipe_bench.py [--aug 1000] [--big-aug 0] [--steps 20] [--skip STAGE ...]

- build: `data build arc --trm-prefix` of ARC-AGI-1 + the ConceptARC stand-in (the files of
  benchmarks/trm_build_bench.py) at --aug, as a recipe and with --materialize, each in a child
  process: wall, CPU, peak RSS, bytes on disk. `--big-aug N` adds the recipe build at aug N.
- loader: rows/s of 768-row training batches (the paper's global batch, drawn by `TrainBatches`)
  gathered on one thread: encoded by the numba encoder from the recipe build, read from the
  materialized build's memmap. The issue's floor is 35,000 rows/s (20x a paper H100 step's 1,700).
- step: seconds per CPU train step of configs/arc1-cpu-tiny.toml on its recipe and on its
  materialized dataset (the loop's steps_per_s over --steps resumed steps), runs alternating
  (recipe, materialized, recipe, materialized).
Each line carries the 1-minute load average when it was measured; the last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from child_peak import run_child  # noqa: E402
from trm_build_bench import write_concept_copies, write_kaggle  # noqa: E402

from arcsolve.data.dataset import TokenDataset  # noqa: E402
from arcsolve.train.batches import TrainBatches  # noqa: E402
from arcsolve.train.data import gather_rows  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BUILD = """
import json, sys
from arcsolve.data.trm_builder import TrmBuildConfig, build_trm_dataset
prefix, out, aug, materialize = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
cfg = TrmBuildConfig(prefix, ("training", "evaluation", "concept"), "evaluation", aug=aug, seed=42)
meta = build_trm_dataset(cfg, out, materialize=materialize)
print(json.dumps({"train_examples": meta["counts"]["train"]["examples"], "seconds_inside": meta["seconds"]}))
"""
PAPER_BATCH = 768


def load() -> float:
    return round(os.getloadavg()[0], 2)


def build(prefix: str, out: str, aug: int, materialize: bool) -> dict[str, Any]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_before = load()
    stdout, wall, peak = run_child(BUILD, [prefix, out, str(aug), "1" if materialize else "0"])
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    disk = sum(f.stat().st_size for f in Path(out).rglob("*") if f.is_file())
    inside = json.loads(stdout.strip().splitlines()[-1])
    record = {"storage": "materialized" if materialize else "recipe", "aug": aug, "wall_s": round(wall, 2),
              "cpu_s": round(cpu, 2), "peak_rss_mib": round(peak), "disk_mib": round(disk / 2**20, 1),
              "load_before": load_before, "load_after": load(), **inside}  # fmt: skip
    print(f"build {record['storage']:12} aug {aug}: {wall:.2f} s wall ({cpu:.2f} s CPU), peak RSS {peak:.0f} MiB, "
          f"{disk / 2**20:,.1f} MiB on disk, {inside['train_examples']:,} train rows  [load {load_before} -> {load()}]")  # fmt: skip
    return record


def loader_rows_per_second(path: str | Path, seconds: float = 3.0, batch: int = PAPER_BATCH) -> float:
    """Rows/s of `batch`-row training batches of the dataset at `path`, gathered on this thread."""
    split = TokenDataset.open(path).split("train")
    batches = TrainBatches(split.group_index, split.puzzle_index, batch, seed=0)
    gather_rows(split, batches.next())  # warm-up: the encoder's compiled code is loaded
    rows, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        inputs, labels, _ = gather_rows(split, batches.next())
        rows += inputs.shape[0]
    return rows / (time.perf_counter() - start)


def build_stage(args: argparse.Namespace, tmp: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
    prefix = os.path.join(tmp, "arc-agi")
    for subset in ("training", "evaluation"):
        write_kaggle(f"arc1:{subset}", prefix, subset)
    write_concept_copies(prefix, 40)
    outs = {"recipe": os.path.join(tmp, "recipe"), "materialized": os.path.join(tmp, "materialized")}
    records = [
        build(prefix, outs["recipe"], args.aug, False),
        build(prefix, outs["materialized"], args.aug, True),
    ]
    if args.big_aug:
        big = os.path.join(tmp, "big")
        records.append(build(prefix, big, args.big_aug, False))
        records[-1]["open_s"] = _timed_open(big)
    return records, outs


def _timed_open(path: str) -> float:
    start = time.perf_counter()
    TokenDataset.open(path)
    seconds = time.perf_counter() - start
    print(f"open (sha256 of every file) of {path}: {seconds:.2f} s  [load {load()}]")
    return round(seconds, 2)


def loader_stage(outs: dict[str, str]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for storage in ("recipe", "materialized", "recipe"):
        rate = loader_rows_per_second(outs[storage])
        record.setdefault(storage, []).append(round(rate))
        print(
            f"loader {storage:12}: {rate:,.0f} rows/s of {PAPER_BATCH}-row 30x30 batches, one thread  [load {load()}]"
        )
    record["open_s"] = _timed_open(outs["recipe"])
    return record


def step_stage(steps: int, tmp: str) -> dict[str, Any]:
    from dataclasses import replace

    from arcsolve.config import load_config
    from arcsolve.data.arc_builder import build_arc_dataset
    from arcsolve.train.config import DataConfig, RunConfig
    from arcsolve.train.loop import run_train

    base = load_config(RunConfig, ROOT / "configs" / "arc1-cpu-tiny.toml")
    times: dict[str, list[float]] = {"recipe": [], "materialized": []}
    for storage in times:
        build_arc_dataset(
            base.data.arc, Path(tmp) / f"tiny-{storage}", progress=False, materialize=storage != "recipe"
        )
    for round_ in range(2):
        for storage in times:
            data = DataConfig(path=str(Path(tmp) / f"tiny-{storage}"))
            cfg = replace(base, data=data, train=replace(base.train, eval_every=0, checkpoint_every=0))
            run_dir = Path(tmp) / f"run-{storage}-{round_}"
            run_train(cfg, run_dir, max_steps=2, progress=False)  # warm-up and the first checkpoint
            run_train(cfg, run_dir, max_steps=2 + steps, resume=True, progress=False)
            # The loop's own rate over the resumed steps (the last log line): no model set-up, final
            # evaluation or checkpoint inside it.
            lines = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
            times[storage].append(1.0 / [r for r in lines if "steps_per_s" in r][-1]["steps_per_s"])
            print(
                f"train step {storage:12}: {times[storage][-1] * 1e3:.1f} ms/step over {steps} steps  [load {load()}]"
            )
    ratio = np.median(times["recipe"]) / np.median(times["materialized"])
    print(f"train step recipe / materialized: {ratio:.3f} (median of {len(times['recipe'])} runs each)")
    return {k: [round(t * 1e3, 2) for t in v] for k, v in times.items()} | {"ratio": round(float(ratio), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aug", type=int, default=1000)
    parser.add_argument(
        "--big-aug", type=int, default=0, help="also build the recipe at this aug (e.g. 10000)"
    )
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--skip", nargs="*", default=[], choices=["build", "loader", "step"])
    parser.add_argument("--tmp-dir", default=None)
    args = parser.parse_args()
    result: dict[str, Any] = {"load_start": load()}
    with tempfile.TemporaryDirectory(prefix="recipe-bench-", dir=args.tmp_dir) as tmp:
        if "build" not in args.skip:
            result["build"], outs = build_stage(args, tmp)
            if "loader" not in args.skip:
                result["loader"] = loader_stage(outs)
        if "step" not in args.skip:
            result["step_ms"] = step_stage(args.steps, tmp)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
