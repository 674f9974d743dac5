"""Does live tracking slow the CPU train step? Logging off, TensorBoard, W&B (offline) and both, in one run.

    python benchmarks/tracking_bench.py [--steps N] [--rounds R] [--log-every L] [--batch B] [--threads T]

The CPU tiny ARC config (configs/arc1-cpu-tiny.toml: hidden 128, 8x8 canvas, batch 32 unless --batch)
on a small build of its recipe (aug 2), trained N steps per run by `run_train` itself, metrics logged
every L steps (default 1, every step: the worst case; the config logs every 20). Two measures:

- on vs off: the runs alternate between the modes for R rounds, so a change of machine load hits
  every mode alike. A run's speed is the median of its logged `steps_per_s` after the first few;
  `steps_per_s` spans everything between two logged steps, the tracker writes of the previous record
  included. A mode's step time is the median over its runs; its ratio to "off" is printed. On a
  loaded machine runs differ by tens of percent among themselves, so this ratio is noisy.
- inside each tracked run: every tracker write is timed where the loop makes it, so the share of the
  run's step time spent writing is measured in that very run, immune to load drift between runs;
  printed as the ratio of the run's step time to the same minus the writes.

W&B runs offline into a temporary folder (it never reaches the network). The last line printed is a
JSON object with every number.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import torch

from arcsolve.train.config import RunConfig, load_run_config
from arcsolve.train.loop import run_train
from arcsolve.train.metrics import read_metrics
from arcsolve.train.trackers import Guarded

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "arc1-cpu-tiny.toml"
WARMUP_LOGS = 3  # logged intervals left out of each run's median (first steps, allocator warm-up)
MODES: dict[str, dict[str, Any]] = {
    "off": {},
    "tensorboard": {"tensorboard": True},
    "wandb": {"wandb_project": "arcsolve-bench"},
    "both": {"tensorboard": True, "wandb_project": "arcsolve-bench"},
}


def bench_config(root: Path, steps: int, log_every: int, threads: int, batch: int) -> RunConfig:
    overrides = [
        "data.arc.aug=2",
        f"train.global_batch_size={batch}",
        f"data.cache_dir='{root / 'datasets'}'",
        f"train.max_steps={steps}",
        f"train.log_every={log_every}",
        "train.eval_every=0",
        "train.eval_max_examples=32",
        f"train.cpu_threads={threads}",
    ]
    return load_run_config(CONFIG, overrides)


def timed_run(cfg: RunConfig, out: Path, mode: str) -> tuple[float, float]:
    """(median steps/s of the run, share of its step time spent in tracker writes)."""
    writing = [0.0]
    real_write = Guarded.write

    def timed_write(self: Guarded, step: int, values: dict[str, Any]) -> None:
        began = time.perf_counter()
        real_write(self, step, values)
        writing[0] += time.perf_counter() - began

    Guarded.write = timed_write  # type: ignore[method-assign]
    try:
        run_train(replace(cfg, train=replace(cfg.train, **MODES[mode])), out, progress=False)
    finally:
        Guarded.write = real_write  # type: ignore[method-assign]
    records = [r for r in read_metrics(out / "metrics.jsonl") if "steps_per_s" in r]
    steps = [b["step"] - a["step"] for a, b in zip([{"step": 0}, *records], records, strict=False)]
    seconds = sum(n / r["steps_per_s"] for n, r in zip(steps, records, strict=True))
    speeds = [r["steps_per_s"] for r in records]
    return statistics.median(speeds[WARMUP_LOGS:] or speeds), writing[0] / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=60, help="train steps per run")
    parser.add_argument("--rounds", type=int, default=3, help="runs per mode, interleaved")
    parser.add_argument("--log-every", type=int, default=1, help="train.log_every of the runs")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument(
        "--batch", type=int, default=32, help="global batch (the config's 32; smaller = harsher)"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="tracking-bench-") as tmp:
        root = Path(tmp)
        # Offline, silent, every W&B file in the temporary folder: a benchmark never reaches the network.
        os.environ.update(WANDB_MODE="offline", WANDB_SILENT="true", WANDB_DIR=str(root))
        cfg = bench_config(root, args.steps, args.log_every, args.threads, args.batch)
        load_start = os.getloadavg()
        speeds: dict[str, list[float]] = {mode: [] for mode in MODES}
        writing: dict[str, list[float]] = {mode: [] for mode in MODES}
        for k in range(args.rounds):
            for mode in MODES:
                speed, share = timed_run(cfg, root / f"{mode}-{k}", mode)
                speeds[mode].append(speed)
                writing[mode].append(share)
        load_end = os.getloadavg()
    step_ms = {mode: 1000 / statistics.median(values) for mode, values in speeds.items()}
    in_run = {mode: 1 / (1 - statistics.median(values)) for mode, values in writing.items()}
    result = {
        "steps": args.steps,
        "rounds": args.rounds,
        "log_every": args.log_every,
        "threads": args.threads,
        "batch": args.batch,
        "step_ms": step_ms,
        "step_ms_runs": {mode: [1000 / v for v in values] for mode, values in speeds.items()},
        "ratio_to_off": {mode: step_ms[mode] / step_ms["off"] for mode in MODES},
        "write_share_runs": writing,
        "ratio_in_run": in_run,
        "load_average_start": load_start,
        "load_average_end": load_end,
    }
    print(f"load average {load_start[0]:.2f} -> {load_end[0]:.2f} (1 min); log_every={args.log_every}")
    for mode in MODES:
        runs = ", ".join(f"{v:.1f}" for v in result["step_ms_runs"][mode])
        line = f"{mode:12s} {step_ms[mode]:7.2f} ms/step, x{result['ratio_to_off'][mode]:.3f} of off ({runs})"
        if mode != "off":
            line += f"; in-run: writes x{in_run[mode]:.4f}"
        print(line)
    print(orjson.dumps(result).decode())


if __name__ == "__main__":
    main()
