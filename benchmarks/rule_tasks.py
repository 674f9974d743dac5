"""Write synthetic ARC-format tasks of simple rules: the ranking testbed's data (issue 17).

    python benchmarks/rule_tasks.py runs/rule-tasks --tasks 240 --seed 0
    arcsolve train configs/rank-testbed-rules.toml --out runs/rules-s0 --set data.arc.source=runs/rule-tasks

Real ARC tasks are too hard for a model trained for an hour on two CPU cores: on the 46 and 70 small
ARC-AGI-1 tasks (configs/arc1-cpu-6x6.toml, configs/arc1-cpu-8x8-poe.toml) the right answer is among
the candidates for at most three tasks, so no ranking can show a difference of more than one or two
tasks there. These tasks keep the shape of the problem (a few demonstration pairs, a held-out test
pair, a rule carried only by the task's embedding) with rules a tiny TRM half-learns in that hour,
so many test inputs get a near-miss and some a right answer among several candidates: the regime
where the choice of the two attempts matters.

Each task draws one rule and its parameters, then 3 demonstration pairs and 1 test pair of random
grids (3 to 6 cells a side, a few colours on black). The rules (outputs fit 6x6):
  flip/rotate   one of the 7 non-identity dihedral transforms
  recolour      swap two colours
  both          a dihedral transform, then a colour swap
  shift         roll by one cell (down, up, right or left), wrapping around
  tile          repeat the grid twice side by side or stacked (inputs at most 3 on that side)
Deterministic for a seed; task ids are rule0000, rule0001, ... (`--prefix`: a set of unseen tasks
needs other ids, since predict treats a task whose id the checkpoint knows as a trained one):

    python benchmarks/rule_tasks.py runs/rule-unseen --tasks 60 --seed 1 --prefix unseen
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import orjson

from arcsolve.io import atomic_write_bytes

SIDE_MIN, SIDE_MAX = 3, 6
RULES = ("dihedral", "recolour", "both", "shift", "tile")


def dihedral(grid: np.ndarray, k: int) -> np.ndarray:
    """Dihedral transform k in 0..7: k % 4 quarter turns, then a transpose when k >= 4."""
    out = np.rot90(grid, k % 4)
    return out.T if k >= 4 else out


def swap_colours(grid: np.ndarray, a: int, b: int) -> np.ndarray:
    out = grid.copy()
    out[grid == a], out[grid == b] = b, a
    return out


def random_grid(rng: np.random.Generator, colours: np.ndarray, max_h: int, max_w: int) -> np.ndarray:
    h, w = rng.integers(SIDE_MIN, max_h + 1), rng.integers(SIDE_MIN, max_w + 1)
    cells = rng.choice(colours, size=(h, w))
    return np.where(rng.random((h, w)) < 0.5, 0, cells).astype(np.uint8)


def draw_rule(rng: np.random.Generator, colours: np.ndarray) -> tuple[str, dict, int, int]:
    """(rule, its parameters, largest input height, largest input width)."""
    rule = RULES[rng.integers(len(RULES))]
    a, b = (int(c) for c in rng.choice(colours, size=2, replace=False))
    if rule == "dihedral":
        return rule, {"k": int(rng.integers(1, 8))}, SIDE_MAX, SIDE_MAX
    if rule == "recolour":
        return rule, {"a": a, "b": b}, SIDE_MAX, SIDE_MAX
    if rule == "both":
        return rule, {"k": int(rng.integers(1, 8)), "a": a, "b": b}, SIDE_MAX, SIDE_MAX
    if rule == "shift":
        return rule, {"axis": int(rng.integers(2)), "step": int(rng.choice([-1, 1]))}, SIDE_MAX, SIDE_MAX
    axis = int(rng.integers(2))  # tile: the doubled side's input is at most half the largest side
    half = SIDE_MAX // 2
    return rule, {"axis": axis}, (half if axis == 0 else SIDE_MAX), (half if axis == 1 else SIDE_MAX)


def apply_rule(rule: str, params: dict, grid: np.ndarray) -> np.ndarray:
    if rule == "dihedral":
        return dihedral(grid, params["k"])
    if rule == "recolour":
        return swap_colours(grid, params["a"], params["b"])
    if rule == "both":
        return swap_colours(dihedral(grid, params["k"]), params["a"], params["b"])
    if rule == "shift":
        return np.roll(grid, params["step"], axis=params["axis"])
    if rule == "tile":
        return np.concatenate([grid, grid], axis=params["axis"])
    raise ValueError(f"unknown rule {rule!r}")


def make_task(rng: np.random.Generator, n_train: int = 3) -> tuple[dict, str]:
    """One task as ARC JSON (test outputs included) and its rule's name."""
    colours = rng.choice(np.arange(1, 10), size=int(rng.integers(2, 5)), replace=False)
    rule, params, max_h, max_w = draw_rule(rng, colours)
    pairs = []
    for _ in range(n_train + 1):
        grid = random_grid(rng, colours, max_h, max_w)
        pairs.append({"input": grid.tolist(), "output": apply_rule(rule, params, grid).tolist()})
    return {"train": pairs[:n_train], "test": pairs[n_train:]}, rule


def write_tasks(out: Path, n_tasks: int, seed: int, prefix: str = "rule") -> dict[str, int]:
    """Write n_tasks task files into out (ids prefix0000, ...); return how many tasks each rule got."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    counts = dict.fromkeys(RULES, 0)
    for index in range(n_tasks):
        task, rule = make_task(rng)
        counts[rule] += 1
        atomic_write_bytes(out / f"{prefix}{index:04d}.json", orjson.dumps(task))
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path, help="folder to write the task files into")
    parser.add_argument("--tasks", type=int, default=240)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--prefix", default="rule", help="task ids are PREFIX0000, ... (unseen sets: another)"
    )
    args = parser.parse_args(argv)
    if args.tasks < 1:
        parser.error("--tasks must be >= 1")
    counts = write_tasks(args.out, args.tasks, args.seed, args.prefix)
    print(f"wrote {args.tasks} tasks to {args.out} ({', '.join(f'{k} {v}' for k, v in counts.items())})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
