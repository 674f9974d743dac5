"""One `arcsolve predict` per device on a share of the tasks; retries on the CPU; merging and counts.

Devices: every visible GPU gets a shard pinned with CUDA_VISIBLE_DEVICES, run in bfloat16 on compute
capability 8 or more (L4, A100, H100) and float16 below (T4, P100); with no GPU one shard runs on the
CPU in float32. A GPU shard that fails without answering any input (a driver or dtype problem at
start) is run again on the CPU for its tasks, while at least RETRY_MIN_SECONDS remain.

Counting is honest: an input counts as answered by the model only when its shard's
predict_summary.json says so and the shard's file holds a valid entry for it; every other input
holds a fallback and is counted under its reason.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import children
from .challenges import inputs_of
from .common import ATTEMPTS, is_grid, log, write_json_atomic
from .install import last_line

SHARDS_DIR = "arcsolve_shards"
RETRY_MIN_SECONDS = 30.0
MODEL = "model"
SEARCH = "search"  # predict --search: attempt 1 is a program's answer
PENDING = "pending"


@dataclass
class Shard:
    name: str
    task_ids: list[str]
    folder: Path
    device: str  # "cpu" or "cuda" (pinned to `gpu` through CUDA_VISIBLE_DEVICES)
    gpu: str | None = None
    capability: tuple[int, int] | None = None
    proc: object = field(default=None, repr=False)
    status: str = "not started"
    returncode: int | None = None
    seconds: float = 0.0
    started: float = field(default=0.0, repr=False)
    last_error: str | None = None
    retry_of: str | None = None

    @property
    def challenges(self) -> Path:
        return self.folder / "shard_challenges.json"

    @property
    def out(self) -> Path:
        return self.folder / "submission.json"

    @property
    def summary_file(self) -> Path:
        return self.folder / "predict_summary.json"

    @property
    def log_file(self) -> Path:
        return self.folder / "predict.log"

    def predict_summary(self) -> dict | None:
        try:
            data = json.loads(self.summary_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and isinstance(data.get("inputs"), dict) else None

    def answers(self) -> dict:
        try:
            data = json.loads(self.out.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def report(self) -> dict:
        keys = ("name", "device", "gpu", "status", "returncode", "last_error", "retry_of")
        return {k: getattr(self, k) for k in keys} | {
            "pid": getattr(self.proc, "pid", None),  # also its process group id
            "tasks": len(self.task_ids),
            "seconds": round(self.seconds, 1),
            "log": str(self.log_file),
        }


def parse_gpus(spec: str) -> list[tuple[str, tuple[int, int] | None]]:
    """`--gpus 0=7.5,1=8.0` (ids for CUDA_VISIBLE_DEVICES, compute capability optional)."""
    gpus = []
    for item in filter(None, (s.strip() for s in spec.split(","))):
        gpu, _, cap = item.partition("=")
        major, _, minor = cap.partition(".")
        if cap and not (major.isdigit() and (minor or "0").isdigit()):
            raise ValueError(f"--gpus: {item!r} is not ID or ID=MAJOR.MINOR")
        gpus.append((gpu, (int(major), int(minor or 0)) if cap else None))
    return gpus


def detect_gpus(timeout: float) -> list[tuple[str, tuple[int, int] | None]]:
    """(CUDA_VISIBLE_DEVICES id, compute capability) per visible GPU, asked in a child process so
    that run.py never holds a CUDA context."""
    code = (
        "import json, torch; n = torch.cuda.device_count() if torch.cuda.is_available() else 0; "
        "print(json.dumps([list(torch.cuda.get_device_capability(i)) for i in range(n)]))"
    )
    status, output = children.run([sys.executable, "-c", code], timeout)
    try:
        caps = json.loads(output.strip().splitlines()[-1]) if status == 0 else None
    except (ValueError, IndexError):
        caps = None
    if caps is None:
        log(
            f"could not count GPUs ({last_line(output) if status is not None else 'timed out'}); using the CPU"
        )
        return []
    visible = [v.strip() for v in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if v.strip()]
    ids = visible if len(visible) == len(caps) else [str(i) for i in range(len(caps))]
    return [(ids[i], (int(c[0]), int(c[1]))) for i, c in enumerate(caps)]


def split_tasks(challenges: dict, task_ids: list[str], n: int) -> list[list[str]]:
    """Balance test inputs over n shards (largest first onto the lightest); keep the task order."""
    load, members = [0] * n, [set() for _ in range(n)]
    for tid in sorted(task_ids, key=lambda t: -len(inputs_of(challenges[t]))):
        lightest = min(range(n), key=lambda s: (load[s], s))
        load[lightest] += len(inputs_of(challenges[tid]))
        members[lightest].add(tid)
    groups = [[tid for tid in task_ids if tid in group] for group in members if group]
    position = {tid: i for i, tid in enumerate(task_ids)}
    return sorted(groups, key=lambda group: position[group[0]])


def plan(challenges: dict, task_ids: list[str], gpus: list, limit: int | None, root: Path) -> list[Shard]:
    count = max(1, min(limit or len(gpus) or 1, len(gpus) or limit or 1, len(task_ids)))
    shutil.rmtree(root, ignore_errors=True)
    shards = []
    for i, ids in enumerate(split_tasks(challenges, task_ids, count) if task_ids else []):
        shard = Shard(str(i), ids, root / f"shard_{i}", "cuda" if gpus else "cpu")
        if gpus:
            shard.gpu, shard.capability = gpus[i]
        shards.append(prepare(shard, challenges))
    return shards


def prepare(shard: Shard, challenges: dict) -> Shard:
    shard.folder.mkdir(parents=True, exist_ok=True)
    write_json_atomic(shard.challenges, {tid: challenges[tid] for tid in shard.task_ids})
    return shard


def forward_dtype(shard: Shard) -> str:
    if shard.device == "cpu":
        return "float32"
    return "bfloat16" if (shard.capability or (7, 0)) >= (8, 0) else "float16"


def launch(
    shard: Shard, base: list[str], extra: list[str], flags: set[str], kill_at: float | None, threads: int
) -> None:
    cmd = base + ["--tasks", str(shard.challenges), "--out", str(shard.out), "--device", shard.device]
    if kill_at is not None and "--time-budget" in flags:
        cmd += ["--time-budget", f"{max(1.0, kill_at - time.monotonic() - 1.0):.0f}"]
    if "--skip-bad-tasks" in flags:
        cmd += ["--skip-bad-tasks"]
    if "--search" in extra and "--search" in flags:  # the search gets this shard's share of the cores
        cmd += ["--set", f"search_options.workers={threads}"]
    if "--forward-dtype" in flags:
        cmd += ["--forward-dtype", forward_dtype(shard)]
    cmd += extra  # the bundle's predict options, then the notebook's: later flags win
    env = {
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
        "NUMBA_NUM_THREADS": str(threads),
    }
    env.update(os.environ)
    if shard.gpu is not None:
        env["CUDA_VISIBLE_DEVICES"] = shard.gpu
    where = "the CPU" if shard.gpu is None else f"GPU {shard.gpu} ({forward_dtype(shard)})"
    log(f"shard {shard.name}: {len(shard.task_ids)} tasks on {where}: {' '.join(cmd)}")
    try:
        shard.proc = children.spawn(cmd, shard.log_file, env)
    except OSError as err:
        shard.status, shard.last_error = "could not start", str(err)
        return
    shard.started, shard.status = time.monotonic(), "running"


def finish(shard: Shard, code: int) -> None:
    children.RUNNING.pop(shard.proc.pid, None)
    shard.returncode, shard.seconds = code, time.monotonic() - shard.started
    shard.status = "ok" if code == 0 else f"failed (exit {code})"
    if code != 0:
        text = shard.log_file.read_text(errors="replace") if shard.log_file.exists() else ""
        shard.last_error = last_line(text)
    log(
        f"shard {shard.name}: {shard.status} after {shard.seconds:.1f}s"
        + (f": {shard.last_error}" if code else "")
    )
    if code != 0 and shard.log_file.exists():
        tail = shard.log_file.read_text(errors="replace").strip().splitlines()[-8:]
        print("\n".join("    " + line for line in tail), flush=True)


def answered_any(shard: Shard) -> bool:
    summary = shard.predict_summary()
    return bool(summary and summary.get("model_answered"))


def supervise(shards: list[Shard], relaunch, kill_at: float | None, grace: float) -> list[Shard]:
    """Wait for every shard; retry failed GPU shards on the CPU (`relaunch(shard)` returns the new
    one or None); at `kill_at` or on a stop request stop what runs. Returns every shard run."""
    everything = list(shards)
    running = [s for s in shards if s.status == "running"]
    while running:
        for shard in list(running):
            code = shard.proc.poll()
            if code is None:
                continue
            finish(shard, code)
            running.remove(shard)
            if (
                code != 0
                and shard.device == "cuda"
                and not answered_any(shard)
                and children.STOP.signum is None
            ):
                left = None if kill_at is None else kill_at - time.monotonic()
                if left is None or left >= RETRY_MIN_SECONDS:
                    retry = relaunch(shard)
                    if retry is not None:
                        everything.append(retry)
                        running += [retry] if retry.status == "running" else []
                else:
                    log(f"shard {shard.name}: {left:.0f}s left, too little to retry on the CPU")
        over = kill_at is not None and time.monotonic() >= kill_at
        if running and (over or children.STOP.signum is not None):
            why = "interrupted" if children.STOP.signum is not None else "timeout"
            log(
                f"stopping {len(running)} shard(s): {'stop requested' if why == 'interrupted' else 'time is up'}"
            )
            children.stop_groups([s.proc for s in running], grace)
            for shard in running:
                shard.returncode, shard.seconds = shard.proc.returncode, time.monotonic() - shard.started
                shard.status = why
            return everything
        time.sleep(0.2)
    return everything


def _shard_reason(shard: Shard, outcome: str | None) -> str:
    if outcome and outcome not in (PENDING, MODEL) and not outcome.startswith("stopped"):
        return outcome  # too big for the canvas, no valid prediction, out of time
    if shard.status == "timeout" or (outcome or "").startswith("stopped") and shard.status != "interrupted":
        return "out of time"
    if shard.status == "interrupted":
        return "interrupted"
    if shard.status.startswith("failed") or shard.status == "could not start":
        return "shard crashed"
    return "not answered by predict"


def merge(
    challenges: dict, shards: list[Shard], fallback: dict, reasons: dict[str, str]
) -> tuple[dict, dict]:
    """(submission, {task id: [outcome per input]}): per input the entry of the last shard whose
    summary says the model or the program search answered it, else the fallback with its reason. `reasons` holds the
    tasks that never reached a shard (malformed, out of time before launch, ...)."""
    by_task: dict[str, list[Shard]] = {}
    for shard in shards:
        for tid in shard.task_ids:
            by_task.setdefault(tid, []).append(shard)
    files = {}
    for shard in shards:
        summary = shard.predict_summary() or {}
        bad = {b.get("task") for b in summary.get("bad_tasks", []) if isinstance(b, dict)}
        files[id(shard)] = (shard.answers(), summary.get("inputs", {}), bad)
    merged, outcomes = {}, {}
    for tid in challenges:
        entries, why = [], []
        for i, entry in enumerate(fallback[tid]):
            chosen, reason = entry, reasons.get(tid, "not run")
            for shard in by_task.get(tid, []):  # later shards (CPU retries) override earlier ones
                answers, inputs, bad = files[id(shard)]
                row, got = inputs.get(tid), answers.get(tid)
                outcome = row[i] if isinstance(row, list) and i < len(row) else None
                mine = got[i] if isinstance(got, list) and len(got) == len(fallback[tid]) else None
                valid = isinstance(mine, dict) and all(is_grid(mine.get(k)) for k in ATTEMPTS)
                if outcome in (MODEL, SEARCH) and valid:
                    chosen, reason = {k: mine[k] for k in ATTEMPTS}, outcome
                elif reason not in (MODEL, SEARCH):
                    reason = "malformed task" if tid in bad else _shard_reason(shard, outcome)
                    if valid:  # predict's own fallback for it
                        chosen = {k: mine[k] for k in ATTEMPTS}
            entries.append(chosen)
            why.append(reason)
        merged[tid], outcomes[tid] = entries, why
    return merged, outcomes
