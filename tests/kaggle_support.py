"""Shared data and helpers of the Kaggle tests (tests/test_kaggle*.py).

The tasks are tiny (grids <= 4x4, inside the tiny config's 8x8 canvas), ids are not sorted, so a run
that sorts or drops anything shows. `FAKE_PREDICT` stands in for `arcsolve predict` where only
run.py's side is under test; its behaviour is picked with FAKE_MODE.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

CHALLENGES = {
    "c0ffee01": {
        "train": [
            {"input": [[1, 0], [0, 0]], "output": [[0, 1], [0, 0]]},
            {"input": [[0, 0], [2, 0]], "output": [[0, 0], [0, 2]]},
        ],
        "test": [{"input": [[3, 0], [0, 0]]}],
    },
    "a11ce002": {
        "train": [{"input": [[1, 2, 3]], "output": [[1], [2], [3]]}],
        "test": [{"input": [[4, 5, 6]]}, {"input": [[7, 8]]}],
    },
    "b0b00003": {
        "train": [
            {"input": [[5, 5], [5, 5]], "output": [[6, 6, 6], [6, 6, 6], [6, 6, 6]]},
            {"input": [[1]], "output": [[2, 2, 2], [2, 2, 2], [2, 2, 2]]},
        ],
        "test": [{"input": [[9, 9, 9, 9]]}],
    },
}
SOLUTIONS = {
    "c0ffee01": [[[0, 3], [0, 0]]],
    "a11ce002": [[[4], [5], [6]], [[7], [8]]],
    "b0b00003": [[[1, 1, 1], [1, 1, 1], [1, 1, 1]]],
}
# A task too big for the tiny canvas (12x12 > 8x8) and one whose test input is a string.
BIG = {"train": [{"input": [[1] * 12] * 12, "output": [[2] * 12] * 12}], "test": [{"input": [[3] * 12] * 12}]}
MALFORMED = {"train": [{"input": [[1]], "output": [[2]]}], "test": [{"input": "not a grid"}]}
TINY = [
    "model.hidden_size=32",
    "model.num_heads=2",
    "model.num_layers=1",
    "train.global_batch_size=4",
    "train.eval_every=0",
    "train.eval_max_examples=8",
    "data.arc.aug=4",
]

FAKE_PREDICT = """
import json, os, signal, sys, time
mode = os.environ.get("FAKE_MODE", "answer")
if "--help" in sys.argv:
    print("--tasks --out --tta --device --seed --time-budget --forward-dtype --batch-size --skip-bad-tasks --search")
    sys.exit(0)
args = sys.argv[1:]
tasks = json.load(open(args[args.index("--tasks") + 1]))
out = args[args.index("--out") + 1]
folder = os.path.dirname(out)
json.dump({"argv": args, "gpu": os.environ.get("CUDA_VISIBLE_DEVICES"), "pgid": os.getpgid(0)},
          open(os.path.join(folder, "record.json"), "w"))
if mode == "fail_on_cuda" and args[args.index("--device") + 1] == "cuda":
    sys.exit("RuntimeError: CUDA error: no kernel image is available for execution on the device")
if mode in ("hang", "hang_ignoring_sigterm"):
    if mode == "hang_ignoring_sigterm":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(600)
outcome = "too big for the canvas" if mode == "too_big" else "model"
answer = {"attempt_1": [[1]], "attempt_2": [[2]]}
json.dump({tid: [answer for _ in task["test"]] for tid, task in tasks.items()}, open(out, "w"))
inputs = {tid: [outcome] * len(task["test"]) for tid, task in tasks.items()}
n = sum(map(len, inputs.values()))
summary = {"final": True, "inputs": inputs, "model_answered": n if outcome == "model" else 0, "bad_tasks": []}
json.dump(summary, open(os.path.join(folder, "predict_summary.json"), "w"))
"""


def run_main(
    bundle, input_root: Path, working: Path, *extra: str, rerun: bool = True, monkeypatch=None
) -> int:
    """run.py's main in this process, without installing anything."""
    from arcsolve.kaggle.arcsolve_kaggle_runner import main as runner

    if rerun:
        monkeypatch.setenv("KAGGLE_IS_COMPETITION_RERUN", "1")
    else:
        monkeypatch.delenv("KAGGLE_IS_COMPETITION_RERUN", raising=False)
    argv = ["--bundle-dir", str(bundle.out), "--input-root", str(input_root), "--working-dir", str(working)]
    return runner.main(argv + ["--skip-install", *extra])


def summary_of(working: Path) -> dict:
    return json.loads((working / "run_summary.json").read_text())


def write_challenges(folder: Path, name: str = "arc-agi_test", challenges: dict | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}_challenges.json").write_text(json.dumps(challenges or CHALLENGES))
    if challenges is None:
        (folder / f"{name}_solutions.json").write_text(json.dumps(SOLUTIONS))
    return folder / f"{name}_challenges.json"


def fake_predict(folder: Path) -> str:
    """The --predict-command of the fake predict script."""
    script = folder / "fake_predict.py"
    script.write_text(FAKE_PREDICT)
    return f"{sys.executable} {script}"


def run_script(
    script: Path,
    working: Path,
    *args: str,
    env: dict[str, str] | None = None,
    python: str = sys.executable,
    rerun: bool = True,
    timeout: float = 300,
) -> subprocess.CompletedProcess:
    """run.py as the notebook runs it: from the working dir (so the checkout is not on sys.path)."""
    child_env = {**os.environ, **(env or {})}
    child_env.pop("KAGGLE_IS_COMPETITION_RERUN", None)
    if rerun:
        child_env["KAGGLE_IS_COMPETITION_RERUN"] = "1"
    return subprocess.run(
        [python, str(script), "--working-dir", str(working), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=working,
        env=child_env,
    )


def valid_for(submission_path: Path, challenges: dict) -> dict:
    """The submission, checked with arcsolve's own validator against the valid tasks and, for every
    task, one entry of two valid attempts per test input, in order."""
    from arcsolve.data.tasks import parse_task
    from arcsolve.submission import validate_submission

    submission = json.loads(submission_path.read_text())
    assert list(submission) == list(challenges)
    good = {tid: t for tid, t in challenges.items() if not tid.startswith("bad")}
    tasks = [parse_task(task, tid, "test") for tid, task in good.items()]
    assert validate_submission({tid: submission[tid] for tid in good}, tasks) == []
    for tid, task in challenges.items():
        assert len(submission[tid]) == (len(task["test"]) if isinstance(task["test"], list) else 1)
    return submission
