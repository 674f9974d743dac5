"""The ensemble against its parts: the model alone, the search alone, and `predict --search`, on the
same tasks in the same run.

    python benchmarks/ensemble_bench.py runs/quickstart/run --tasks runs/quickstart/tasks --tta 16

Prints the Kaggle task score (pass@2) of each and the wall time, with the load average, and writes
nothing but temporary files. The target: the ensemble scores at least the better of its parts.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from arcsolve.predict.config import PredictConfig
from arcsolve.predict.run import run_predict
from arcsolve.search.config import SearchConfig, SearchOptions
from arcsolve.search.run import run_search


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--tasks", required=True)
    parser.add_argument("--tta", type=int, default=16)
    parser.add_argument("--task-seconds", type=float, default=10.0)
    args = parser.parse_args()
    options = SearchOptions(task_seconds=args.task_seconds)
    results, load = {}, os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("model", "search", "ensemble"):
            out = str(Path(tmp) / name / "submission.json")
            started = time.perf_counter()
            if name == "search":
                score = run_search(
                    SearchConfig(tasks=args.tasks, out=out, progress=False, options=options)
                ).score
            else:
                cfg = PredictConfig(
                    checkpoint=args.checkpoint, tasks=args.tasks, out=out, tta=args.tta,
                    search=name == "ensemble", search_options=options,
                )  # fmt: skip
                score = run_predict(cfg).score
            results[name] = {"score": score, "seconds": round(time.perf_counter() - started, 1)}
            print(f"{name:9s} task score {score:.4f} in {results[name]['seconds']:.0f} s", flush=True)
    best_part = max(results["model"]["score"], results["search"]["score"])
    print(
        f"ensemble - best part: {results['ensemble']['score'] - best_part:+.4f}; load {load[0]:.1f} -> {os.getloadavg()[0]:.1f}"
    )
    print(json.dumps({"tasks": args.tasks, "checkpoint": args.checkpoint, "tta": args.tta, **results}))


if __name__ == "__main__":
    main()
