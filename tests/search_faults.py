"""Solve functions that misbehave on purpose, for the worker-pool tests (importable by spawned workers)."""

from __future__ import annotations

import os
import signal
import time

import numpy as np

from arcsolve.search.solve import solve_view


def misbehaving_solve(view, limits):
    """Raise, die, hang or eat memory when the task id says so; otherwise search normally."""
    if view.task_id == "raises":
        raise RuntimeError("planted crash")
    if view.task_id == "killed":
        os.kill(os.getpid(), signal.SIGKILL)  # as the OS's out-of-memory killer would
    if view.task_id == "hangs":
        time.sleep(60)
    if view.task_id == "eats_memory":
        np.ones(2**34, dtype=np.uint8)  # 16 GiB: over the worker's address-space limit
    return solve_view(view, limits)
