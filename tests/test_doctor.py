"""`arcsolve doctor`: the whole screen always, exit 1 naming what a README command would miss."""

from __future__ import annotations

import sys

import numba
import torch
from typer.testing import CliRunner

import arcsolve.doctor as doctor
from arcsolve.cli import app
from arcsolve.data.tasks import BUNDLED_SETS
from arcsolve.errors import BadInputError

runner = CliRunner()


def test_doctor_reports_this_machine():
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert all(line.startswith("  ok  ") for line in lines)
    by_label = {line[6:21].strip(): line[21:] for line in lines}
    assert by_label["python"].startswith(".".join(map(str, sys.version_info[:3])))
    assert by_label["torch"].startswith(f"{torch.__version__}, ")
    assert (
        by_label["numba"] == f"{numba.__version__}, {numba.get_num_threads()} thread(s) (NUMBA_NUM_THREADS)"
    )
    assert f"torch uses {torch.get_num_threads()} thread(s)" in by_label["cpu"]
    shown = [line.split()[3] for line in lines if "bundled data" in line]
    assert shown == ["arc1:training:", *(f"{name}:" for name in BUNDLED_SETS)]
    assert "arc1:training: 400 tasks load" in result.stdout
    if not torch.cuda.is_available():
        assert by_label["gpu"].startswith("none visible")


def test_doctor_fails_naming_each_problem_after_the_whole_screen(monkeypatch):
    def unreadable(source: str) -> list:
        raise BadInputError(source, "not valid JSON")

    def broken_numba():
        raise ImportError("no module named numba")

    monkeypatch.setattr(doctor, "load_tasks", unreadable)
    monkeypatch.setattr(doctor, "numba_check", broken_numba)
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 1
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAIL")]
    assert failed == [
        "FAIL  numba          could not be checked  <- ImportError: no module named numba",
        f"FAIL  quickstart     {doctor.QUICKSTART_CONFIG}  <- arc1:training: not valid JSON",
    ]
    assert "ok  configs" in result.stdout and "matplotlib" in result.stdout
    assert result.stderr.strip() == (
        "arcsolve: error: doctor: numba: ImportError: no module named numba; "
        "quickstart: arc1:training: not valid JSON"
    )
