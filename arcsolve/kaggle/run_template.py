"""Run an arcsolve Kaggle bundle offline and write `/kaggle/working/submission.json`.

This file is copied verbatim into the bundle as `run.py`. At the top it imports only the standard
library, because arcsolve itself is installed by this script. In a notebook with internet off:

    !python /kaggle/input/<bundle>/run.py

1. find the challenges file under the input root: `*_test_challenges.json` when Kaggle re-runs the
   notebook for scoring (`KAGGLE_IS_COMPETITION_RERUN` set), else `*_evaluation_challenges.json`
   so the notebook can be tried interactively (and scored, when the solutions file is beside it);
2. write a complete fallback submission at once (plain json: attempt 1 = the test input, attempt 2 =
   a blank grid of the likely output shape), so a valid file exists whatever happens next;
3. `pip install --no-index --no-deps` the bundled wheel (the Kaggle image has arcsolve's
   dependencies: torch, numpy, numba, typer, orjson, scipy, rich);
4. split the tasks over the visible GPUs (CPU when none) and run one `python -m arcsolve predict`
   per shard, pinned with `CUDA_VISIBLE_DEVICES`;
5. merge the shards in the original task order, fill anything missing or invalid with the fallback,
   check the result and replace the submission atomically.

A time budget (seconds from this script's start) is handed to `arcsolve predict` when it accepts
`--time-budget`; a shard still running at the hard deadline is killed and keeps its fallbacks.

Settings come from, in order: command-line flag, environment variable (`ARCSOLVE_<FLAG>`, e.g.
`ARCSOLVE_TIME_BUDGET`), `bundle.json` beside this script, built-in default. `--help` lists them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ATTEMPTS = ("attempt_1", "attempt_2")
MAX_SIDE = 30
SHARDS_DIR = "arcsolve_shards"
STARTED = time.monotonic()


def log(message: str) -> None:
    print(f"[run.py {time.monotonic() - STARTED:8.1f}s] {message}", flush=True)


@dataclass
class Shard:
    index: int
    task_ids: list[str]
    folder: Path
    device: str  # "cpu", or "cuda" pinned to `gpu` through CUDA_VISIBLE_DEVICES
    gpu: str | None = None
    proc: subprocess.Popen | None = None
    status: str = "not started"
    returncode: int | None = None
    seconds: float = 0.0
    started: float = field(default=0.0, repr=False)

    @property
    def challenges(self) -> Path:
        return self.folder / "shard_challenges.json"

    @property
    def out(self) -> Path:
        return self.folder / "submission.json"

    @property
    def log_file(self) -> Path:
        return self.folder / "predict.log"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    env = os.environ.get
    here = Path(__file__).resolve().parent
    p = argparse.ArgumentParser(description="Run an arcsolve bundle and write a Kaggle submission.")
    p.add_argument("--bundle-dir", type=Path, default=Path(env("ARCSOLVE_BUNDLE_DIR", here)))
    p.add_argument("--input-root", type=Path, default=Path(env("ARCSOLVE_INPUT_ROOT", "/kaggle/input")))
    p.add_argument("--working-dir", type=Path, default=Path(env("ARCSOLVE_WORKING_DIR", "/kaggle/working")))
    p.add_argument("--challenges", type=Path, default=env("ARCSOLVE_CHALLENGES"), help="skip the search")
    p.add_argument(
        "--out", type=Path, default=env("ARCSOLVE_OUT"), help="default WORKING_DIR/submission.json"
    )
    p.add_argument("--checkpoint", type=Path, default=env("ARCSOLVE_CHECKPOINT"), help="default the bundle's")
    p.add_argument("--wheel", type=Path, default=env("ARCSOLVE_WHEEL"), help="default the bundle's")
    p.add_argument("--tta", type=int, default=env("ARCSOLVE_TTA"), help="default bundle.json's")
    p.add_argument("--time-budget", type=float, default=env("ARCSOLVE_TIME_BUDGET"), help="seconds; 0 = none")
    p.add_argument("--seed", type=int, default=int(env("ARCSOLVE_SEED", "0")))
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default=env("ARCSOLVE_DEVICE", "auto"))
    p.add_argument("--shards", type=int, default=env("ARCSOLVE_SHARDS"), help="default one per GPU, 1 on CPU")
    p.add_argument("--skip-install", action="store_true", default=env("ARCSOLVE_SKIP_INSTALL", "") == "1")
    p.add_argument(
        "--predict-command",
        default=env("ARCSOLVE_PREDICT_COMMAND", f"{shlex.quote(sys.executable)} -m arcsolve predict"),
    )
    p.add_argument(
        "--predict-arg",
        action="append",
        default=[],
        help="extra predict flag, e.g. --predict-arg=--batch-size --predict-arg=128",
    )
    args = p.parse_args(argv)
    manifest = load_manifest(args.bundle_dir)
    args.manifest = manifest
    args.tta = int(args.tta if args.tta is not None else manifest.get("tta", 8))
    args.time_budget = float(
        args.time_budget if args.time_budget is not None else manifest.get("time_budget", 0)
    )
    args.checkpoint = args.checkpoint or args.bundle_dir / manifest.get("checkpoint", "model.pt")
    args.out = args.out or args.working_dir / "submission.json"
    args.predict_args = [str(a) for a in manifest.get("predict_args", [])] + args.predict_arg
    return args


def load_manifest(bundle_dir: Path) -> dict:
    path = bundle_dir / "bundle.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        log(f"no usable {path} ({err}); using flags and defaults only")
        return {}


def find_challenges(input_root: Path, rerun: bool) -> Path:
    patterns = (
        ["*_test_challenges.json"] if rerun else ["*_evaluation_challenges.json", "*_test_challenges.json"]
    )
    for pattern in patterns:
        found = sorted(p for p in input_root.rglob(pattern) if p.is_file())
        if found:
            if len(found) > 1:
                log(f"several {pattern} files: {', '.join(map(str, found))}; using the first")
            return found[0]
    raise FileNotFoundError(f"no {' or '.join(patterns)} under {input_root}")


def is_grid(value: object) -> bool:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_SIDE:
        return False
    width = len(value[0]) if isinstance(value[0], list) else 0
    if not 1 <= width <= MAX_SIDE:
        return False
    return all(
        isinstance(row, list)
        and len(row) == width
        and all(type(cell) is int and 0 <= cell <= 9 for cell in row)
        for row in value
    )


def inputs_of(task: object) -> list:
    tests = task.get("test") if isinstance(task, dict) else None
    if not isinstance(tests, list):
        return []
    return [t.get("input") if isinstance(t, dict) else None for t in tests]


def fallback_entry(task: dict, grid: object) -> dict:
    """attempt_1: the test input; attempt_2: zeros in the shape every training output shares, else
    in the input's shape. Both are always valid grids, so the entry never fails validation."""
    grid = grid if is_grid(grid) else [[0]]
    shape = (len(grid), len(grid[0]))
    train = task.get("train") if isinstance(task.get("train"), list) else []
    outputs = [pair.get("output") if isinstance(pair, dict) else None for pair in train]
    shapes = {(len(g), len(g[0])) for g in outputs if is_grid(g)}
    if outputs and len(shapes) == 1 and all(is_grid(g) for g in outputs):
        shape = shapes.pop()
    blank = [[0] * shape[1] for _ in range(shape[0])]
    return {ATTEMPTS[0]: [list(row) for row in grid], ATTEMPTS[1]: blank}


