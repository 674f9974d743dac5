"""The CLI adapter: command tree, one-line errors, exit codes."""

from __future__ import annotations

import os
import subprocess
import sys

import orjson
import pytest
import torch
from typer.testing import CliRunner

from arcsolve.cli import app

runner = CliRunner()


def test_command_tree_is_registered():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("quickstart", "data", "info", "train", "predict", "submission", "bench", "show"):
        assert command in result.output


def test_validate_bundled_ok():
    result = runner.invoke(app, ["data", "validate", "arc1:evaluation"])
    assert result.exit_code == 0, result.output
    assert "400 valid task(s), 0 invalid" in result.output


def test_validate_reports_each_bad_task_on_one_line(tmp_path):
    good = {"train": [{"input": [[1]], "output": [[2]]}], "test": [{"input": [[3]]}]}
    (tmp_path / "good.json").write_bytes(orjson.dumps(good))
    (tmp_path / "malformed.json").write_text('{"train": [')
    (tmp_path / "big.json").write_bytes(
        orjson.dumps({"train": [{"input": [[0] * 31] * 31, "output": [[1]]}], "test": good["test"]})
    )
    (tmp_path / "colour10.json").write_bytes(
        orjson.dumps({"train": [{"input": [[10]], "output": [[1]]}], "test": good["test"]})
    )
    (tmp_path / "ragged.json").write_bytes(
        orjson.dumps({"train": [{"input": [[1, 1], [1]], "output": [[1]]}], "test": good["test"]})
    )
    (tmp_path / "emptytrain.json").write_bytes(orjson.dumps({"train": [], "test": good["test"]}))
    result = runner.invoke(app, ["data", "validate", str(tmp_path)])
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("arcsolve: error:")]
    assert len(errors) == 5
    for name in ("malformed", "big", "colour10", "ragged", "emptytrain"):
        assert sum(name in line for line in errors) == 1
    assert "Traceback" not in result.output + result.stderr
    assert "1 valid task(s), 5 invalid" in result.stdout


def test_unknown_source_is_exit_2_one_line():
    result = runner.invoke(app, ["data", "validate", "no/such/place"])
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0 and result.stderr.startswith(
        "arcsolve: error: no/such/place"
    )


