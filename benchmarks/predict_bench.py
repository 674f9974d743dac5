"""`arcsolve predict` cost and value: views/s, time outside the model, memory over a long run, TTA gain.

    python benchmarks/predict_bench.py throughput CHECKPOINT [--tasks SRC] [--limit 50] [--tta 32] [--unknown]
    python benchmarks/predict_bench.py memory CHECKPOINT [--tasks SRC] [--tta 200] [--unknown]
    python benchmarks/predict_bench.py tta CHECKPOINT [--tasks SRC] [--tta 1 8 16 17]
    python benchmarks/predict_bench.py rss CHECKPOINT [--tasks SRC] [--tta 2 4] [--project-to 1000] [--rank poe]
    python benchmarks/predict_bench.py rank CHECKPOINT [--tasks SRC] [--tta 1 8 32 100] [--poe-views 32]

- throughput: one full `run_predict`; views/s over the view loop, the share of that loop spent outside
  the model (encode, decode + inverse transform, vote), and the whole run's seconds.
- memory: the same loop in ten chunks of the plan with one vote table, printing after each chunk the
  process RSS (raw, and after malloc_trim hands freed heap back) and the Python heap (tracemalloc):
  flat numbers from 10% to 100% of the views mean nothing grows with the view count except the
  (small) table of distinct grids.
- tta: pass@1 / pass@2 of the votes, pass@all (the answer is among any candidate) and the submission
  score (votes + fallbacks) for several --tta values on the same tasks (by default the tasks the
  checkpoint was trained on: their test inputs are never trained on).
- rss: the peak RSS of whole `arcsolve predict` processes (their own VmHWM) on all of --tasks
  at a few --tta values, and a projection to --project-to views per test input (a run too long to
  make here): the largest measurement plus, per further view, the memory one view costs (from the
  memory mode on the first --limit tasks). With --rank poe / hybrid the projection adds what the
  log-probability store can still grow by (`poe.bound_bytes` at --poe-views minus at the largest --tta).
- rank: votes vs product of experts vs hybrid on the same views at each --tta (benchmarks/rank_sweep.py).

`make_checkpoint` writes a checkpoint of a given model shape after one training step (its weights
are nearly random: good for cost, not for accuracy), for run.py or when no trained one is at hand.

`--tasks` defaults to the checkpoint's own task ids looked up in arc1:training; `--unknown` renames
the tasks so the checkpoint does not know them (random augmentations, blank task id), which lets a
run ask for more views than a known task has versions. The last line printed is a JSON object;
`bench_throughput` and `bench_peak_rss` return those numbers to benchmarks/run.py.
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
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import orjson
import torch
from child_peak import run_child
from rank_sweep import RankOptions, rank_sweep

from arcsolve.data.arc_builder import ArcBuildConfig, build_arc_dataset
from arcsolve.data.tasks import Task, load_tasks, task_to_json
from arcsolve.model.config import ModelConfig
from arcsolve.predict.config import PredictConfig
from arcsolve.predict.model import load_predict_model
from arcsolve.predict.poe import bound_bytes
from arcsolve.predict.run import answer_views, run_predict
from arcsolve.predict.views import plan_views
from arcsolve.predict.vote import VoteTable
from arcsolve.train.config import DataConfig, RunConfig, TrainConfig
from arcsolve.train.loop import run_train


@dataclass
class Options:
    """What every mode needs (the command-line flags, or run.py's choices)."""

    checkpoint: str
    tasks: str = "arc1:training"  # the default: the tasks this checkpoint was trained on
    limit: int = 0  # first N tasks only (0 = all)
    max_grid: int = 0  # only tasks whose grids are all at most this side (0 = any)
    tta: list[int] = field(default_factory=lambda: [32])
    unknown: bool = False
    seed: int = 0
    batch_size: int = 64
    device: str = "cpu"
    progress: bool = False
    rank: str = "votes"  # predict's --rank
    poe_views: int = 32


# The cheapest model per view on a 30x30 canvas (run.py's RSS and micro runs, poe_overhead.py's upper
# bound): all 400 evaluation tasks fit and many views run.
SMALLEST_MODEL = ModelConfig(
    hidden_size=32, num_heads=2, expansion=2.0, num_layers=1, H_cycles=1, L_cycles=1, halt_max_steps=1,
    puzzle_emb_len=1, forward_dtype="float32",
)  # fmt: skip


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


def select_tasks(args: Options, folder: Path) -> tuple[str, list[Task]]:
    """Write the chosen tasks as a task folder (a SOURCE for run_predict); return it and the tasks."""
    net = load_predict_model(args.checkpoint, torch.device("cpu"))
    tasks = load_tasks(args.tasks)
    if args.tasks == "arc1:training":  # the default: the tasks this checkpoint was trained on
        trained = set(net.task_ids)
        tasks = [t for t in tasks if t.task_id in trained]
    tasks = [t for t in tasks if max(max(g.shape) for g in t.test_inputs) <= net.canvas]
    if args.max_grid:  # every grid of the task, train pairs included (what adaptation trains on)
        tasks = [t for t in tasks if t.max_side() <= args.max_grid]
    tasks = tasks[: args.limit] if args.limit else tasks
    if args.unknown:
        tasks = [dataclasses.replace(t, task_id=f"unknown-{t.task_id}") for t in tasks]
    folder.mkdir(parents=True, exist_ok=True)
    for task in tasks:
        (folder / f"{task.task_id}.json").write_bytes(orjson.dumps(task_to_json(task)))
    return str(folder), tasks


def config(args: Options, source: str, out: Path, tta: int, attempts: int = 2) -> PredictConfig:
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
        rank=args.rank,
        poe_views=args.poe_views,
    )


