"""One task, start to finish, as a worker runs it: the vocabulary for the task, the search, and a
plain record (program texts and answers) to send back. Nothing here imports torch."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from arcsolve.search.engine import SearchLimits, search_task
from arcsolve.search.ops import TaskView
from arcsolve.search.vocabulary import task_fitters, task_ops

MAX_PROGRAMS_KEPT = 8


def warm_up() -> None:
    """Run every op and fitter once on a small made-up task, so numba's kernels are compiled (or
    loaded from its cache) before any task is timed."""
    grid = np.arange(12, dtype=np.uint8).reshape(3, 4) % 3
    view = TaskView("warm-up", (grid, grid.T.copy()), (grid[:, ::-1].copy(), grid.T[::-1].copy()), (grid,))
    search_task(view, task_ops(view), task_fitters(), SearchLimits(depth=1, seconds=60))


def solve_view(view: TaskView, limits: SearchLimits) -> dict[str, Any]:
    """The search's record for one task: `programs` (best first: text, depth, cost, families, and
    the answer per test input), `states`, `depth_done`, `stopped_by`, `op_errors`, `seconds`."""
    started = time.perf_counter()
    ops = task_ops(view)
    outcome = search_task(view, ops, task_fitters(), limits)
    programs = [
        {
            "text": s.program.text(),
            "depth": s.program.depth,
            "cost": s.program.cost,
            "families": list(s.program.families),
            "train_fit": 1.0,  # a program is kept only when it reproduces every train pair
            "test_outputs": [g.tolist() for g in s.test_outputs],
        }
        for s in outcome.solutions[:MAX_PROGRAMS_KEPT]
    ]
    return {
        "status": "solved" if programs else "unsolved",
        "programs": programs,
        "ops": len(ops),
        "states": outcome.states,
        "depth_done": outcome.depth_done,
        "stopped_by": outcome.stopped_by,
        "op_errors": outcome.op_errors,
        "seconds": round(time.perf_counter() - started, 4),
    }
