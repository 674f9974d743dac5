"""Run Python code in a child process and measure its own wall time and peak RSS.

The peak is the child's VmHWM (its memory map's high-water mark), read by an atexit hook as it
exits. The rusage of the child (`wait4`, `RUSAGE_CHILDREN`) would not do: Linux carries the peak of
the parent into a child it forks, so a benchmark run from a big parent process (run.py, after the
training benchmark) would report the parent's peak instead of the child's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PEAK_HOOK = """
import atexit as _atexit, os as _os

def _write_peak():
    with open("/proc/self/status") as status, open(_os.environ["BENCH_PEAK_FILE"], "w") as out:
        out.write(next(line.split()[1] for line in status if line.startswith("VmHWM:")))

_atexit.register(_write_peak)
"""


def run_child(code: str, args: list[str], env: dict[str, str] | None = None) -> tuple[str, float, float]:
    """Run `python -c code args...`; return its stdout, wall seconds and peak RSS in MiB."""
    with tempfile.TemporaryDirectory(prefix="bench-child-") as tmp:
        peak_file = Path(tmp) / "peak"
        child_env = {**(env or os.environ), "BENCH_PEAK_FILE": str(peak_file)}
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", PEAK_HOOK + code, *args], capture_output=True, text=True, env=child_env
        )
        wall = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"child {args[:3]} failed ({done.returncode}): {done.stderr[-2000:]}")
        return done.stdout, wall, int(peak_file.read_text()) / 1024  # VmHWM is in kB