def throughput(args: Options, source: str, out: Path) -> dict:
    summary = run_predict(config(args, source, out, args.tta[0]))
    print("\n".join(summary.lines()))
    return {**summary.to_dict(), "peak_rss_mb": round(peak_rss_mb(), 1)}


def memory(args: Options, source: str, out: Path) -> dict:
    """The view loop in ten chunks of one plan; RSS and Python-heap memory after each."""
    del out
    tasks = load_tasks(source)
    net = load_predict_model(args.checkpoint, torch.device(args.device if args.device != "auto" else "cpu"))
    plan = plan_views(tasks, args.tta[0], args.seed, net.canvas, net.aug_table, net.task_ids)
    # One batch first, voting into a table thrown away: whatever the first call loads (numba
    # kernels, torch's lazily made state) must not be counted as growth with the views.
    answer_views(net, plan.subset(slice(0, args.batch_size)), tasks, VoteTable(), args.batch_size)
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
    # What each further view costs in memory: its row of the plan, plus the heap growth from the first
    # chunk with views to the last (the vote table's new grids; fixed costs cancel out).
    first = next((c for c in chunks if c["views"] > 0), chunks[-1])
    grown = (chunks[-1]["python_heap_mb"] - first["python_heap_mb"]) * 2**20
    rows = [getattr(plan, f.name) for f in dataclasses.fields(plan)]
    plan_bytes = sum(a.nbytes for a in rows if isinstance(a, np.ndarray))
    return {
        "views": len(plan),
        "plan_bytes_per_view": plan_bytes / max(len(plan), 1),
        "heap_bytes_per_view": max(grown, 0.0) / max(chunks[-1]["views"] - first["views"], 1),
        "views_per_second": round(len(plan) / seconds, 1),
        "rss_before_loop_mb": round(rss_start, 1),
        "rss_at_10pct_mb": chunks[0]["rss_trimmed_mb"],
        "rss_at_100pct_mb": chunks[-1]["rss_trimmed_mb"],
        "python_heap_at_10pct_mb": chunks[0]["python_heap_mb"],
        "python_heap_at_100pct_mb": chunks[-1]["python_heap_mb"],
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "chunks": chunks,
    }