def fallback_submission(challenges: dict) -> dict:
    return {tid: [fallback_entry(task, g) for g in inputs_of(task)] for tid, task in challenges.items()}


def check_submission(submission: dict, challenges: dict) -> list[str]:
    """Every task in order, one entry per test input, two valid attempts each."""
    problems = []
    if list(submission) != list(challenges):
        problems.append("tasks missing, extra or out of order")
    for tid, task in challenges.items():
        entries = submission.get(tid)
        if not isinstance(entries, list) or len(entries) != len(inputs_of(task)):
            problems.append(f"task {tid}: wrong number of test entries")
            continue
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or not all(is_grid(entry.get(key)) for key in ATTEMPTS):
                problems.append(f"task {tid} test {i}: missing or invalid attempts")
    return problems


def write_json_atomic(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(obj, handle, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def install_wheel(args: argparse.Namespace) -> bool:
    wheel = args.wheel
    if wheel is None:
        named = args.manifest.get("wheel")
        found = [args.bundle_dir / named] if named else sorted(args.bundle_dir.glob("arcsolve-*.whl"))
        wheel = found[-1] if found else None
    if wheel is None or not Path(wheel).is_file():
        log(f"no arcsolve wheel found in {args.bundle_dir}")
        return False
    cmd = [sys.executable, "-m", "pip", "install", "--no-index", "--no-deps", "--force-reinstall", str(wheel)]
    log("installing: " + " ".join(cmd))
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        log(f"pip install failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")
    return done.returncode == 0


def detect_gpus(timeout: float) -> list[tuple[str, tuple[int, int]]]:
    """(CUDA_VISIBLE_DEVICES value, compute capability) per visible GPU, asked in a child process
    so this one never holds a CUDA context."""
    code = (
        "import json, torch; n = torch.cuda.device_count() if torch.cuda.is_available() else 0; "
        "print(json.dumps([list(torch.cuda.get_device_capability(i)) for i in range(n)]))"
    )
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
        caps = json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else []
    except (subprocess.TimeoutExpired, ValueError, IndexError) as err:
        log(f"could not count GPUs ({type(err).__name__}); using the CPU")
        return []
    visible = [v.strip() for v in os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",") if v.strip()]
    ids = visible if len(visible) == len(caps) else [str(i) for i in range(len(caps))]
    return [(ids[i], (int(c[0]), int(c[1]))) for i, c in enumerate(caps)]


def predict_flags(command: list[str], timeout: float) -> set[str]:
    """The long flags `arcsolve predict --help` lists, so optional ones are passed only if known."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    try:
        done = subprocess.run(command + ["--help"], capture_output=True, text=True, timeout=timeout, env=env)
    except (subprocess.TimeoutExpired, OSError):
        return set()
    return set(re.findall(r"--[a-z][a-z0-9-]*", done.stdout)) if done.returncode == 0 else set()


def split_tasks(challenges: dict, n: int) -> list[list[str]]:
    """Balance test inputs (each costs the same number of views) over n shards: largest first onto
    the lightest shard. Each shard keeps the original relative order."""
    load, members = [0] * n, [set() for _ in range(n)]
    by_cost = sorted(challenges, key=lambda tid: -max(1, len(inputs_of(challenges[tid]))))
    for tid in by_cost:
        lightest = min(range(n), key=lambda s: (load[s], s))
        load[lightest] += max(1, len(inputs_of(challenges[tid])))
        members[lightest].add(tid)
    position = {tid: i for i, tid in enumerate(challenges)}
    groups = [[tid for tid in challenges if tid in group] for group in members if group]
    return sorted(groups, key=lambda group: position[group[0]])


def plan_shards(args: argparse.Namespace, challenges: dict, deadline: float | None) -> list[Shard]:
    gpus = [] if args.device == "cpu" else detect_gpus(timeout=_within(deadline, 180))
    if args.device == "cuda" and not gpus:
        log("--device cuda but no GPU is visible; running on the CPU")
    limit = args.shards or (len(gpus) if gpus else 1)
    count = max(1, min(limit, len(gpus) if gpus else limit, len(challenges)))
    root = args.working_dir / SHARDS_DIR
    shutil.rmtree(root, ignore_errors=True)
    shards = []
    for i, task_ids in enumerate(split_tasks(challenges, count)):
        shard = Shard(i, task_ids, root / f"shard_{i}", "cuda" if gpus else "cpu")
        shard.gpu = gpus[i][0] if gpus else None
        shard.folder.mkdir(parents=True)
        write_json_atomic(shard.challenges, {tid: challenges[tid] for tid in task_ids})
        shards.append(shard)
    args.gpu_caps = {gpu: cap for gpu, cap in gpus}
    return shards


def _within(deadline: float | None, seconds: float) -> float:
    return seconds if deadline is None else max(1.0, min(seconds, deadline - time.monotonic()))


def launch(args: argparse.Namespace, shards: list[Shard], flags: set[str], deadline: float | None) -> None:
    command = shlex.split(args.predict_command)
    threads = str(max(1, (os.cpu_count() or 1) // len(shards)))
    for shard in shards:
        cmd = command + [str(args.checkpoint), "--tasks", str(shard.challenges), "--out", str(shard.out)]
        cmd += ["--tta", str(args.tta), "--device", shard.device, "--seed", str(args.seed)]
        if deadline is not None and "--time-budget" in flags:
            # Leave predict time to write its votes before the hard deadline kills it.
            left = deadline - time.monotonic()
            cmd += ["--time-budget", f"{max(1.0, left - min(300.0, 0.1 * left)):.0f}"]
        # Shards share the CPU cores (decoding and voting run there even on a GPU).
        env = {"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "NUMBA_NUM_THREADS": threads}
        env.update(os.environ)
        if shard.gpu is not None:
            env["CUDA_VISIBLE_DEVICES"] = shard.gpu
            cap = args.gpu_caps.get(shard.gpu, (8, 0))
            if cap < (8, 0) and "--forward-dtype" in flags:
                cmd += ["--forward-dtype", "float16"]
            elif cap < (8, 0):
                log(
                    f"GPU {shard.gpu} (sm_{cap[0]}{cap[1]}) lacks bfloat16 and predict has no --forward-dtype"
                )
        cmd += args.predict_args
        where = shard.device if shard.gpu is None else f"GPU {shard.gpu}"
        log(f"shard {shard.index}: {len(shard.task_ids)} tasks on {where}: {shlex.join(cmd)}")
        with shard.log_file.open("w") as handle:
            try:
                shard.proc = subprocess.Popen(
                    cmd, stdout=handle, stderr=subprocess.STDOUT, env=env, start_new_session=True
                )
            except OSError as err:
                shard.status = f"could not start: {err}"
                continue
        shard.started = time.monotonic()
        shard.status = "running"


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM the shard's process group, then SIGKILL it if it has not gone within 10 s."""
    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 30.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=grace)
            break
        except subprocess.TimeoutExpired:
            continue


