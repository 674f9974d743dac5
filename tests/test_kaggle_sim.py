"""A Kaggle notebook, simulated: a fresh Python with only torch and numpy, pip with no index, two
competitions attached, the bundle as a dataset. run.py must install what is missing from the
bundle alone, answer the right competition, count honestly, and keep its promises when things go
wrong (a real SIGINT, a truncated challenges file, a broken checkpoint).

torch and numpy (and what torch itself imports) come from this test environment through a folder
of symlinks on a .pth line, so the venv costs seconds, not a 200 MB install. One venv per session.
"""

from __future__ import annotations

import importlib.metadata as md
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kaggle_support import BIG, CHALLENGES, MALFORMED, SOLUTIONS, valid_for, write_challenges

from arcsolve.kaggle.wheels import IMAGE_ROOTS, _closure

pytestmark = pytest.mark.slow
TASKS_2025 = dict(CHALLENGES, big00004=BIG, bad00005=MALFORMED)
TASKS_2024 = {"old00001": CHALLENGES["c0ffee01"]}


def link_image_packages(folder: Path) -> None:
    """Symlink torch, numpy and torch's requirements (packages and dist-info) into `folder`."""
    folder.mkdir()
    for name in _closure(IMAGE_ROOTS):
        dist = md.distribution(name)
        site = Path(dist.locate_file(""))
        tops = {Path(f).parts[0] for f in dist.files or () if not str(f).startswith("..")}
        for top in tops:
            if (site / top).exists() and not (folder / top).exists():
                (folder / top).symlink_to(site / top)


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("bare_python")
    subprocess.run([sys.executable, "-m", "venv", str(root / "venv")], check=True)
    link_image_packages(root / "image")
    site = next((root / "venv").glob("lib/python*/site-packages"))
    (site / "kaggle_image.pth").write_text(str(root / "image") + "\n")
    python = root / "venv" / "bin" / "python"
    probe = "import torch, numpy\nfor m in ('typer', 'rich', 'orjson', 'numba', 'pydantic', 'arcsolve'):\n"
    probe += "    try:\n        __import__(m); print(m)\n    except ImportError:\n        pass\n"
    done = subprocess.run(
        [str(python), "-c", probe], capture_output=True, text=True, env=offline_env(), cwd=root
    )
    assert done.returncode == 0 and done.stdout == "", done.stdout + done.stderr  # torch + numpy only
    return python


def offline_env(**extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON", "ARCSOLVE_", "KAGGLE_"))
    }
    return (
        env | {"PIP_NO_INDEX": "1", "PIP_CONFIG_FILE": os.devnull, "KAGGLE_IS_COMPETITION_RERUN": "1"} | extra
    )


@pytest.fixture(scope="module")
def kaggle_tree(kaggle_bundle, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("kaggle")
    write_challenges(root / "input" / "arc-prize-2024", challenges=TASKS_2024)
    source = write_challenges(root / "input" / "arc-prize-2025", challenges=TASKS_2025)
    source.with_name("arc-agi_test_solutions.json").write_text(json.dumps(SOLUTIONS))
    (root / "input" / "arcsolve-bundle").symlink_to(kaggle_bundle.out, target_is_directory=True)
    return root


def notebook(python: Path, tree: Path, *args: str, **env: str) -> subprocess.Popen:
    working = tree / "working"
    shutil.rmtree(working, ignore_errors=True)
    working.mkdir()
    cmd = [str(python), str(tree / "input" / "arcsolve-bundle" / "run.py"), f"--working-dir={working}", *args]
    return subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=working, env=offline_env(**env)
    )


def summary(tree: Path) -> dict:
    return json.loads((tree / "working" / "run_summary.json").read_text())


def test_bare_notebook_installs_from_the_bundle_and_answers_the_right_tasks(bare_python, kaggle_tree):
    began = time.monotonic()
    proc = notebook(bare_python, kaggle_tree, "--input-root", str(kaggle_tree / "input"))
    out, err = proc.communicate(timeout=900)
    wall = time.monotonic() - began
    assert proc.returncode == 0, out + err
    assert "numba does not import here" in out and "typer does not import here" in out
    valid_for(kaggle_tree / "working" / "submission.json", TASKS_2025)
    result = summary(kaggle_tree)
    # the bundle pins no competition: of the two attached, the newest, said loudly
    assert result["competition"] == "arc-prize-2025" and len(result["warnings"]) == 1
    assert "arc-prize-2024, arc-prize-2025; using arc-prize-2025" in result["warnings"][0]
    inputs = json.loads(
        (kaggle_tree / "working" / "arcsolve_shards" / "shard_0" / "predict_summary.json").read_text()
    )
    fits = [o for tid, row in inputs["inputs"].items() if tid != "big00004" for o in row]
    assert len(fits) == 4 and set(fits) <= {"model", "no valid prediction"}  # the model ran on every one
    assert result["model_answered"] == fits.count("model") >= 1 and result["test_inputs"] == 6
    assert result["fallback_by_reason"]["too big for the canvas"] == 1
    assert result["fallback_by_reason"]["malformed task"] == 1
    where = subprocess.run(
        [
            str(bare_python),
            "-c",
            "import torch, numpy, numba, arcsolve; print(torch.__file__, numpy.__file__)",
        ],
        capture_output=True,
        text=True,
        env=offline_env(),
        cwd=kaggle_tree,
    )
    assert where.returncode == 0 and "/image/torch/" in where.stdout and "/image/numpy/" in where.stdout
    print(
        f"simulated notebook: {wall:.1f} s wall, {result['model_answered']}/{result['test_inputs']} by the model"
    )


def test_bare_notebook_failure_modes(bare_python, kaggle_tree, kaggle_bundle):
    """After the first run installed everything: SIGINT, a truncated file, a broken checkpoint."""
    base = ["--input-root", str(kaggle_tree / "input")]
    proc = notebook(bare_python, kaggle_tree, *base)
    log = kaggle_tree / "working" / "arcsolve_shards" / "shard_0" / "predict.log"
    until = time.monotonic() + 300
    while not log.exists() and time.monotonic() < until:
        time.sleep(0.2)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, out + err
    valid_for(kaggle_tree / "working" / "submission.json", TASKS_2025)
    with pytest.raises(ProcessLookupError):
        os.killpg(summary(kaggle_tree)["shards"][0]["pid"], 0)

    truncated = kaggle_tree / "broken" / "arc-agi_test_challenges.json"
    truncated.parent.mkdir(exist_ok=True)
    truncated.write_text(json.dumps(TASKS_2025)[:300])
    sample = {tid: [{"attempt_1": [[0]], "attempt_2": [[0]]}] for tid in TASKS_2025}
    (truncated.parent / "sample_submission.json").write_text(json.dumps(sample))
    proc = notebook(bare_python, kaggle_tree, *base, "--challenges", str(truncated))
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 3, out + err
    assert json.loads((kaggle_tree / "working" / "submission.json").read_text()) == sample

    broken = kaggle_tree / "broken" / "model.pt"
    broken.write_bytes(b"not a checkpoint")
    proc = notebook(bare_python, kaggle_tree, *base, "--checkpoint", str(broken))
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 1 and "NO TEST INPUT WAS ANSWERED BY THE MODEL" in err, out + err
    valid_for(kaggle_tree / "working" / "submission.json", TASKS_2025)
    result = summary(kaggle_tree)
    assert (
        result["fallback_by_reason"] == {"shard crashed": 5, "malformed task": 1}
        and "model.pt" in result["shards"][0]["last_error"]
    )
