"""Program search on a task set: task score, wall time, and what the solved tasks used.

    python benchmarks/search_bench.py arc1:training --time-budget 600 [--depth 3] [--workers 2]
    python benchmarks/search_bench.py arc1:evaluation --time-budget 600 --save   # held-out numbers

Runs `arcsolve search` (all its workers) on SOURCE under the budget and prints: the Kaggle task score
(pass@2, mean over tasks), tasks solved, tasks where some program fitted every train pair but its
answers were wrong (false fits), wall time and the load average before and after (the machine is
shared: a number without its load is not comparable), how many solved tasks each primitive family
takes part in (from the first program whose answer was right), and the depth of those programs.
The 2020 Kaggle winner's C++ search (top-quarks/ARC-solution, depth 2 on these 2 cores, measured
in issue 22) is printed beside the score as the peer: 28.3% on arc1:evaluation in 134 s, 0.8% on
arc2:evaluation in 81 s. `--save` writes benchmarks/results/search-<set>.json. Develop on
arc1:training only; the evaluation sets are for measuring.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from arcsolve.data.tasks import load_tasks
from arcsolve.search.config import SearchConfig, SearchOptions
from arcsolve.search.run import run_search

PEER = {"arc1:evaluation": (0.283, 134.0), "arc2:evaluation": (0.008, 81.0)}
RESULTS = Path(__file__).resolve().parent / "results"


def right_program(record: dict, truths: list) -> dict | None:
    """The first program (in rank order, among the two attempts' sources) whose answers are all right."""
    for program in record["programs"][:2]:
        if all(out == truth.tolist() for out, truth in zip(program["test_outputs"], truths, strict=True)):
            return program
    return None


def summarize(tasks, records) -> dict:
    by_id = {t.task_id: t for t in tasks}
    families, depths, solved, false_fits = Counter(), Counter(), [], []
    for record in records:
        task = by_id[record["task_id"]]
        program = right_program(record, list(task.test_outputs))
        if program is not None:
            solved.append(record["task_id"])
            families.update(program["families"] or ["identity"])
            depths[program["depth"]] += 1
        elif record["programs"]:
            false_fits.append(record["task_id"])
    statuses = Counter(r["status"] for r in records)
    return {
        "solved": solved,
        "false_fits": false_fits,
        "families": dict(families.most_common()),
        "depths": dict(sorted(depths.items())),
        "statuses": dict(statuses),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("--time-budget", type=float, default=600.0)
    parser.add_argument("--task-seconds", type=float, default=SearchOptions.task_seconds)
    parser.add_argument("--depth", type=int, default=SearchOptions.depth)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--limit", type=int, default=0, help="the first N tasks only")
    parser.add_argument("--save", action="store_true")
    args = parser.parse_args()
    tasks = load_tasks(args.source)
    if args.limit:
        tasks = tasks[: args.limit]
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "tasks.json"
        if args.limit:
            from arcsolve.data.tasks import task_to_json

            (Path(tmp) / "tasks").mkdir()
            for task in tasks:
                (Path(tmp) / "tasks" / f"{task.task_id}.json").write_text(json.dumps(task_to_json(task)))
            source = Path(tmp) / "tasks"
        options = SearchOptions(task_seconds=args.task_seconds, depth=args.depth, workers=args.workers)
        cfg = SearchConfig(
            tasks=str(source) if args.limit else args.source,
            out=str(Path(tmp) / "submission.json"),
            time_budget=args.time_budget,
            progress=sys.stderr.isatty(),
            options=options,
        )
        started = time.perf_counter()
        run = run_search(cfg)
        wall = time.perf_counter() - started
    summary = summarize(tasks, run.records)
    result = {
        "source": args.source,
        "tasks": len(tasks),
        "score": run.score,
        "solved": len(summary["solved"]),
        "false_fits": len(summary["false_fits"]),
        "wall_seconds": round(wall, 1),
        "workers": options.worker_count(),
        "depth": args.depth,
        "time_budget": args.time_budget,
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "date": time.strftime("%Y-%m-%d"),
        "peer_score_and_seconds": PEER.get(args.source),
        **summary,
    }
    print(
        f"{args.source}: task score {run.score:.4f} ({len(summary['solved'])}/{len(tasks)} solved, "
        f"{len(summary['false_fits'])} false fits) in {wall:.0f} s on {options.worker_count()} workers, "
        f"load {load_before[0]:.1f} -> {os.getloadavg()[0]:.1f}"
    )
    if args.source in PEER:
        print(
            f"peer (top-quarks/ARC-solution, depth 2, issue 22's run): {PEER[args.source][0]:.3f} in {PEER[args.source][1]:.0f} s"
        )
    print("families of solved tasks:", summary["families"])
    print("depths of solved tasks:", summary["depths"], "statuses:", summary["statuses"])
    if args.save:
        name = args.source.replace(":", "-")
        (RESULTS / f"search-{name}.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in ("solved", "false_fits")}))


if __name__ == "__main__":
    main()
