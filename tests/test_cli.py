"""The CLI adapter: command tree, one-line errors, exit codes."""

from __future__ import annotations

import subprocess
import sys

import orjson
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


def test_python_dash_m_entry_point():
    proc = subprocess.run(
        [sys.executable, "-m", "arcsolve", "data", "validate", "nope:x"], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert (
        proc.stderr.strip()
        == "arcsolve: error: nope:x: unknown bundled set 'nope' (known: arc1, arc2, kaggle2024, kaggle2025)"
    )