def tta_sweep(args: Options, source: str, out: Path) -> dict:
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


def bench_throughput(opts: Options) -> dict:
    """One `run_predict` over the chosen tasks (in a temporary folder); its summary and peak RSS."""
    with tempfile.TemporaryDirectory(prefix="predict_bench_") as scratch:
        source, tasks = select_tasks(opts, Path(scratch) / "tasks")
        print(f"predict throughput: {len(tasks)} tasks, {sum(len(t.test_inputs) for t in tasks)} test inputs")
        return throughput(opts, source, Path(scratch))


def predict_rss(opts: Options, tta: int, out: Path) -> dict:
    """Peak RSS of one `arcsolve predict` run in a child process (its own VmHWM, see child_peak.py)
    and how many views it answered."""
    args = ["predict", opts.checkpoint, "--tasks", opts.tasks, "--tta", str(tta), "--seed", str(opts.seed)]
    args += ["--out", str(out / f"tta{tta}" / "submission.json"), "--batch-size", str(opts.batch_size)]
    args += ["--device", opts.device, "--rank", opts.rank, "--poe-views", str(opts.poe_views)]
    env = {**os.environ, "OMP_NUM_THREADS": str(torch.get_num_threads())}
    report, seconds, peak_mb = run_child("from arcsolve.cli import main\nmain()\n", args, env)
    views = int(report.split("views: ")[1].split(" of ")[0])  # "views: A of B run, ..."
    return {"tta": tta, "views": views, "peak_rss_mb": round(peak_mb, 1), "seconds": round(seconds, 1)}


def bench_peak_rss(opts: Options, bytes_per_view: float, project_to: int = 1000) -> dict:
    """Peak RSS of `arcsolve predict` at each --tta of `opts.tta` (ascending), projected to --tta
    `project_to` (views scale with tta; unknown tasks get every one) as the largest measurement plus
    `bytes_per_view` (from `memory`) for each further view. A line through the measurements would
    not do: RSS moves by a few MB between identical runs, and the projection multiplies that."""
    with tempfile.TemporaryDirectory(prefix="predict_rss_") as scratch:
        slices = [predict_rss(opts, tta, Path(scratch)) for tta in opts.tta]
    for row in slices:
        print(
            f"predict --tta {row['tta']}: {row['views']} views, peak RSS {row['peak_rss_mb']} MB, "
            f"{row['seconds']} s"
        )
    last = slices[-1]
    target = last["views"] / last["tta"] * project_to
    projected = last["peak_rss_mb"] + bytes_per_view / 2**20 * (target - last["views"])
    if opts.rank != "votes":  # the log-probability store grows up to --poe-views views per input
        net = load_predict_model(opts.checkpoint, torch.device("cpu"))
        inputs = last["views"] // last["tta"]  # every input has tta views (unknown tasks, see --unknown)
        grows = bound_bytes(opts.poe_views, net.canvas, inputs) - bound_bytes(
            min(opts.poe_views, last["tta"]), net.canvas, inputs
        )
        projected += grows / 2**20
        print(f"log-probability store: +{grows / 2**20:.0f} MB more at {opts.poe_views} views per input")
    print(
        f"projected to --tta {project_to} ({target:.0f} views, {bytes_per_view:.0f} bytes per view): {projected:.0f} MB"
    )
    return {
        "slices": slices,
        "bytes_per_view": bytes_per_view,
        "projected_tta": project_to,
        "projected_views": int(target),
        "projected_peak_rss_mb": projected,
    }


