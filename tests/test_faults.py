"""Faults: `kill -9` in the middle of a dataset build, of training or of predict; NaN losses, foreign checkpoints.

Kills are real SIGKILLs of `python -m arcsolve` subprocesses, at random moments and at chosen ones:
mid-way through writing a checkpoint file (the file is cut in half, then the process dies) and
between a complete checkpoint file and the move of `latest.pt` to it. The contract: a reader never
takes a half-written output for a finished one, `--resume` continues from the last complete
checkpoint, and a run killed and resumed any number of times ends bit-for-bit where a straight run
ends. Numerical guards and checkpoint refusal go through the CLI in-process (`CliRunner`).
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import zlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
import torch
from typer.testing import CliRunner

from arcsolve.cli import app
from arcsolve.data.arc_builder import ArcBuildConfig, build_arc_dataset
from arcsolve.data.dataset import TokenDataset
from arcsolve.data.tasks import load_tasks
from arcsolve.errors import BadInputError
from arcsolve.io import remove_stale_temp_files
from arcsolve.submission import fallback_submission, submission_bytes, validate_submission
from arcsolve.train.checkpoint import checkpoint_dir, latest_checkpoint, list_checkpoints, load_checkpoint
from arcsolve.train.config import load_run_config
from arcsolve.train.loop import run_train
from arcsolve.train.metrics import read_metrics
from arcsolve.train.state import TrainState

pytestmark = pytest.mark.slow  # every test here kills real processes or trains

TIMEOUT = 180  # seconds for any one subprocess or wait; reaching it fails the test instead of hanging
STEPS = 40  # target step count of the killed-and-resumed run
runner = CliRunner()

# Runs `arcsolve` with a hook that SIGKILLs the process at an exact point of its N-th checkpoint save:
#   mid-write N    the N-th checkpoint's temporary file is cut to half its size, then the process dies
#                  (what a kill during the write leaves behind);
#   before-link N  the N-th checkpoint file is complete, and the process dies just before
#                  `latest.pt` is moved to it.
KILLER = r"""
import os, signal, sys
from pathlib import Path

mode, at = sys.argv[1], int(sys.argv[2])
del sys.argv[1:3]
seen = 0

def die_at_nth(condition):
    global seen
    if condition:
        seen += 1
        return seen == at
    return False

