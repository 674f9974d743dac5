"""One task, start to finish, as a worker runs it: the vocabulary for the task, the search, and a
plain record (program texts and answers) to send back. Nothing here imports torch."""

from __future__ import annotations

import time
from typing import Any

from arcsolve.search.engine import SearchLimits, search_task
from arcsolve.search.ops import TaskView
from arcsolve.search.vocabulary import task_fitters, task_ops

MAX_PROGRAMS_KEPT = 8


# arc1:training tasks whose vocabularies reach every numba kernel of the search (found by running
# each task's ops once and watching which kernels compiled; tests/test_search_run.py checks it).
WARM_UP_TASKS = ("780d0b14", "a1570a43")


def warm_up() -> None:
    """Run every op and fitter of a few tasks once, so numba's kernels are compiled (or loaded from
    its cache) before any task is timed: a compilation inside a timed task could outlast its time."""
    from arcsolve.data.tasks import load_tasks

    tasks = {t.task_id: t for t in load_tasks("arc1:training") if t.task_id in WARM_UP_TASKS}
    for task_id in WARM_UP_TASKS:
        view = TaskView.from_task(tasks[task_id])
        search_task(view, task_ops(view), task_fitters(), SearchLimits(depth=1, seconds=120))


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
            "faults": s.faults,  # train-pair invariants its answers break (plausible.py)
            "support": s.support,  # programs (distinct states) giving these answers
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
