"""Child processes: each in its own process group, all of them stopped on a deadline or a signal.

Every child (pip, the GPU probe, `arcsolve predict`) starts in a new session, so a notebook
interrupt reaches only run.py; run.py then stops each child's whole group (SIGTERM, a grace period,
SIGKILL) and reaps it, so no process outlives run.py or keeps holding a GPU.

SIGINT and SIGTERM to run.py only set `STOP.signum`; the wait loops see it within 0.2 s.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path


class StopRequest:
    """The first SIGINT/SIGTERM run.py received (later ones are ignored: the file is being written)."""

    def __init__(self) -> None:
        self.signum: int | None = None

    @property
    def name(self) -> str | None:
        return None if self.signum is None else signal.Signals(self.signum).name

    def handler(self, signum: int, frame: object) -> None:
        if self.signum is None:
            self.signum = signum
            print(
                f"[run.py] {signal.Signals(signum).name} received: stopping every shard, then writing",
                flush=True,
            )

    def install(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self.handler)


STOP = StopRequest()
RUNNING: dict[int, subprocess.Popen] = {}  # pid (= process group id) -> child


def spawn(cmd: list[str], log_file: Path | None = None, env: dict | None = None) -> subprocess.Popen:
    """Start `cmd` in a new process group; output to `log_file` (else captured as text)."""
    if log_file is not None:
        with log_file.open("w") as handle:
            proc = subprocess.Popen(
                cmd, stdout=handle, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
    else:
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True
        )
    RUNNING[proc.pid] = proc
    return proc


def stop_group(proc: subprocess.Popen, grace: float) -> None:
    stop_groups([proc], grace)


def stop_groups(procs: list[subprocess.Popen], grace: float) -> None:
    """SIGTERM every group at once, SIGKILL what is left after `grace` seconds, reap them all."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        for proc in procs:
            try:
                os.killpg(proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        until = time.monotonic() + wait
        while time.monotonic() < until and any(_alive_group(proc) for proc in procs):
            for proc in procs:
                proc.poll()
            time.sleep(0.05)
        if not any(_alive_group(proc) for proc in procs):
            break
    for proc in procs:
        try:
            proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            pass
        RUNNING.pop(proc.pid, None)


def _alive_group(proc: subprocess.Popen) -> bool:
    proc.poll()  # reap the leader when it has exited, so a zombie does not count as alive
    try:
        os.killpg(proc.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_all(grace: float) -> None:
    stop_groups(list(RUNNING.values()), grace)


def run(
    cmd: list[str], timeout: float, env: dict | None = None, grace: float = 2.0
) -> tuple[int | None, str]:
    """Run `cmd` to the end (or `timeout` seconds, or a stop request); return (exit code or None
    when it was stopped, stdout + stderr)."""
    try:
        proc = spawn(cmd, env=env)
    except OSError as err:
        return 127, f"cannot start {cmd[0]}: {err}"
    until = time.monotonic() + max(0.1, timeout)
    out = err = ""
    while True:
        try:
            out, err = proc.communicate(timeout=0.2)
            RUNNING.pop(proc.pid, None)
            if _alive_group(proc):  # the leader is done; anything it left in its group goes too
                stop_group(proc, 0.5)
            return proc.returncode, (out or "") + (err or "")
        except subprocess.TimeoutExpired:
            if STOP.signum is not None or time.monotonic() >= until:
                stop_group(proc, grace)
                try:
                    out, err = proc.communicate(timeout=1.0)
                except (subprocess.TimeoutExpired, ValueError):
                    pass
                return None, (out or "") + (err or "")