def wait_for(shards: list[Shard], deadline: float | None) -> None:
    running = [s for s in shards if s.proc is not None]
    while running:
        for shard in list(running):
            code = shard.proc.poll()
            if code is not None:
                shard.returncode, shard.seconds = code, time.monotonic() - shard.started
                shard.status = "ok" if code == 0 else f"failed (exit {code})"
                log(f"shard {shard.index}: {shard.status} after {shard.seconds:.1f}s")
                if code != 0:
                    tail = shard.log_file.read_text(errors="replace").strip().splitlines()[-10:]
                    print("\n".join("    " + line for line in tail), flush=True)
                running.remove(shard)
        if running and deadline is not None and time.monotonic() >= deadline:
            for shard in running:
                log(f"shard {shard.index}: over the time budget; stopping it")
                stop(shard.proc)
                shard.returncode, shard.seconds = shard.proc.returncode, time.monotonic() - shard.started
                shard.status = "timeout"
            return
        time.sleep(0.2)


def merge(challenges: dict, shards: list[Shard], fallback: dict) -> tuple[dict, int]:
    """Shard answers in the original task order; any missing or invalid entry takes the fallback.

    A shard's file is used whatever its exit status: predict only ever writes complete files
    atomically (its fallbacks first, then its votes), so a killed shard left a valid file or none.
    """
    answers: dict = {}
    for shard in shards:
        try:
            answers.update(json.loads(shard.out.read_text(encoding="utf-8")))
        except (OSError, ValueError) as err:
            log(f"shard {shard.index}: no usable submission ({type(err).__name__}); fallbacks for its tasks")
    merged, filled = {}, 0
    for tid in challenges:
        got = answers.get(tid)
        entries = []
        for i, entry in enumerate(fallback[tid]):
            mine = got[i] if isinstance(got, list) and len(got) == len(fallback[tid]) else None
            if isinstance(mine, dict) and all(is_grid(mine.get(key)) for key in ATTEMPTS):
                entries.append({key: mine[key] for key in ATTEMPTS})
            else:
                entries.append(entry)
                filled += 1
        merged[tid] = entries
    return merged, filled


