"""`arcsolve predict` cost and value: views/s, time outside the model, memory over a long run, TTA gain.

    python benchmarks/predict_bench.py throughput CHECKPOINT [--tasks SRC] [--limit 50] [--tta 32] [--unknown]
    python benchmarks/predict_bench.py memory CHECKPOINT [--tasks SRC] [--tta 200] [--unknown]
    python benchmarks/predict_bench.py tta CHECKPOINT [--tasks SRC] [--tta 1 8 16 17]

- throughput: one full `run_predict`; views/s over the view loop, the share of that loop spent outside
  the model (encode, decode + inverse transform, vote), and the whole run's seconds.
- memory: the same loop in ten chunks of the plan with one vote table, printing after each chunk the
  process RSS (raw, and after malloc_trim hands freed heap back) and the Python heap (tracemalloc):
  flat numbers from 10% to 100% of the views mean nothing grows with the view count except the
  (small) table of distinct grids.
- tta: pass@1 / pass@2 of the votes, pass@all (the answer is among any candidate) and the submission
  score (votes + fallbacks) for several --tta values on the same tasks (by default the tasks the
  checkpoint was trained on: their test inputs are never trained on).

`--tasks` defaults to the checkpoint's own task ids looked up in arc1:training; `--unknown` renames
the tasks so the checkpoint does not know them (random augmentations, blank task id), which lets a
run ask for more views than a known task has versions. The last line printed is a JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import dataclasses
import os
import tempfile
import time
import tracemalloc
from pathlib import Path

import orjson
import torch

from arcsolve.data.tasks import Task, load_tasks, task_to_json
from arcsolve.predict.config import PredictConfig
from arcsolve.predict.run import answer_views, load_predict_model, run_predict
from arcsolve.predict.views import plan_views
from arcsolve.predict.vote import VoteTable


def rss_mb(trim: bool = False) -> float:
    """Current resident set size of this process (Linux /proc), in MB.

    With `trim`, glibc first returns freed heap pages to the OS (malloc_trim), so the number shows
    memory in use rather than what the allocator keeps around after torch's temporary tensors.
    """
    if trim:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def select_tasks(args: argparse.Namespace, folder: Path) -> tuple[str, list[Task]]:
    """Write the chosen tasks as a task folder (a SOURCE for run_predict); return it and the tasks."""
    net = load_predict_model(args.checkpoint, torch.device("cpu"))
    tasks = load_tasks(args.tasks)
    if args.tasks == "arc1:training":  # the default: the tasks this checkpoint was trained on
        trained = set(net.task_ids)
        tasks = [t for t in tasks if t.task_id in trained]
    tasks = [t for t in tasks if max(max(g.shape) for g in t.test_inputs) <= net.canvas]
    tasks = tasks[: args.limit] if args.limit else tasks
    if args.unknown:
        tasks = [dataclasses.replace(t, task_id=f"unknown-{t.task_id}") for t in tasks]
    folder.mkdir(parents=True, exist_ok=True)
    for task in tasks:
        (folder / f"{task.task_id}.json").write_bytes(orjson.dumps(task_to_json(task)))
    return str(folder), tasks


def config(args: argparse.Namespace, source: str, out: Path, tta: int, attempts: int = 2) -> PredictConfig:
    return PredictConfig(
        checkpoint=args.checkpoint,
        tasks=source,
        out=str(out / f"tta{tta}" / "submission.json"),
        tta=tta,
        seed=args.seed,
        batch_size=args.batch_size,
        attempts=attempts,
        device=args.device,
        progress=args.progress,
    )


def throughput(args: argparse.Namespace, source: str, out: Path) -> dict:
    summary = run_predict(config(args, source, out, args.tta[0]))
    print("\n".join(summary.lines()))
    return {**summary.to_dict(), "peak_rss_mb": round(peak_rss_mb(), 1)}


def memory(args: argparse.Namespace, source: str, out: Path) -> dict:
    """The view loop in ten chunks of one plan; RSS and Python-heap memory after each."""
    del out
    tasks = load_tasks(source)
    net = load_predict_model(args.checkpoint, torch.device(args.device if args.device != "auto" else "cpu"))
    plan = plan_views(tasks, args.tta[0], args.seed, net.canvas, net.aug_table, net.task_ids)
    table, chunks, done, started = VoteTable(), [], 0, time.perf_counter()
    rss_start = rss_mb(trim=True)
    tracemalloc.start()
    for part in range(10):
        stop = len(plan) * (part + 1) // 10
        answer_views(net, plan.subset(slice(done, stop)), tasks, table, args.batch_size)
        done = stop
        python_mb = tracemalloc.get_traced_memory()[0] / 2**20
        chunk = {
            "fraction": (part + 1) / 10,
            "views": done,
            "rss_mb": round(rss_mb(), 1),
            "rss_trimmed_mb": round(rss_mb(trim=True), 1),
            "python_heap_mb": round(python_mb, 2),
            **table.stats(),
        }
        chunks.append(chunk)
        print(
            f"{done:8d} views ({(part + 1) * 10:3d}%)  RSS {chunk['rss_mb']:7.1f} MB  "
            f"after malloc_trim {chunk['rss_trimmed_mb']:7.1f} MB  Python heap {python_mb:6.2f} MB  "
            f"distinct grids {chunk['distinct_grids']:6d}  invalid {chunk['invalid']:6d}"
        )
    tracemalloc.stop()
    seconds = time.perf_counter() - started
    return {
        "views": len(plan),
        "views_per_second": round(len(plan) / seconds, 1),
        "rss_before_loop_mb": round(rss_start, 1),
        "rss_at_10pct_mb": chunks[0]["rss_trimmed_mb"],
        "rss_at_100pct_mb": chunks[-1]["rss_trimmed_mb"],
        "python_heap_at_10pct_mb": chunks[0]["python_heap_mb"],
        "python_heap_at_100pct_mb": chunks[-1]["python_heap_mb"],
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "chunks": chunks,
    }


def tta_sweep(args: argparse.Namespace, source: str, out: Path) -> dict:
    rows = []
    for tta in args.tta:
        # pass@K with K = tta counts a test input whose answer is among any of its candidates.
        s = run_predict(config(args, source, out, tta, attempts=max(tta, 2)))
        rows.append(
            {
                "tta": tta,
                "views": s.views,
                "pass@1": s.pass_at_k.get(1),
                "pass@2": s.pass_at_k.get(2),
                "pass@all": s.pass_at_k.get(max(tta, 2)),
                "score": s.score,
                "invalid_views": s.invalid_views,
                "seconds": round(s.seconds, 1),
            }
        )
        print(
            f"tta {tta:4d}: {s.views:6d} views  pass@1 {s.pass_at_k.get(1, 0):.4f}  "
            f"pass@2 {s.pass_at_k.get(2, 0):.4f}  pass@all {s.pass_at_k.get(max(tta, 2), 0):.4f}  "
            f"score {s.score:.4f}  {s.seconds:.1f} s"
        )
    return {"tasks": s.tasks, "test_inputs": s.test_inputs, "sweep": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("throughput", "memory", "tta"))
    parser.add_argument("checkpoint", help="a checkpoint .pt or a run directory")
    parser.add_argument("--tasks", default="arc1:training", help="task SOURCE (default: the trained tasks)")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N tasks (0 = all)")
    parser.add_argument("--tta", type=int, nargs="+", default=None, help="views per test input")
    parser.add_argument(
        "--unknown", action="store_true", help="rename the tasks so the checkpoint does not know them"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (0 = torch's default)")
    parser.add_argument("--progress", action="store_true")
    parser.add_argument("--out", type=Path, default=None, help="where submissions go (default: a temp dir)")
    args = parser.parse_args()
    args.tta = args.tta or {"throughput": [32], "memory": [200], "tta": [1, 8, 16, 17]}[args.mode]
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="predict_bench_") as scratch:
        out = args.out or Path(scratch)
        source, tasks = select_tasks(args, Path(scratch) / "tasks")
        print(f"{len(tasks)} tasks, {sum(len(t.test_inputs) for t in tasks)} test inputs, mode {args.mode}")
        run = {"throughput": throughput, "memory": memory, "tta": tta_sweep}[args.mode]
        result = run(args, source, out)
    print(
        orjson.dumps(
            {"mode": args.mode, "threads": torch.get_num_threads(), "tta": args.tta, **result}
        ).decode()
    )


if __name__ == "__main__":
    main()
