"""The cases a hostile run of the Kaggle bundle broke (issue 26), each kept from coming back: any
arc-prize-YYYY, a sample-only folder of any name, a Python the bundle holds no wheels for, an empty
`test` list, a task id given twice, an interrupt during pip."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest
from kaggle_support import CHALLENGES, fake_predict, run_main, summary_of, valid_for, write_challenges

from arcsolve.kaggle.arcsolve_kaggle_runner import challenges as ch
from arcsolve.kaggle.arcsolve_kaggle_runner import children
from arcsolve.kaggle.arcsolve_kaggle_runner import install as installer
from arcsolve.kaggle.arcsolve_kaggle_runner import main as runner
from arcsolve.kaggle.options import competition_problem
from arcsolve.kaggle.wheels import DEFAULT_PYTHON_VERSIONS, wheel_fits

SAMPLE = {tid: [{"attempt_1": [[0]], "attempt_2": [[0]]}] * len(t["test"]) for tid, t in CHALLENGES.items()}


def test_any_arc_prize_year_is_a_competition_and_none_is_the_default():
    assert [competition_problem(n) for n in (None, "arc-prize-2024", "arc-prize-2026", "arc-prize-2031")] == [
        None
    ] * 4
    for name in ("arc-prize-2019", "arc-prize-26", "arc-prize-2026x", "ARC-PRIZE-2026", ""):
        assert "expected arc-prize-YYYY" in competition_problem(name), name
    assert "3.13" in DEFAULT_PYTHON_VERSIONS
    assert wheel_fits("numba-0.68.1-cp313-cp313-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl", "3.13")
    assert not wheel_fits("numba-0.68.1-cp312-cp312-manylinux_2_28_x86_64.whl", "3.13")


def test_without_a_pinned_competition_the_only_or_the_newest_is_answered(tmp_path):
    root = tmp_path / "input"
    only = write_challenges(root / "arc-prize-2026").parent
    (root / "my-bundle").mkdir()
    assert ch.choose_folder(root, None, True) == (only, [])
    write_challenges(root / "arc-prize-2025")
    folder, warnings = ch.choose_folder(root, None, True)
    assert (
        folder == only
        and len(warnings) == 1
        and "arc-prize-2025, arc-prize-2026; using arc-prize-2026" in warnings[0]
    )
    assert ch.choose_folder(root, "arc-prize-2025", True) == (root / "arc-prize-2025", [])


def test_a_sample_alone_in_a_folder_of_any_name_gives_a_file(kaggle_bundle, tmp_path, monkeypatch):
    """The folder holds sample_submission.json but no test challenges: exit 3 with the sample's file
    whatever the folder is called; without any sample, exit 4 naming what is missing where."""
    root, working = tmp_path / "input", tmp_path / "working"
    working.mkdir()
    folder = root / "arc-prize-2026"
    folder.mkdir(parents=True)
    (folder / "sample_submission.json").write_text(json.dumps(SAMPLE))
    argv = ("--device", "cpu", "--predict-command", "false")
    assert run_main(kaggle_bundle, root, working, *argv, monkeypatch=monkeypatch) == 3
    assert json.loads((working / "submission.json").read_text()) == SAMPLE
    summary = summary_of(working)
    assert summary["challenges_error"] == f"no *_test_challenges.json in {folder}"
    assert summary["sample"] == str(folder / "sample_submission.json") and summary["seconds"] >= 0
    (folder / "sample_submission.json").unlink()
    (working / "submission.json").unlink()
    assert run_main(kaggle_bundle, root, working, *argv, monkeypatch=monkeypatch) == 4
    summary = summary_of(working)
    assert summary["challenges_error"] == (
        f"no folder under {root} holds *_test_challenges.json or sample_submission.json"
    )
    assert summary["seconds"] >= 0 and not (working / "submission.json").exists()


def test_an_empty_test_list_gets_no_entry_and_is_not_counted(kaggle_bundle, tmp_path, monkeypatch):
    tasks = dict(CHALLENGES, bad00007={"train": CHALLENGES["c0ffee01"]["train"], "test": []})
    write_challenges(tmp_path / "input" / "arc-prize-2026", challenges=tasks)
    (tmp_path / "working").mkdir()
    argv = ["--device", "cpu", "--predict-command", fake_predict(tmp_path)]
    assert (
        run_main(kaggle_bundle, tmp_path / "input", tmp_path / "working", *argv, monkeypatch=monkeypatch) == 0
    )
    assert valid_for(tmp_path / "working" / "submission.json", tasks)["bad00007"] == []
    summary = summary_of(tmp_path / "working")
    assert summary["tasks"] == 4 and summary["test_inputs"] == summary["model_answered"] == 4
    assert [m["task"] for m in summary["malformed_tasks"]] == ["bad00007"]


def test_a_repeated_task_id_is_answered_once_from_its_first_copy(
    kaggle_bundle, tmp_path, monkeypatch, capsys
):
    first, second = (
        json.dumps({"train": CHALLENGES["c0ffee01"]["train"], "test": [{"input": g}]}) for g in ([[1]], [[2]])
    )
    text = f'{{"c0ffee01": {first}, "a11ce002": {json.dumps(CHALLENGES["a11ce002"])}, "c0ffee01": {second}}}'
    folder = tmp_path / "input" / "arc-prize-2026"
    folder.mkdir(parents=True)
    (folder / "arc-agi_test_challenges.json").write_text(text)
    (tmp_path / "working").mkdir()
    argv = ["--device", "cpu", "--predict-command", fake_predict(tmp_path)]
    assert (
        run_main(kaggle_bundle, tmp_path / "input", tmp_path / "working", *argv, monkeypatch=monkeypatch) == 0
    )
    submission = json.loads((tmp_path / "working" / "submission.json").read_text())
    assert list(submission) == ["c0ffee01", "a11ce002"]
    shard = json.loads(
        (tmp_path / "working" / "arcsolve_shards" / "shard_0" / "shard_challenges.json").read_text()
    )
    assert shard["c0ffee01"]["test"] == [{"input": [[1]]}]  # the first copy, where json keeps the last
    assert summary_of(tmp_path / "working")["repeated_task_ids"] == ["c0ffee01"]
    assert "task ids given more than once: c0ffee01" in capsys.readouterr().err


def fake_python(folder: Path, pip: str) -> Path:
    """A stand-in for sys.executable that logs each call: every import check fails, and
    `-m pip install` either `hangs` (touching pip_started first) or succeeds at once."""
    script = folder / "fake_python"
    action = f"touch {folder}/pip_started; sleep 600" if pip == "hangs" else "exit 0"
    script.write_text(
        f'#!/bin/sh\necho "$*" >> {folder}/calls\ncase "$*" in *"pip install"*) {action};; esac\nexit 1\n'
    )
    script.chmod(0o755)
    return script


def test_an_interrupt_during_pip_stops_the_run_there(kaggle_bundle, kaggle_dirs, tmp_path, monkeypatch):
    """SIGINT while pip runs: reported as stopped (not timed out), and neither predict --help nor
    the GPU probe is started afterwards."""
    input_root, working = kaggle_dirs
    monkeypatch.setattr(sys, "executable", str(fake_python(tmp_path, "hangs")))

    def interrupt_once_pip_runs() -> None:
        until = time.monotonic() + 60
        while not (tmp_path / "pip_started").exists() and time.monotonic() < until:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt_once_pip_runs, daemon=True).start()
    monkeypatch.setenv("KAGGLE_IS_COMPETITION_RERUN", "1")
    argv = ["--bundle-dir", str(kaggle_bundle.out), "--input-root", str(input_root)]
    argv += ["--working-dir", str(working), "--predict-command", f"{sys.executable} predict"]
    assert runner.main(argv) == 130  # installing: no --skip-install
    valid_for(working / "submission.json", CHALLENGES)
    summary = summary_of(working)
    assert "pip install stopped by SIGINT" in summary["problems"]
    assert summary["fallback_by_reason"] == {"interrupted": 4} and summary["interrupted"] == "SIGINT"
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls[-1].startswith("-m pip install") and not any("predict" in c or "torch" in c for c in calls)


def test_a_foreign_python_is_named_before_anything_is_installed(kaggle_bundle, tmp_path, monkeypatch, capsys):
    manifest = json.loads(kaggle_bundle.manifest.read_text())
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert installer.python_problem(manifest) is None
    manifest["python_versions"] = ["3.98", "3.99"]
    line = f"this notebook runs Python {here}, but the bundle holds wheels for Python 3.98, 3.99 only"
    assert installer.python_problem(manifest).startswith(line)
    monkeypatch.setattr(sys, "executable", str(fake_python(tmp_path, "succeeds")))
    monkeypatch.setattr(children.STOP, "signum", None)  # run.py's main resets it; install alone does not
    problems = installer.install(kaggle_bundle.out, manifest, None, 60)
    out = capsys.readouterr().out
    assert out.index(line) < out.index("does not import here") < out.index("installing:")
    pip = next(c for c in (tmp_path / "calls").read_text().splitlines() if "pip install" in c).split()
    assert any(a.startswith("typer==") for a in pip) and not any(
        a.startswith(("numba", "orjson")) for a in pip
    )
    assert problems[0].startswith(line) and "numba" in problems[1] and "orjson" in problems[1]


@pytest.fixture
def kaggle_dirs(tmp_path):
    write_challenges(tmp_path / "input" / "arc-prize-2026")
    (tmp_path / "working").mkdir()
    return tmp_path / "input", tmp_path / "working"


def test_inputs_the_search_answered_are_counted_apart_from_the_models():
    from arcsolve.kaggle.arcsolve_kaggle_runner import shards

    class Finished:
        task_ids = ["t", "u"]

        def predict_summary(self):
            return {"inputs": {"t": ["search", "model"], "u": ["no valid prediction"]}, "bad_tasks": []}

        def answers(self):
            entry = {"attempt_1": [[1]], "attempt_2": [[2]]}
            return {"t": [entry, entry], "u": [entry]}

    fallback = {
        "t": [{"attempt_1": [[0]], "attempt_2": [[5]]}] * 2,
        "u": [{"attempt_1": [[0]], "attempt_2": [[5]]}],
    }
    merged, outcomes = shards.merge({"t": {}, "u": {}}, [Finished()], fallback, {})
    assert outcomes == {"t": ["search", "model"], "u": ["no valid prediction"]}
    assert merged["t"][0] == {"attempt_1": [[1]], "attempt_2": [[2]]}