def make_checkpoint(
    folder: Path, model: ModelConfig, source: str, canvas: int, max_grid: int | None = None, aug: int = 1
) -> Path:
    """A run directory whose checkpoint holds `model` after one training step on `source`."""
    build = ArcBuildConfig(source=source, aug=aug, canvas=canvas, max_grid=max_grid)
    build_arc_dataset(build, folder / "data", progress=False)
    train = TrainConfig(
        global_batch_size=2, max_steps=1, eval_every=0, eval_max_examples=2, device="cpu", compile="off"
    )
    run_train(
        RunConfig(data=DataConfig(path=str(folder / "data")), model=model, train=train),
        folder / "run",
        progress=False,
    )
    return folder / "run"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("throughput", "memory", "tta", "rss", "rank"))
    parser.add_argument("checkpoint", help="a checkpoint .pt or a run directory")
    parser.add_argument("--tasks", default="arc1:training", help="task SOURCE (default: the trained tasks)")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N tasks (0 = all)")
    parser.add_argument("--max-grid", type=int, default=0, help="only tasks whose grids are all <= N x N")
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
    parser.add_argument("--project-to", type=int, default=1000, help="rss: the --tta of the projection")
    parser.add_argument(
        "--rank", default="votes", choices=("votes", "poe", "hybrid"), help="predict's --rank"
    )
    parser.add_argument("--poe-views", type=int, default=32)
    parser.add_argument("--poe-candidates", type=int, default=10, help="rank: top voted grids scored")
    parser.add_argument("--poe-views-max", type=int, default=0, help="rank: views kept for the poe-all row")
    parser.add_argument("--adapt-steps", type=int, default=0, help="rank: adapt the unknown tasks first")
    parser.add_argument("--adapt-model", default="none", choices=("none", "last", "all"))
    parser.add_argument("--adapt-aug", type=int, default=8)
    parser.add_argument("--adapt-lr", type=float, default=1e-2)
    parser.add_argument("--adapt-batch-size", type=int, default=32)
    args = parser.parse_args()
    default_tta = {
        "throughput": [32],
        "memory": [200],
        "tta": [1, 8, 16, 17],
        "rss": [2, 4],
        "rank": [1, 8, 32, 100],
    }
    default_tta = default_tta[args.mode]
    opts = Options(
        checkpoint=args.checkpoint,
        tasks=args.tasks,
        limit=args.limit,
        max_grid=args.max_grid,
        tta=args.tta or default_tta,
        unknown=args.unknown,
        seed=args.seed,
        batch_size=args.batch_size,
        device=args.device,
        progress=args.progress,
        rank=args.rank,
        poe_views=args.poe_views,
    )
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if args.mode == "rss":  # memory per view on the first --limit tasks, then whole processes
        with tempfile.TemporaryDirectory(prefix="predict_bench_") as scratch:
            source, _ = select_tasks(replace(opts, tta=opts.tta[-1:]), Path(scratch) / "tasks")
            grown = memory(replace(opts, tta=opts.tta[-1:]), source, Path(scratch))
        per_view = grown["plan_bytes_per_view"] + grown["heap_bytes_per_view"]
        result = bench_peak_rss(opts, per_view, args.project_to)
    else:
        with tempfile.TemporaryDirectory(prefix="predict_bench_") as scratch:
            out = args.out or Path(scratch)
            source, tasks = select_tasks(opts, Path(scratch) / "tasks")
            print(
                f"{len(tasks)} tasks, {sum(len(t.test_inputs) for t in tasks)} test inputs, mode {args.mode}"
            )
            if args.mode == "rank":
                ranking = RankOptions(
                    poe_views=args.poe_views,
                    poe_candidates=args.poe_candidates,
                    poe_views_max=args.poe_views_max,
                    adapt_steps=args.adapt_steps,
                    adapt_model=args.adapt_model,
                    adapt_aug=args.adapt_aug,
                    adapt_lr=args.adapt_lr,
                    adapt_batch_size=args.adapt_batch_size,
                )
                result = rank_sweep(opts, ranking, source)
            else:
                run = {"throughput": throughput, "memory": memory, "tta": tta_sweep}[args.mode]
                result = run(opts, source, out)
    print(
        orjson.dumps(
            {"mode": args.mode, "threads": torch.get_num_threads(), "tta": opts.tta, **result}
        ).decode()
    )


if __name__ == "__main__":
    main()