@pytest.mark.slow
def test_python_dash_m_entry_point():
    proc = subprocess.run(
        [sys.executable, "-m", "arcsolve", "data", "validate", "nope:x"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert (
        proc.stderr.strip()
        == "arcsolve: error: nope:x: unknown bundled set 'nope' (known: arc1, arc2, kaggle2024, kaggle2025)"
    )


USAGE_ERRORS = [
    (["train"], "train", "Missing argument 'config'"),
    (["info", "cfg.toml", "--set"], "info", "Option '--set' requires an argument"),
    (["train", "cfg.toml", "--out", "run", "--bogus"], "train", "No such option: --bogus"),
    (["predict", "ckpt.pt", "--tasks", "t", "--out", "o.json", "--tta", "abc"], "predict", "'--tta'"),
    (["data", "build", "arc", "--out", "ds"], "data build arc", "Missing option '--source'"),
    (["data", "frob"], "data", "No such command 'frob'"),
    (["frob"], "arcsolve", "No such command 'frob'"),
]


@pytest.mark.parametrize(("args", "where", "needle"), USAGE_ERRORS)
def test_usage_errors_are_one_line_exit_2(args, where, needle):
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"arcsolve: error: {where}: "), result.stderr
    assert needle in lines[0] and lines[0].endswith(" --help')"), lines[0]
    assert result.stdout == ""


@pytest.mark.parametrize("args", [["--help"], ["train", "--help"], ["data", "build", "arc", "--help"]])
def test_help_still_prints_in_full(args):
    result = runner.invoke(app, args)
    assert result.exit_code == 0 and "Usage:" in result.stdout and result.stderr == ""


@pytest.mark.slow
def test_usage_error_through_the_real_entry_point():
    """What a terminal shows: the console entry point (`main`) through `python -m arcsolve`."""
    proc = subprocess.run(
        [sys.executable, "-m", "arcsolve", "train", "cfg.toml", "--set"], capture_output=True, text=True
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "arcsolve: error: train: Option '--set' requires an argument. (try 'arcsolve train --help')"
    ]


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize("command", ["train", "predict"])
def test_cuda_without_a_gpu_is_one_line_exit_2_in_train_and_predict(tmp_path, command):
    """One device resolver (arcsolve/runtime.py) for every command: same message, same exit code."""
    if command == "train":
        args = [
            "train",
            "configs/arc1-cpu-tiny.toml",
            "--out",
            str(tmp_path / "run"),
            "--set",
            "train.device=cuda",
        ]
    else:
        args = [
            "predict",
            str(tmp_path / "missing.pt"),
            "--tasks",
            "arc1:training",
            "--out",
            str(tmp_path / "s.json"),
            "--device",
            "cuda",
        ]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("arcsolve: error:")
    assert "no CUDA device is visible" in lines[0]
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_arcsolve_debug_shows_the_traceback():
    """ARCSOLVE_DEBUG=1: the same bad input raises with its traceback instead of one line."""
    argv = [sys.executable, "-m", "arcsolve", "data", "validate", "nope:x"]
    env = {**os.environ, "ARCSOLVE_DEBUG": "1"}
    proc = subprocess.run(argv, capture_output=True, text=True, env=env)
    assert proc.returncode != 0
    assert "Traceback (most recent call last)" in proc.stderr
    assert "unknown bundled set 'nope'" in proc.stderr


def _captured_predict_config(monkeypatch, args):
    """Run `arcsolve predict ARGS` with run_predict replaced by a recorder; the PredictConfig built."""
    import arcsolve.predict.run as predict_run

    seen = []

    class Summary:
        def lines(self):
            return []

    monkeypatch.setattr(predict_run, "run_predict", lambda cfg, started: seen.append(cfg) or Summary())
    result = runner.invoke(
        app, ["predict", "ckpt.pt", "--tasks", "arc1:evaluation", "--out", "sub.json", *args]
    )
    return result, seen


def test_predict_without_flags_takes_every_default_from_predict_config(monkeypatch):
    from dataclasses import replace

    from arcsolve.predict.config import PredictConfig

    result, seen = _captured_predict_config(monkeypatch, [])
    assert result.exit_code == 0, result.output
    expected = PredictConfig(checkpoint="ckpt.pt", tasks="arc1:evaluation", out="sub.json")
    assert seen == [replace(expected, progress=seen[0].progress)]


def test_predict_set_reaches_nested_and_unflagged_fields_after_the_flags(monkeypatch):
    args = ["--tta", "4", "--adapt-steps", "7", "--set", "adapt.steps=500", "--set", "max_candidates=3"]
    result, seen = _captured_predict_config(monkeypatch, [*args, "--adapt-model", "all"])
    assert result.exit_code == 0, result.output
    (cfg,) = seen
    assert (cfg.tta, cfg.adapt.steps, cfg.adapt.model, cfg.max_candidates) == (4, 500, "all", 3)


@pytest.mark.parametrize(
    ("override", "needle"),
    [("adapt.stepz=5", "unknown key 'adapt.stepz'"), ("tta=many", "'tta' must be an integer")],
)
def test_predict_bad_set_is_one_line_exit_2(monkeypatch, override, needle):
    result, seen = _captured_predict_config(monkeypatch, ["--set", override])
    assert result.exit_code == 2 and not seen
    assert result.stderr.count("\n") == 1 and needle in result.stderr, result.stderr


def test_predict_and_bundle_help_show_the_config_defaults():
    from arcsolve.cli_support import default_of
    from arcsolve.kaggle.options import BundleOptions
    from arcsolve.predict.config import PredictConfig

    wide = {"COLUMNS": "200"}
    predict_help = " ".join(runner.invoke(app, ["predict", "--help"], env=wide).output.split())
    assert f"augmented views per test input (default: {default_of(PredictConfig, 'tta')})" in predict_help
    assert f"(default: {default_of(PredictConfig, 'adapt.lr')})" in predict_help
    bundle_help = " ".join(runner.invoke(app, ["kaggle", "bundle", "--help"], env=wide).output.split())
    assert f"views per test input on Kaggle (default: {default_of(BundleOptions, 'tta')})" in bundle_help
    assert f"(default: {default_of(BundleOptions, 'hidden.adapt_model')})" in bundle_help


def test_help_shows_config_defaults_without_importing_torch_or_numba():
    """The help texts read their defaults from the config dataclasses; none of them may pull in torch
    or numba (seconds of start-up for `arcsolve --help`)."""
    code = (
        "import sys; from typer.testing import CliRunner; from arcsolve.cli import app\n"
        "for args in (['--help'], ['kaggle', 'bundle', '--help'], ['data', 'build', 'arc', '--help'],"
        " ['data', 'build', 'maze', '--help'], ['predict', '--help']):\n"
        "    assert CliRunner().invoke(app, args).exit_code == 0\n"
        "print(sorted(m for m in ('torch', 'numba') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_data_build_without_flags_takes_the_build_config_defaults(monkeypatch, tmp_path):
    import arcsolve.data.puzzle_builders as builders

    seen = []
    fake = {"counts": {"train": {"examples": 1}, "test": {"examples": 1}}, "seconds": 0.0}
    fake_maze = fake | {"mean_path_length": {"test": 1.0}}
    monkeypatch.setattr(
        builders, "build_maze_dataset", lambda cfg, out, overwrite: seen.append(cfg) or fake_maze
    )
    result = runner.invoke(app, ["data", "build", "maze", "--out", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app, ["data", "build", "maze", "--out", str(tmp_path / "m"), "--size", "9", "--min-path", "4"]
    )
    assert result.exit_code == 0, result.output
    assert seen[0] == builders.MazeBuildConfig()
    assert (seen[1].size, seen[1].min_path, seen[1].n_train) == (9, 4, builders.MazeBuildConfig().n_train)
