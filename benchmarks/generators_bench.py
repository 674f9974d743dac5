"""Generation speed of extreme Sudokus and 30x30 mazes (min path 110): numba vs plain Python.

    python benchmarks/generators_bench.py [--quick]

The numba generators run through the public wrappers, after one warm-up call (JIT compile or cache
load, reported apart). The plain-Python references from tests/bench_naive.py follow the same recipes
and run on far fewer items; their rate is extrapolated:
- Sudoku: the reference times single generation attempts (random grid, dig to a minimal puzzle, rate
  it when it has enough blanks); seconds per extreme puzzle = seconds per attempt x the mean number of
  attempts per kept puzzle, counted by the numba kernel on the same level.
- Maze: the reference generates whole mazes (same acceptance rule), timed directly.
The last line is JSON; `run(quick)` returns the same numbers (benchmarks/run.py).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from bench_naive import naive_generate_maze, naive_sudoku_attempt, sudoku_rate  # noqa: E402

from arcsolve.data import sudoku_kernels as kernels  # noqa: E402
from arcsolve.data.maze import generate_maze  # noqa: E402
from arcsolve.data.sudoku import SUDOKU_LEVELS, generate_sudoku, item_seeds  # noqa: E402


def timed(fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def percentiles(values: np.ndarray) -> str:
    p = np.percentile(values, [0, 10, 50, 90, 100])
    return "min {:.0f} p10 {:.0f} median {:.0f} p90 {:.0f} max {:.0f}".format(*p)


def bench_sudoku(n: int, naive_attempts: int) -> dict:
    level = SUDOKU_LEVELS["extreme"]
    _, warm = timed(generate_sudoku, 2, "extreme", 0)
    (puzzles, _, ratings), seconds = timed(generate_sudoku, n, "extreme", 1)
    rate = n / seconds
    # Attempts per kept puzzle, from the kernel on the same seeds the wrapper used.
    attempts = kernels.sudoku_batch(item_seeds(n, 1), level.as_array(), 10_000)[3]
    print(
        f"sudoku extreme numba: {n} in {seconds:.2f} s = {rate:.0f}/s (warm-up {warm:.1f} s), "
        f"{attempts.mean():.2f} attempts per puzzle"
    )
    print(f"  blanks {percentiles((puzzles == 0).sum(axis=1))}; rating {percentiles(ratings)}")
    numbers = {"sudoku_gen_per_s": rate, "sudoku_1000_s": 1000 / rate, "sudoku_warmup_s": warm}
    if naive_attempts == 0:
        return numbers

    rng = random.Random(0)
    start = time.perf_counter()
    for _ in range(naive_attempts):
        puzzle, _, blanks = naive_sudoku_attempt(rng, 81)
        if blanks >= level.min_blanks:
            sudoku_rate(puzzle)
    per_attempt = (time.perf_counter() - start) / naive_attempts
    naive_rate = 1.0 / (per_attempt * attempts.mean())
    print(
        f"sudoku extreme plain Python: {per_attempt:.2f} s per attempt over {naive_attempts} attempts "
        f"-> {naive_rate:.3f}/s extrapolated; speed-up {rate / naive_rate:.0f}x"
    )
    return {**numbers, "sudoku_naive_per_s": naive_rate, "sudoku_speedup": rate / naive_rate}


def bench_maze(n: int, naive_n: int) -> dict:
    _, warm = timed(generate_maze, 2, 30, 110, 0)
    (_, _, lengths), seconds = timed(generate_maze, n, 30, 110, 1)
    rate = n / seconds
    print(f"maze 30x30 min 110 numba: {n} in {seconds:.3f} s = {rate:.0f}/s (warm-up {warm:.1f} s)")
    print(f"  path moves {percentiles(lengths)}")
    small = generate_maze(n, 15, 20, 1)[2]
    print(f"maze 15x15 min 20 path moves {percentiles(small)}")
    numbers = {"maze_gen_per_s": rate, "maze_1000_s": 1000 / rate, "maze_warmup_s": warm}
    if naive_n == 0:
        return numbers

    rng = random.Random(0)
    _, naive_seconds = timed(lambda: [naive_generate_maze(rng, 30, 110) for _ in range(naive_n)])
    naive_rate = naive_n / naive_seconds
    print(
        f"maze plain Python: {naive_n} in {naive_seconds:.2f} s = {naive_rate:.1f}/s; "
        f"speed-up {rate / naive_rate:.0f}x"
    )
    return {**numbers, "maze_naive_per_s": naive_rate, "maze_speedup": rate / naive_rate}


def run(quick: bool, naive: bool = True) -> dict:
    """Every number of this benchmark; without `naive` the plain-Python comparison is skipped."""
    sudoku_n, naive_attempts = (200, 2) if quick else (1000, 8)
    maze_n, naive_mazes = (1000, 20) if quick else (1000, 100)
    print(f"numba threads: {numba.get_num_threads()}")
    result = {
        **bench_sudoku(sudoku_n, naive_attempts if naive else 0),
        **bench_maze(maze_n, naive_mazes if naive else 0),
    }
    result.update(threads=numba.get_num_threads(), quick=quick)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer items (numba 200/1000, naive 2/20)")
    parser.add_argument("--no-naive", action="store_true", help="skip the plain-Python references")
    args = parser.parse_args()
    result = run(args.quick, naive=not args.no_naive)
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in result.items()}))


if __name__ == "__main__":
    main()
