"""Augmentation kernels vs their NumPy references, and the wall time / peak RSS of a paper-size ARC build.

    python benchmarks/augment_bench.py [--quick]

1. Kernel speed-up: the numba kernels (`encode_views`, `decode_views`, `transform_packed`) against the
   plain per-grid NumPy references in `arcsolve.augment.reference`, on the grids of real ARC tasks
   under random augmentations and offsets, both timed in this run (best of a few repeats).
2. Build: `build_arc_dataset(source=arc1:evaluation, extra_train=arc1:training, aug=1000)` (aug=50
   with --quick) into a temporary directory, in a child process so its peak RSS is its own
   (its VmHWM; see child_peak.py for why not its rusage).
The last line printed is a JSON object with every number; `run(quick)` returns it (benchmarks/run.py).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson
from child_peak import run_child

from arcsolve.augment import decode_views, encode_views, pack_grids, sample_augmentation_arrays, view_shapes
from arcsolve.augment.kernels import transform_packed
from arcsolve.augment.reference import (
    decode_views_reference,
    encode_views_reference,
    transform_packed_reference,
)
from arcsolve.augment.transforms import sample_offsets
from arcsolve.data.tasks import load_tasks

CANVAS = 30


def best_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def kernel_workload(n_tasks: int, n_aug: int):
    """Real ARC grids, packed together, with random augmentations and offsets for every (aug, grid)."""
    rng = np.random.default_rng(0)
    grids = [g for task in load_tasks("arc1:evaluation")[:n_tasks] for g in task.all_grids()]
    packed = pack_grids(grids)
    dihedrals, maps = sample_augmentation_arrays(rng, n_aug)
    aug_index = np.repeat(np.arange(n_aug), len(packed))
    grid_index = np.tile(np.arange(len(packed)), n_aug)
    heights, widths = view_shapes(packed, dihedrals)
    offsets = sample_offsets(rng, heights[aug_index, grid_index], widths[aug_index, grid_index], CANVAS)
    return packed, dihedrals, maps, grid_index, aug_index, offsets


def bench_kernels(n_tasks: int, n_aug: int, repeats: int) -> dict[str, float]:
    """Numba kernel and NumPy reference times on n_tasks x n_aug augmented views (best of `repeats`
    for the references, of 5 x `repeats` for the kernels); speed-up = reference / kernel."""
    packed, dihedrals, maps, grid_index, aug_index, offsets = kernel_workload(n_tasks, n_aug)
    args = (packed, dihedrals, maps, grid_index, aug_index, offsets, CANVAS)
    tokens = encode_views(*args)  # also compiles / loads the cached kernels
    assert np.array_equal(tokens, encode_views_reference(*args))
    rows = len(grid_index)
    per_row = (dihedrals[aug_index], maps[aug_index], offsets)
    decode_views(tokens, CANVAS, *per_row)
    transform_packed(packed, dihedrals, maps)
    numbers = {"kernel_rows": rows}
    timings = {
        "encode": (lambda: encode_views(*args), lambda: encode_views_reference(*args)),
        "decode": (
            lambda: decode_views(tokens, CANVAS, *per_row),
            lambda: decode_views_reference(tokens, CANVAS, *per_row),
        ),
        "transform": (
            lambda: transform_packed(packed, dihedrals, maps),
            lambda: transform_packed_reference(packed, dihedrals, maps),
        ),
    }
    for name, (fast, slow) in timings.items():
        t_fast, t_slow = best_time(fast, repeats * 5), best_time(slow, repeats)
        numbers[f"{name}_numba_s"] = t_fast
        numbers[f"{name}_numpy_s"] = t_slow
        numbers[f"{name}_speedup"] = t_slow / t_fast
        print(
            f"{name:9s} numba {t_fast * 1e3:8.2f} ms   numpy reference {t_slow * 1e3:9.1f} ms   x{t_slow / t_fast:6.1f}"
        )
    print(f"({rows} rows of {CANVAS * CANVAS} tokens)")
    return numbers


_BUILD = """
import sys, orjson
from arcsolve.data.arc_builder import ArcBuildConfig, build_arc_dataset
cfg = ArcBuildConfig(source=sys.argv[3], extra_train=sys.argv[4] or None, aug=int(sys.argv[2]), seed=0)
s = build_arc_dataset(cfg, sys.argv[1], progress=False)
print(orjson.dumps({"puzzle_ids": s.num_puzzle_ids, "counts": s.counts, "seconds": s.seconds,
                    "short": s.tasks_short_of_aug, "left_out": s.num_left_out}).decode())
"""


def bench_build(
    aug: int, source: str = "arc1:evaluation", extra_train: str = "arc1:training"
) -> dict[str, object]:
    """Wall time, peak RSS and size of `arcsolve data build arc --source SOURCE --extra-train EXTRA
    --aug AUG` (the paper's ARC-AGI-1 recipe by default), run in a child process."""
    with tempfile.TemporaryDirectory(prefix="arcsolve-bench-") as tmp:
        out = Path(tmp) / "arc"
        stdout, wall, peak_mb = run_child(_BUILD, [str(out), str(aug), source, extra_train])
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    result = orjson.loads(stdout.strip().splitlines()[-1])
    train, test = result["counts"]["train"], result["counts"]["test"]
    print(
        f"build aug={aug}: {wall:.1f} s wall (process), peak RSS {peak_mb:.0f} MiB, {size / 2**30:.2f} GiB on disk; "
        f"{result['puzzle_ids']} puzzle ids, train {train['examples']} examples, test {test['examples']} examples, "
        f"{result['short']} tasks short of aug"
    )
    return {
        "build_recipe": f"--source {source}" + (f" --extra-train {extra_train}" if extra_train else ""),
        "build_aug": aug,
        "build_wall_s": wall,
        "build_peak_rss_mib": peak_mb,
        "build_disk_gib": size / 2**30,
        "build_puzzle_ids": result["puzzle_ids"],
        "build_train_examples": train["examples"],
        "build_test_examples": test["examples"],
    }


def run(quick: bool) -> dict[str, object]:
    numbers: dict[str, object] = dict(bench_kernels(20, 10 if quick else 50, 2 if quick else 3))
    numbers.update(bench_build(50 if quick else 1000))
    return numbers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller workloads (aug=50 build)")
    print(orjson.dumps(run(parser.parse_args().quick)).decode())


if __name__ == "__main__":
    main()