def score(submission: dict, solutions_file: Path) -> str | None:
    try:
        solutions = json.loads(solutions_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    per_task = []
    for tid, entries in submission.items():
        truths = solutions.get(tid) or []
        hits = [any(e[k] == truth for k in ATTEMPTS) for e, truth in zip(entries, truths, strict=False)]
        per_task.append(sum(hits) / len(truths) if truths else 0.0)
    return f"{sum(per_task) / max(1, len(per_task)):.4f} (mean over {len(per_task)} tasks)"


def main(argv: list[str] | None = None) -> int:
    global STARTED
    STARTED = time.monotonic()
    args = parse_args(argv)
    deadline = None
    if args.time_budget > 0:
        deadline = STARTED + args.time_budget - min(60.0, 0.05 * args.time_budget)  # time to merge
    rerun = bool(os.environ.get("KAGGLE_IS_COMPETITION_RERUN"))
    try:
        source = args.challenges or find_challenges(args.input_root, rerun)
        challenges = json.loads(Path(source).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        log(f"cannot read the challenges: {err}")
        return 1
    if not isinstance(challenges, dict):
        log(f"{source}: expected an object of tasks, got {type(challenges).__name__}")
        return 1
    fallback = fallback_submission(challenges)
    write_json_atomic(args.out, fallback)
    n_inputs = sum(len(entries) for entries in fallback.values())
    log(f"{source}: {len(challenges)} tasks, {n_inputs} test inputs; fallback written to {args.out}")
    if not challenges:
        return 0
    if not args.skip_install:
        install_wheel(args)
    flags = predict_flags(shlex.split(args.predict_command), _within(deadline, 300))
    shards = plan_shards(args, challenges, deadline)
    launch(args, shards, flags, deadline)
    wait_for(shards, deadline)
    merged, filled = merge(challenges, shards, fallback)
    problems = check_submission(merged, challenges)
    if problems:  # cannot happen by construction; never hand Kaggle a bad file regardless
        log(f"merged submission failed its check ({problems[0]}); keeping the fallback")
        merged, filled = fallback, n_inputs
    write_json_atomic(args.out, merged)
    log(f"{args.out}: {len(merged)} tasks, {n_inputs - filled}/{n_inputs} test inputs answered by the model")
    summary = {
        "challenges": str(source),
        "out": str(args.out),
        "tasks": len(challenges),
        "test_inputs": n_inputs,
        "fallback_inputs": filled,
        "tta": args.tta,
        "time_budget": args.time_budget,
        "seconds": round(time.monotonic() - STARTED, 1),
        "shards": [
            {k: getattr(s, k) for k in ("index", "device", "gpu", "status", "returncode")}
            | {"tasks": len(s.task_ids), "seconds": round(s.seconds, 1), "log": str(s.log_file)}
            for s in shards
        ],
    }
    write_json_atomic(args.working_dir / "run_summary.json", summary)
    name = Path(source).name.replace("_challenges.json", "_solutions.json")
    result = score(merged, Path(source).with_name(name)) if name != Path(source).name else None
    if result is not None:
        log(f"score against {name}: {result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
