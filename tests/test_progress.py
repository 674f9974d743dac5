"""Progress: a rich bar on a terminal, plain throttled lines elsewhere, nothing under --quiet."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

from rich.progress import Progress
from typer.testing import CliRunner

from arcsolve.cli import app
from arcsolve.progress import PlainProgress, duration, plain_every, progress_bar

FIXTURES = Path(__file__).parent / "fixtures"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_plain_lines_are_throttled_and_say_what_done_rate_and_time_left():
    clock, stream = FakeClock(), io.StringIO()
    with PlainProgress("predict", "views", stream, every=10.0, clock=clock) as bar:
        job = bar.add_task("predict", total=400)
        for _ in range(100):  # 100 views in 25 s: 4 views/s
            clock.now += 0.25
            bar.advance(job)
    lines = stream.getvalue().splitlines()
    # one line per 10 s (at 10 s and 20 s), then the closing line
    assert lines == [
        "predict: 40/400 views (10%), 4.00/s, 1m 30s left",
        "predict: 80/400 views (20%), 4.00/s, 1m 20s left",
        "predict: 100/400 views (25%), 4.00/s, done in 25s",
    ]


def test_plain_lines_show_fields_and_count_only_new_work_of_a_resumed_run():
    clock, stream = FakeClock(), io.StringIO()
    with PlainProgress("train", "{task.fields[info]}", stream, every=5.0, clock=clock) as bar:
        job = bar.add_task("train", total=1000, completed=600, info="")
        clock.now += 8.0
        bar.update(job, completed=640, info="loss 1.873 exact 0.000")
    assert stream.getvalue().splitlines() == [
        "train: 640/1000 (64%), 5.00/s, 1m 12s left, loss 1.873 exact 0.000",
        "train: 640/1000 (64%), 5.00/s, done in 8s, loss 1.873 exact 0.000",
    ]


def test_short_work_prints_nothing():
    clock, stream = FakeClock(), io.StringIO()
    with PlainProgress("build", "tasks", stream, every=10.0, clock=clock) as bar:
        job = bar.add_task("build", total=3)
        for _ in range(3):
            clock.now += 1.0
            bar.advance(job)
    assert stream.getvalue() == ""


def test_progress_bar_picks_plain_lines_off_a_terminal(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    monkeypatch.setenv("ARCSOLVE_PROGRESS_EVERY", "2.5")
    plain = progress_bar("adapt", "steps", enabled=True)
    assert isinstance(plain, PlainProgress) and plain.every == 2.5
    quiet = progress_bar("adapt", "steps", enabled=False)
    assert isinstance(quiet, Progress) and quiet.disable


def test_plain_every_reads_the_environment(monkeypatch):
    for text, seconds in (("", 10.0), ("0", 0.0), ("30", 30.0), ("soon", 10.0), ("-4", 0.0)):
        monkeypatch.setenv("ARCSOLVE_PROGRESS_EVERY", text)
        assert plain_every() == seconds
    assert [duration(s) for s in (4.4, 65, 3599.6, 7500)] == ["4s", "1m 05s", "1h 00m", "2h 05m"]


def test_a_non_tty_cli_run_prints_progress_lines_and_quiet_silences_them(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCSOLVE_PROGRESS_EVERY", "0")  # every update: the build is quick
    runner = CliRunner()
    args = ["data", "build", "arc", "--source", str(FIXTURES / "tasks"), "--aug", "1", "--canvas", "4"]
    shown = runner.invoke(app, [*args, "--out", str(tmp_path / "a")])
    assert shown.exit_code == 0, shown.output
    lines = shown.stderr.splitlines()
    assert lines and all(re.fullmatch(r"build: \d/2 tasks \(\d+%\), [\d.]+/s(, .*)?", line) for line in lines)
    assert len(lines) == 2 and lines[0].startswith("build: 1/2 tasks (50%), ")  # every update but the last
    assert lines[1].startswith("build: 2/2 tasks (100%), ") and "done in" in lines[1]  # said once
    quiet = runner.invoke(app, [*args, "--out", str(tmp_path / "b"), "--quiet"])
    assert quiet.exit_code == 0 and quiet.stderr == ""
