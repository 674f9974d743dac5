"""Combine `predict_bench.py rank` results of several training seeds into one README table.

    python benchmarks/predict_bench.py rank runs/8x8-s0 ... > s0.log   # its last line is the JSON result
    python benchmarks/rank_seeds.py s0.log s1.log s2.log [--modes votes poe hybrid]

Each cell is the mean over the seeds of the task-mean score, then the solved-task count of each seed in
brackets (a task with k test inputs counts 1/k per input), so a difference of one task is visible as
one. The last row is the largest time the ranking added to the view loop over the seeds (`overhead` of
benchmarks/rank_sweep.py). A seed whose sweep covers other --tta values than the first is refused.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson

METRICS = (("pass@1", "pass@1"), ("pass@2", "pass@2"), ("any", "among candidates"))


def read_result(path: Path) -> dict:
    """The last JSON line of a `predict_bench.py rank` log (or a file holding only that line)."""
    for line in reversed(path.read_text().splitlines()):
        if line.startswith("{") and '"sweep"' in line:
            return orjson.loads(line)
    raise SystemExit(f"rank_seeds: error: {path}: no predict_bench rank result (a JSON line with 'sweep')")


def combine(results: list[dict], modes: list[str]) -> str:
    modes = [m for m in modes if all(m in r["sweep"][0] for r in results)]  # older runs lack poe-mean
    if not modes:
        raise SystemExit("rank_seeds: error: no mode asked for is in every result")
    ttas = [row["tta"] for row in results[0]["sweep"]]
    for result in results[1:]:
        if [row["tta"] for row in result["sweep"]] != ttas:
            raise SystemExit(f"rank_seeds: error: the seeds swept different --tta values: {ttas}")
    tasks = results[0]["sweep"][0][modes[0]]["tasks"]
    out = ["| mode | metric | " + " | ".join(f"{t} views" for t in ttas) + " |"]
    out.append("|---|---|" + "---|" * len(ttas))
    for mode in modes:
        for key, label in METRICS:
            cells = []
            for i in range(len(ttas)):
                rows = [r["sweep"][i][mode] for r in results]
                mean = sum(row[key] for row in rows) / len(rows)
                counts = " / ".join(f"{row[key + '_tasks']:g}" for row in rows)
                cells.append(f"{mean:.3f} ({counts})")
            out.append(f"| {mode} | {label} | " + " | ".join(cells) + " |")
    added = [max(r["sweep"][i]["overhead"] or 0.0 for r in results) for i in range(len(ttas))]
    out.append("| | PoE time added (max over seeds) | " + " | ".join(f"{a:.1%}" for a in added) + " |")
    header = f"{len(results)} seeds, {tasks} tasks, {results[0]['test_inputs']} test inputs"
    return header + "\n\n" + "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, nargs="+", help="predict_bench rank logs, one per seed")
    parser.add_argument(
        "--modes",
        nargs="+",
        default=["votes", "poe", "hybrid", "poe-voted", "poe+pad", "poe-mean", "poe-floor"],
    )
    args = parser.parse_args()
    print(combine([read_result(path) for path in args.results], args.modes))


if __name__ == "__main__":
    sys.exit(main())