if mode == "mid-write":
    real_fsync = os.fsync
    def fsync(fd):
        if die_at_nth(Path(os.readlink(f"/proc/self/fd/{fd}")).name.startswith(".step_")):
            os.ftruncate(fd, os.fstat(fd).st_size // 2)
            os.kill(os.getpid(), signal.SIGKILL)
        real_fsync(fd)
    os.fsync = fsync
elif mode == "before-link":
    real_replace = os.replace
    def replace(src, dst, *args, **kwargs):
        if die_at_nth(Path(dst).name == "latest.pt"):
            os.kill(os.getpid(), signal.SIGKILL)
        return real_replace(src, dst, *args, **kwargs)
    os.replace = replace
else:
    raise SystemExit(f"unknown mode {mode}")

from arcsolve.cli import main
main()
"""


def arcsolve(*args: Any) -> list[str]:
    return [sys.executable, "-m", "arcsolve", *map(str, args)]


def killed_at(mode: str, nth: int, *args: Any) -> list[str]:
    return [sys.executable, "-c", KILLER, mode, str(nth), *map(str, args)]


def popen(cmd: list[str]) -> subprocess.Popen:
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen) -> tuple[int, str]:
    _, stderr = proc.communicate(timeout=TIMEOUT)
    return proc.returncode, stderr


def wait_until(condition: Callable[[], bool], proc: subprocess.Popen) -> bool:
    """Poll until `condition` holds (True) or the process has exited (False)."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if condition():
            return True
        if proc.poll() is not None:
            return condition()
        time.sleep(0.005)
    raise AssertionError("timed out waiting for the process")


def kill9(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGKILL)
    return finish(proc)[0]


@pytest.fixture
def rng(request) -> random.Random:
    """Kill moments from a seed fixed per test (the crc32 of its id), so a failure replays exactly."""
    seed = zlib.crc32(request.node.nodeid.encode())
    print(f"kill moments drawn with random.Random({seed})")  # shown when a test fails
    return random.Random(seed)


# Kill -9 during `arcsolve data build arc`.

BUILD = ["data", "build", "arc", "--source", "arc1:training", "--max-grid", "8", "--canvas", "8"]


def check_after_kill(out: Path) -> bool:
    """`out` is either no dataset at all or a complete one; a leftover `out.tmp` is never one.
    Returns whether a finished dataset is there."""
    tmp = out.with_name(out.name + ".tmp")
    if tmp.exists():
        with pytest.raises(BadInputError, match="unfinished build"):
            TokenDataset.open(tmp)
    if not out.exists():
        with pytest.raises(BadInputError, match="no such dataset directory"):
            TokenDataset.open(out)
        return False
    TokenDataset.open(out).verify()
    return True


def test_kill_during_data_build(tmp_path, rng):
    """Three builds of ~20 MB killed at different moments, then rebuilt: the rebuilds are identical."""
    outs = [tmp_path / f"ds{i}" for i in range(3)]
    # Build 1 writes token rows (--materialize) so that it can be killed mid-way through a big file.
    extra = [[], ["--materialize"], []]
    procs = [
        popen(arcsolve(*BUILD, *more, "--aug", 400, "--out", out))
        for out, more in zip(outs, extra, strict=True)
    ]
    tmps = [out.with_name(out.name + ".tmp") for out in outs]
    inputs = tmps[1] / "train" / "inputs.npy"
    moments = {  # when each build is killed
        0: (lambda: tmps[0].exists(), 0.0),  # as soon as its folder appears
        1: (lambda: inputs.exists() and inputs.stat().st_size > 2**20, 0.0),  # mid-way through a file
        2: (lambda: tmps[2].exists(), rng.uniform(0.0, 1.5)),  # anywhere, maybe after the end
    }
    met: dict[int, float] = {}  # when each condition first held
    pending = set(moments)
    deadline = time.monotonic() + TIMEOUT
    while pending and time.monotonic() < deadline:
        for i in sorted(pending):
            condition, delay = moments[i]
            if procs[i].poll() is not None:
                pending.discard(i)
            elif i in met or condition():
                if time.monotonic() - met.setdefault(i, time.monotonic()) >= delay:
                    procs[i].send_signal(signal.SIGKILL)
                    pending.discard(i)
        time.sleep(0.005)
    assert not pending, "timed out"
    codes = [finish(proc)[0] for proc in procs]
    finished = [check_after_kill(out) for out in outs]
    assert codes[0] == codes[1] == -signal.SIGKILL and not finished[0] and not finished[1], codes
    # A kill after the final rename but before the process exits leaves a finished dataset too.
    assert codes[2] in (0, -signal.SIGKILL) and (finished[2] or codes[2] != 0), codes

    reruns = [
        popen(arcsolve(*BUILD, *more, "--aug", 400, "--out", out, "--overwrite"))
        for out, more in zip(outs, extra, strict=True)
    ]
    for proc in reruns:
        code, stderr = finish(proc)
        assert code == 0, stderr
    for out, tmp in zip(outs, tmps, strict=True):
        assert check_after_kill(out) and not tmp.exists()
    recipe, rows, again = (TokenDataset.open(out) for out in outs)
    assert recipe.fingerprint == again.fingerprint  # the rebuilt recipes are the same build
    n = len(rows.split("train").inputs)  # and the materialized one holds the rows they encode
    assert np.array_equal(
        recipe.split("train").inputs[np.arange(n)], rows.split("train").inputs[np.arange(n)]
    )


# Kill -9 during `arcsolve train`.


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """70 small ARC tasks (grids up to 8x8) with two augmented versions each: 795 train examples."""
    out = tmp_path_factory.mktemp("data") / "ds"
    cfg = ArcBuildConfig(source="arc1:training", max_grid=8, canvas=8, aug=2)
    build_arc_dataset(cfg, out, progress=False)
    return out


def write_config(folder: Path, dataset: Path, **train: Any) -> Path:
    settings = {
        "global_batch_size": 8,
        "max_steps": STEPS,
        "lr": 1e-3,
        "lr_warmup_steps": 5,
        "ema_rate": 0.9,
        "eval_every": 0,
        "eval_max_examples": 16,
        "checkpoint_every": 1,
        "keep_checkpoints": 2,
        "log_every": 1,
        "device": "cpu",
        "cpu_threads": 1,
        **train,
    }
    lines = [
        f'[data]\npath = "{dataset}"\n',
        "[model]\nhidden_size = 32\nnum_heads = 2\nexpansion = 2.0\nnum_layers = 1\nH_cycles = 1",
        "L_cycles = 1\nhalt_max_steps = 2\npuzzle_emb_len = 1\n",
        "[train]",
        *(f"{k} = {orjson.dumps(v).decode()}" for k, v in settings.items()),
    ]
    path = folder / "tiny.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def latest_step(run: Path) -> int:
    """The step of the run's latest checkpoint, after checking it loads and really is the newest
    complete one that `latest.pt` names (never a temporary file)."""
    link = checkpoint_dir(run) / "latest.pt"
    assert link.is_symlink() and not os.readlink(link).startswith(".")
    payload = load_checkpoint(run)
    assert latest_checkpoint(run) == link.resolve()
    return int(payload["step"])


def check_metrics(run: Path, steps: int) -> None:
    """Every train step logged exactly once, one header line, the final evaluation once; no torn line."""
    raw = (run / "metrics.jsonl").read_bytes().splitlines()
    records = [orjson.loads(line) for line in raw]  # raises on a torn line
    assert records == read_metrics(run / "metrics.jsonl")
    assert [r["step"] for r in records if "train/lm_loss" in r] == list(range(1, steps + 1))
    assert [r["step"] for r in records if "params" in r] == [0]
    assert [r["step"] for r in records if "eval/lm_loss" in r] == [steps]


def test_kill_during_training_then_resume_matches_a_straight_run(tmp_path, dataset, rng):
    config = write_config(tmp_path, dataset)
    run = tmp_path / "run"
    latest = checkpoint_dir(run) / "latest.pt"

    # 1. A random moment once the first checkpoint exists (between steps, or inside a save).
    proc = popen(arcsolve("train", config, "--out", run))
    assert wait_until(latest.exists, proc), finish(proc)[1]
    time.sleep(rng.uniform(0.0, 0.3))
    assert kill9(proc) == -signal.SIGKILL, "the run ended before it was killed"
    first = latest_step(run)
    assert 1 <= first < STEPS - 6, first
    assert read_metrics(run / "metrics.jsonl")  # readers take what is there, torn last line or not
    with open(run / "metrics.jsonl", "ab") as handle:
        handle.write(b'{"step": 999, "train/lm_lo')  # as if killed mid-line, for the resume to drop

    # 2. Mid-write of the second checkpoint this process saves: its temporary file is cut in half.
    code, stderr = finish(popen(killed_at("mid-write", 2, "train", config, "--out", run, "--resume")))
    assert code == -signal.SIGKILL, stderr
    assert latest_step(run) == first + 1
    half = list(checkpoint_dir(run).glob(".step_*.tmp"))
    assert len(half) == 1 and half[0].stat().st_size < latest.stat().st_size / 1.5

    # 3. After the second checkpoint file is complete, before latest.pt moves to it.
    code, stderr = finish(popen(killed_at("before-link", 2, "train", config, "--out", run, "--resume")))
    assert code == -signal.SIGKILL, stderr
    assert latest_step(run) == first + 2
    assert list_checkpoints(run)[-1].name == f"step_{first + 3:08d}.pt"  # complete, but not latest

    # 4. Resume to the end (in this process: one torch start-up less).
    result = runner.invoke(app, ["train", str(config), "--out", str(run), "--resume"])
    assert result.exit_code == 0, result.stderr
    assert latest_step(run) == STEPS
    assert not list(checkpoint_dir(run).glob(".*.tmp")), "temporary files of killed saves are cleaned up"
    check_metrics(run, STEPS)

    # The same config trained in one go, in this process: everything that defines the training
    # state must be identical. (The process-global torch RNG state is compared by the stop-and-resume
    # test below, whose runs all live in this process.)
    straight = tmp_path / "straight"
    run_train(load_run_config(config), straight, progress=False)
    resumed, reference = load_checkpoint(run), load_checkpoint(straight)
    for key in ("model", "eval_model", "ema", "optimizer", "embedding_optimizer", "carry", "cursor"):
        assert_identical(resumed[key], reference[key], key)
    assert torch.equal(resumed["rng"]["halt"], reference["rng"]["halt"])
    losses = [
        {
            r["step"]: r["train/lm_loss"]
            for r in read_metrics(folder / "metrics.jsonl")
            if "train/lm_loss" in r
        }
        for folder in (run, straight)
    ]
    assert losses[0] == losses[1]


def assert_identical(a: Any, b: Any, where: str) -> None:
    """Exact equality of nested dicts / lists of tensors and plain values, naming the first difference."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for key in a:
            assert_identical(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_identical(x, y, f"{where}[{i}]")
    elif isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b), where
    else:
        assert a == b, (where, a, b)


def test_stop_and_resume_restores_every_state_exactly(tmp_path, dataset):
    """Stopped with --max-steps at step N/2 and resumed: at step N the checkpoint equals a straight
    run's, the EMA and both optimizers included, and so does the global torch RNG state once both
    runs start from the same one (as two fresh processes do)."""
    config = load_run_config(write_config(tmp_path, dataset, max_steps=12, checkpoint_every=0))
    torch.manual_seed(1234)
    run_train(config, tmp_path / "straight", progress=False)
    torch.manual_seed(1234)
    run_train(config, tmp_path / "pieces", max_steps=6, progress=False)
    assert load_checkpoint(tmp_path / "pieces")["step"] == 6
    torch.manual_seed(999)  # whatever the process did in between: resume restores the saved state
    run_train(config, tmp_path / "pieces", resume=True, progress=False)
    straight, pieces = load_checkpoint(tmp_path / "straight"), load_checkpoint(tmp_path / "pieces")
    assert pieces["step"] == 12
    for key in ("model", "eval_model", "ema", "optimizer", "embedding_optimizer", "carry", "cursor", "rng"):
        assert_identical(pieces[key], straight[key], key)


@pytest.mark.parametrize("resume", [True, False])
def test_run_killed_before_its_first_checkpoint_logs_no_step_twice(tmp_path, dataset, resume):
    """A kill before the first checkpoint leaves metrics lines but nothing to resume from; the next
    run (with or without --resume) starts at step 0 and must not keep the old lines."""
    config = load_run_config(write_config(tmp_path, dataset, max_steps=3))
    run = tmp_path / "run"
    run.mkdir()
    stale = [{"step": 0, "params": 1}, {"step": 1, "train/lm_loss": 2.0}, {"step": 2, "train/lm_loss": 1.9}]
    (run / "metrics.jsonl").write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in stale) + b'{"step": 3, "tr')
    run_train(config, run, resume=resume, progress=False)
    check_metrics(run, 3)


# Numerical guards.


class _InfiniteGradient(torch.autograd.Function):
    """Identity forward; backward sends an infinite gradient (a finite loss with a broken backward)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        return x.clone()

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return grad * float("inf")


POISONS = {
    "nan": (lambda loss: loss * float("nan"), "loss became nan at step 4"),
    "inf": (lambda loss: loss * float("inf"), "loss became inf at step 4"),
    "inf gradient": (_InfiniteGradient.apply, "gradients became non-finite at step 4"),
}


@pytest.mark.parametrize("poison", POISONS)
def test_non_finite_training_stops_and_keeps_the_last_good_checkpoint(tmp_path, dataset, monkeypatch, poison):
    spoil, message = POISONS[poison]
    real_loss_fn = TrainState.loss_fn

    def poisoned(self: TrainState, outputs):
        loss, metrics = real_loss_fn(self, outputs)
        return (spoil(loss) if self.step + 1 == 4 else loss), metrics

    config = write_config(tmp_path, dataset, max_steps=6)
    run = tmp_path / "run"
    monkeypatch.setattr(TrainState, "loss_fn", poisoned)
    result = runner.invoke(app, ["train", str(config), "--out", str(run)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.stderr.splitlines() == [
        f"arcsolve: error: {run}: {message}; the last good checkpoint is kept"
    ]
    assert latest_step(run) == 3
    payload = load_checkpoint(run)
    for part in ("model", "eval_model"):
        assert all(torch.isfinite(t).all() for t in payload[part].values() if t.is_floating_point())
    assert all(torch.isfinite(t).all() for t in payload["ema"]["shadow"].values())

    monkeypatch.setattr(TrainState, "loss_fn", real_loss_fn)  # the cause is gone: resume finishes
    result = runner.invoke(app, ["train", str(config), "--out", str(run), "--resume"])
    assert result.exit_code == 0, result.stderr
    assert latest_step(run) == 6
    check_metrics(run, 6)


# Foreign checkpoints on --resume.


@pytest.fixture(scope="module")
def trained(tmp_path_factory, dataset) -> tuple[Path, Path]:
    """A 3-step run (its config, its run directory) to resume with the wrong things."""
    folder = tmp_path_factory.mktemp("trained")
    config = write_config(folder, dataset, max_steps=3)
    run_train(load_run_config(config), folder / "run", progress=False)
    return config, folder / "run"


@pytest.fixture(scope="module")
def other_dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("other") / "ds"
    cfg = ArcBuildConfig(source="arc1:training", max_grid=8, canvas=8, aug=2, seed=1)
    build_arc_dataset(cfg, out, progress=False)
    return out


def _write_garbage(latest: Path) -> None:
    latest.write_bytes(b"\x00not a checkpoint" * 100)


def _write_foreign_pickle(latest: Path) -> None:
    torch.save({"weights": torch.zeros(3)}, latest)


@pytest.mark.parametrize(
    ("overrides", "spoil", "needle"),
    [
        (["data.path={other}"], None, "checkpoint was trained on a different dataset"),
        (["model.hidden_size=64"], None, "(model.hidden_size is 32 there, 64 here)"),
        (["model.halt_max_steps=3"], None, "(model.halt_max_steps is 2 there, 3 here)"),
        (["train.optimizer=adamw"], None, "train.optimizer = 'adam_atan2', this run uses 'adamw'"),
        ([], _write_garbage, "not a readable checkpoint"),
        ([], _write_foreign_pickle, "not an arcsolve checkpoint"),
    ],
)
def test_foreign_checkpoint_is_refused_on_resume(tmp_path, trained, other_dataset, overrides, spoil, needle):
    config, original = trained
    run = tmp_path / "run"
    shutil.copytree(original, run, symlinks=True)
    latest = checkpoint_dir(run) / "latest.pt"
    if spoil is not None:
        spoil(latest.resolve())
    files = [*checkpoint_dir(run).iterdir(), run / "config.toml"]
    before = {p.name: p.read_bytes() for p in files}
    args = ["train", str(config), "--out", str(run), "--resume"]
    for override in overrides:
        args += ["--set", override.format(other=other_dataset)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"arcsolve: error: {latest.resolve()}: "), result.stderr
    assert needle in lines[0], lines[0]
    assert {p.name: p.read_bytes() for p in files} == before  # nothing touched, config.toml included
    assert sorted(checkpoint_dir(run).iterdir()) == sorted(files[:-1])
    steps = Counter(r["step"] for r in read_metrics(run / "metrics.jsonl") if "train/lm_loss" in r)
    assert steps == Counter({1: 1, 2: 1, 3: 1})


# Kill -9 during `arcsolve predict` over an existing submission.json.

# Runs `arcsolve` with a hook that SIGKILLs the process at the N-th occurrence of an event:
#   write N     the N-th temporary file of submission.json is cut to half its size, then the process
#               dies (1 = the model-free fallback written first, 2 = the final submission);
#   replace N   the N-th temporary file is complete, and the process dies just before it is moved
#               over submission.json;
#   replaced N  just after the N-th move over submission.json (2: before predictions.jsonl is written);
#   batch N     at the N-th batch of views through the model.
PREDICT_KILLER = r"""
import os, signal, sys
from pathlib import Path

mode, at = sys.argv[1], int(sys.argv[2])
del sys.argv[1:3]
seen = 0

def die_at_nth(event):
    global seen
    if event == mode:
        seen += 1
        if seen == at:
            if mode == "write":
                fd = int(os.environ["KILL_FD"])
                os.ftruncate(fd, os.fstat(fd).st_size // 2)
            os.kill(os.getpid(), signal.SIGKILL)

real_fsync, real_replace = os.fsync, os.replace
def fsync(fd):
    if Path(os.readlink(f"/proc/self/fd/{fd}")).name.startswith(".submission.json."):
        os.environ["KILL_FD"] = str(fd)
        die_at_nth("write")
    real_fsync(fd)
def replace(src, dst, *args, **kwargs):
    onto_submission = Path(dst).name == "submission.json"
    if onto_submission:
        die_at_nth("replace")
    real_replace(src, dst, *args, **kwargs)
    if onto_submission:
        die_at_nth("replaced")
os.fsync, os.replace = fsync, replace

import arcsolve.predict.run as run
real_evaluate = run.evaluate_batch
def evaluate_batch(*args, **kwargs):
    die_at_nth("batch")
    return real_evaluate(*args, **kwargs)
run.evaluate_batch = evaluate_batch

from arcsolve.cli import main
main()
"""
PREDICT_KILLS = {  # (mode, N) -> what submission.json must hold afterwards
    ("write", 1): "previous",
    ("replace", 1): "previous",
    ("batch", 3): "fallback",
    ("write", 2): "fallback",
    ("replace", 2): "fallback",
    ("replaced", 2): "final",
}
TEMP_NAME = re.compile(r"\.(submission\.json|predictions\.jsonl|predict_summary\.json)\.\d+\.\w+\.tmp")


def predict_args(run: Path, folder: Path) -> list[Any]:
    # 400 tasks; the ~70 that fit the checkpoint's 8x8 canvas get views, 4 per forward pass.
    return ["predict", run, "--tasks", "arc1:training", "--out", folder / "submission.json"]


def predict_killed_at(mode: str, nth: int, run: Path, folder: Path) -> list[str]:
    return [sys.executable, "-c", PREDICT_KILLER, mode, str(nth), *map(str, predict_args(run, folder))]


def predict_proc(cmd: list[str]) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    extra = ["--tta", "2", "--batch-size", "4", "--device", "cpu"]
    return subprocess.Popen(
        [*cmd, *extra], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env
    )


def submission_state(folder: Path, previous: bytes, fallback: bytes) -> str:
    """What submission.json holds after a kill ('previous', 'fallback' or 'final'), after checking it
    is the previous file intact or a complete valid one, and that nothing else in the folder looks
    like a submission: leftovers of killed writes are hidden `.submission.json.<pid>.*.tmp` files."""
    names = {p.name for p in folder.iterdir()} - {
        "submission.json",
        "predictions.jsonl",
        "predict_summary.json",
    }
    assert all(TEMP_NAME.fullmatch(name) for name in names), names
    data = (folder / "submission.json").read_bytes()
    if data == previous:
        return "previous"
    assert validate_submission(data, load_tasks("arc1:training")) == []
    if (folder / "predictions.jsonl").exists():  # written atomically too: whole lines only
        for line in (folder / "predictions.jsonl").read_bytes().splitlines():
            orjson.loads(line)
    return "fallback" if data == fallback else "final"


def test_kill_during_predict_keeps_a_whole_submission(tmp_path, trained, rng):
    """`arcsolve predict` killed early (mid-write of the fallback, before its move), mid-way (during
    the views), late (mid-write and before the move of the final file, and just after it) and at a
    random moment, each over an existing submission.json: the file is always the previous one intact
    or a complete valid one, and leftovers are hidden temporary files; a rerun in the same folder
    removes them and ends at the same file as the run that was killed only after its final move."""
    _, run = trained
    tasks = load_tasks("arc1:training")
    fallback = submission_bytes(fallback_submission(tasks))
    previous = submission_bytes(
        {
            t: [{"attempt_1": [[7]], "attempt_2": [[8]]} for _ in e]
            for t, e in fallback_submission(tasks).items()
        }
    )
    cases = [*PREDICT_KILLS, ("random", 0)]
    folders = {case: tmp_path / f"{case[0]}{case[1]}" for case in cases}
    for folder in folders.values():
        folder.mkdir()
        (folder / "submission.json").write_bytes(previous)
    procs = {case: predict_proc(predict_killed_at(*case, run, folders[case])) for case in PREDICT_KILLS}
    random_proc = predict_proc(arcsolve(*predict_args(run, folders["random", 0])))
    time.sleep(rng.uniform(0.0, 8.0))  # start-up takes seconds: early, mid-way or after the end
    random_proc.send_signal(signal.SIGKILL)
    code, stderr = finish(random_proc)
    assert code in (0, -signal.SIGKILL), stderr
    for case, proc in procs.items():
        code, stderr = finish(proc)
        assert code == -signal.SIGKILL, (case, code, stderr)
        assert submission_state(folders[case], previous, fallback) == PREDICT_KILLS[case], case
    assert submission_state(folders["random", 0], previous, fallback) in ("previous", "fallback", "final")
    half_written = folders["write", 1] / "submission.json"
    assert any(TEMP_NAME.fullmatch(p.name) for p in half_written.parent.iterdir())

    # Reruns where a killed write left a temporary file, and after the random kill.
    rerun = [("write", 1), ("replace", 2), ("random", 0)]
    reruns = {case: predict_proc(arcsolve(*predict_args(run, folders[case]))) for case in rerun}
    for case, proc in reruns.items():
        code, stderr = finish(proc)
        assert code == 0, (case, stderr)
        assert submission_state(folders[case], previous, fallback) == "final"
        names = sorted(p.name for p in folders[case].iterdir())
        assert names == ["predict_summary.json", "predictions.jsonl", "submission.json"]
    finals = {(folders[case] / "submission.json").read_bytes() for case in rerun}
    assert len(finals) == 1 and finals == {(folders["replaced", 2] / "submission.json").read_bytes()}


def test_only_temporary_files_of_dead_writers_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    target = tmp_path / "submission.json"
    left = tmp_path / f".submission.json.{int(dead.stdout)}.k1l2.tmp"
    live = tmp_path / f".submission.json.{os.getpid()}.w3r4.tmp"
    other = tmp_path / f".submission.jsonl.{int(dead.stdout)}.k1l2.tmp"  # another file's
    for path in (left, live, other):
        path.write_bytes(b"{")
    assert remove_stale_temp_files(target) == [left]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name])
