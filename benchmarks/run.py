"""Every benchmark in one run: one JSON record, a table, and PASS/FAIL against the targets.

    python benchmarks/run.py [--quick | --micro] --json OUT [--threads N] [--checkpoint RUN] [--markdown]

Calls the functions of the single benchmarks (each still runs alone: augment_bench.py,
generators_bench.py, model_bench.py, train_bench.py, predict_bench.py) and writes their headline
numbers plus everything they measured to OUT, atomically. Ratios are always taken inside this run
(numba against the NumPy reference, train FLOP/s against the matmul FLOP/s measured here).

Modes:
- full: the real workloads. The ARC build is the paper's (`--source arc1:evaluation --extra-train
  arc1:training --aug 1000`, about 5 GB written to a temporary directory).
- --quick (under 5 minutes on 2 cores): smaller workloads. The build runs at aug 25 and aug 100 and
  `arc1_aug1000_build_s_projected` extends the line through them; the paper-size train step uses 1 row.
- --micro: tiny sizes that only exercise the machinery (the test suite runs it); numbers meaningless.
In every mode `peak_rss_mb_tta1000_projected` is a projection: predict over the 400 ARC-AGI-1
evaluation tasks at --tta 1000 is 419,000 views, hours on a CPU. It is the peak RSS of a real
`arcsolve predict` process at a small --tta (a child process, so the number is its own) plus the
memory each further view costs, measured in this run (its row of the view plan and the growth of the
vote table). The checkpoint there is a small canvas-30 model with a small task table: a paper
checkpoint adds its weights and task table (876k x 512 floats = 1.8 GB per copy) on top.
Predict throughput uses `--checkpoint` if given, else the tiny CPU config's shape after one training
step (random-like weights: its answers are mostly invalid, so voting has less to do than with a
trained model).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numba
import numpy as np
import orjson
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import augment_bench  # noqa: E402
import generators_bench  # noqa: E402
import model_bench  # noqa: E402
import predict_bench  # noqa: E402
import readme_table  # noqa: E402
import train_bench  # noqa: E402

from arcsolve.data.tasks import load_tasks, task_to_json  # noqa: E402
from arcsolve.io import atomic_write_json  # noqa: E402
from arcsolve.train.checkpoint import git_revision  # noqa: E402
from arcsolve.train.config import load_run_config  # noqa: E402
from arcsolve.train.data import torch_threads_kept  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TINY_CONFIG = ROOT / "configs" / "arc1-cpu-tiny.toml"
RSS_MODEL = predict_bench.SMALLEST_MODEL
MICRO_MODEL = replace(RSS_MODEL, hidden_size=16)
TARGETS = (  # (key, comparison, target, what the key's number is)
    ("augment_speedup", ">=", 20.0, "slowest of the three kernels"),
    ("train_fraction_of_matmul_peak", ">=", 0.3, "lowest of the train shapes"),
    ("vote_overhead_fraction", "<=", 0.05, "share of predict's view loop outside the model"),
)


@dataclass(frozen=True)
class Sizes:
    kernel_tasks: int
    kernel_aug: int
    kernel_repeats: int
    build_augs: tuple[int, ...]  # one build: measured as is; two: also the line through them to aug 1000
    sudoku_n: int
    maze_n: int
    model_repeats: int
    matmul_n: int | None
    predict_limit: int  # tasks of the throughput run
    predict_tta: int
    rss_tasks: int  # of arc1:evaluation (0 = all 400)
    rss_tta: int
    memory_tasks: int  # for the bytes-per-view measurement
    memory_tta: int


SIZES = {
    "full": Sizes(20, 50, 3, (1000,), 1000, 1000, 3, None, 50, 32, 0, 8, 100, 8),
    "quick": Sizes(20, 10, 2, (25, 100), 200, 1000, 1, None, 16, 8, 0, 2, 40, 4),
    "micro": Sizes(2, 2, 1, (1, 2), 4, 10, 1, 128, 2, 2, 4, 1, 4, 2),
}


def machine_record() -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), cpu
            )
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9, 1),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numba": numba.__version__,
        "numpy": np.__version__,
        "torch_threads": torch.get_num_threads(),
        "numba_threads": numba.config.NUMBA_NUM_THREADS,  # get_num_threads() would start its pool
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
        "git_revision": git_revision(),
    }


def augment_numbers(mode: str, sizes: Sizes, scratch: Path) -> dict[str, Any]:
    kernels = augment_bench.bench_kernels(sizes.kernel_tasks, sizes.kernel_aug, sizes.kernel_repeats)
    by_kernel = {name: kernels[f"{name}_speedup"] for name in ("encode", "decode", "transform")}
    source, extra = "arc1:evaluation", "arc1:training"
    if mode == "micro":  # a few tasks: the build's own start-up is what remains
        source, extra = first_tasks(source, 10, 30, scratch / "build_tasks")[0], ""
    builds = [augment_bench.bench_build(aug, source, extra) for aug in sizes.build_augs]
    out: dict[str, Any] = {
        "augment_speedup": min(by_kernel.values()),
        "augment_speedup_by_kernel": by_kernel,
        "augment_kernels": kernels,
        "arc1_builds": builds,
    }
    for build in builds:
        out[f"arc1_aug{build['build_aug']}_build_s"] = build["build_wall_s"]
        out[f"arc1_aug{build['build_aug']}_build_peak_rss_mb"] = build["build_peak_rss_mib"]
    if 1000 not in sizes.build_augs:
        augs = [b["build_aug"] for b in builds]
        slope, intercept = np.polyfit(augs, [b["build_wall_s"] for b in builds], 1)
        out["arc1_aug1000_build_s_projected"] = float(intercept + slope * 1000)
    return out


def generator_numbers(sizes: Sizes) -> dict[str, Any]:
    sudoku = generators_bench.bench_sudoku(sizes.sudoku_n, 0)
    maze = generators_bench.bench_maze(sizes.maze_n, 0)
    return {"sudoku_gen_per_s": sudoku["sudoku_gen_per_s"], "maze_gen_per_s": maze["maze_gen_per_s"]}


def train_shapes(mode: str) -> list[train_bench.Shape]:
    if mode != "micro":
        return train_bench.shapes(mode == "quick", paper=True)
    small = replace(MICRO_MODEL, halt_max_steps=2)
    return [
        train_bench.Shape("tiny", "micro stand-in for tiny", small, 16, 4, 1),
        train_bench.Shape("paper", "micro stand-in for paper", replace(small, hidden_size=32), 16, 2, 1),
    ]


def model_shapes(mode: str) -> list | None:
    if mode != "micro":
        return None  # model_bench's own (quick: no paper-size ARC model)
    return [("micro", MICRO_MODEL, 16, 12, 2)]


def train_numbers(mode: str, sizes: Sizes) -> dict[str, Any]:
    flops = model_bench.run(mode != "full", sizes.model_repeats, model_shapes(mode))
    train = train_bench.run(mode != "full", train_shapes(mode), sizes.matmul_n)
    steps = {r["key"]: r for r in train["train_steps"]}
    return {
        "train_step_ms": {key: r["step_ms_best"] for key, r in steps.items()},
        "train_fraction_of_matmul_peak": {key: r["fraction_of_matmul_peak"] for key, r in steps.items()},
        "matmul_peak_gflops": train["matmul_peak_flops"]["best"] / 1e9,
        "train_bench": train,
        "model_flops": flops["results"],
    }


def predict_numbers(mode: str, sizes: Sizes, scratch: Path, checkpoint: str | None) -> dict[str, Any]:
    if mode == "micro":  # one small checkpoint for everything
        run = predict_bench.make_checkpoint(scratch / "micro", MICRO_MODEL, "arc1:training", 8, 8)
        used = checkpoint or str(run)
        described = checkpoint or "micro model, canvas 8, 1 training step"
        rss_run, rss_source, rss_described = run, "arc1:training", "micro model, canvas 8, 1 training step"
        canvas = 8
    else:
        if checkpoint is None:
            tiny = load_run_config(TINY_CONFIG).model
            used = str(predict_bench.make_checkpoint(scratch / "tiny", tiny, "arc1:training", 8, 8, 16))
        else:
            used = checkpoint
        described = checkpoint or f"{TINY_CONFIG.name} model and data (canvas 8, aug 16), 1 training step"
        rss_run = predict_bench.make_checkpoint(scratch / "rss", RSS_MODEL, "arc1:training", 30)
        rss_source = "arc1:evaluation"
        rss_described = "hidden 32, 1 layer, 1 ACT step, canvas 30, 800 task ids, 1 training step"
        canvas = 30
    opts = predict_bench.Options(checkpoint=used, limit=sizes.predict_limit, tta=[sizes.predict_tta])
    throughput = predict_bench.bench_throughput(opts)

    tasks, n_tasks = first_tasks(rss_source, sizes.rss_tasks, canvas, scratch / "rss_tasks")
    memory_tasks, _ = first_tasks(rss_source, sizes.memory_tasks, canvas, scratch / "memory_tasks")
    memory_opts = predict_bench.Options(checkpoint=str(rss_run), tasks=memory_tasks, tta=[sizes.memory_tta])
    memory = predict_bench.memory(memory_opts, memory_tasks, scratch)
    per_view = memory["plan_bytes_per_view"] + memory["heap_bytes_per_view"]
    rss_opts = predict_bench.Options(checkpoint=str(rss_run), tasks=tasks, tta=[sizes.rss_tta])
    rss = predict_bench.bench_peak_rss(rss_opts, per_view)
    return {
        "predict_views_per_s": throughput["views_per_second"],
        "vote_overhead_fraction": throughput["outside_model_fraction"],
        "peak_rss_mb_tta1000_projected": rss["projected_peak_rss_mb"],
        "predict_throughput": {**throughput, "checkpoint": described, "tta": sizes.predict_tta},
        "predict_memory": {k: v for k, v in memory.items() if k not in ("chunks", "peak_rss_mb")},
        "predict_peak_rss": {
            **rss,
            "tasks": n_tasks,
            "source": rss_source,
            "checkpoint": rss_described,
        },
    }


def first_tasks(source: str, limit: int, canvas: int, folder: Path) -> tuple[str, int]:
    """`source` itself, or with `limit`, a folder of its first `limit` tasks whose test inputs fit
    the canvas; and the number of tasks."""
    tasks = load_tasks(source)
    if not limit:
        return source, len(tasks)
    folder.mkdir(parents=True, exist_ok=True)
    fitting = [t for t in tasks if max(max(g.shape) for g in t.test_inputs) <= canvas][:limit]
    for task in fitting:
        (folder / f"{task.task_id}.json").write_bytes(orjson.dumps(task_to_json(task)))
    return str(folder), len(fitting)


def run_all(mode: str, checkpoint: str | None = None) -> dict[str, Any]:
    """Every benchmark at the sizes of `mode` ('full', 'quick' or 'micro'); the whole record."""
    sizes = SIZES[mode]
    started = time.perf_counter()
    record: dict[str, Any] = {"mode": mode, "machine": machine_record()}
    section_seconds = {}
    with tempfile.TemporaryDirectory(prefix="arcsolve-bench-run-") as tmp:
        sections = {
            "augment": lambda: augment_numbers(mode, sizes, Path(tmp)),
            "generators": lambda: generator_numbers(sizes),
            "train": lambda: train_numbers(mode, sizes),
            "predict": lambda: predict_numbers(mode, sizes, Path(tmp), checkpoint),
        }
        for name, section in sections.items():
            print(f"\n== {name} ==", flush=True)
            began = time.perf_counter()
            with torch_threads_kept():  # numba's generators would leave torch on all cores
                record.update(section())
            section_seconds[name] = round(time.perf_counter() - began, 1)
    record["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    record["section_seconds"] = section_seconds
    record["total_seconds"] = round(time.perf_counter() - started, 1)
    record["checks"] = checks(record)
    return record


def checks(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {}
    for key, op, target, what in TARGETS:
        value = record[key]
        value = min(value.values()) if isinstance(value, dict) else value
        passed = value >= target if op == ">=" else value <= target
        out[key] = {"value": value, "target": f"{op} {target}", "pass": bool(passed), "what": what}
    return out


def print_checks(record: dict[str, Any]) -> None:
    print()
    for key, check in record["checks"].items():
        verdict = "PASS" if check["pass"] else "FAIL"
        print(f"{verdict}  {key} = {check['value']:.3g} (target {check['target']}; {check['what']})")
    if record["mode"] == "micro":
        print("(micro mode: workloads far too small for these verdicts to mean anything)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="smaller workloads, under 5 minutes on 2 cores")
    size.add_argument("--micro", action="store_true", help="tiny workloads: checks the machinery only")
    parser.add_argument("--json", type=Path, required=True, help="where the JSON record goes")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    parser.add_argument("--checkpoint", default=None, help="a trained run for the predict throughput")
    parser.add_argument("--markdown", action="store_true", help="also print the README table")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    mode = "quick" if args.quick else "micro" if args.micro else "full"
    record = run_all(mode, args.checkpoint)
    atomic_write_json(args.json, record, indent=True)
    print()
    print(readme_table.text_table(record))
    print_checks(record)
    if args.markdown:
        print()
        print(readme_table.markdown(record))
    print(f"\n{args.json}: {record['total_seconds']:.0f} s in all")


if __name__ == "__main__":
    main()
