"""Warning blocks are printed once: a notebook cell shows stdout and stderr together."""

from __future__ import annotations

from arcsolve.kaggle.arcsolve_kaggle_runner import main as runner
from arcsolve.kaggle.arcsolve_kaggle_runner.common import banner


def test_a_banner_is_printed_once_on_stderr(capsys):
    banner("WARNING", ["no GPU is visible", "second line"])
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "!" * 78 + "\nWARNING:\n  no GPU is visible\n  second line\n" + "!" * 78 + "\n"


def test_the_no_gpu_warning_appears_once(capsys, monkeypatch):
    class Args:
        device = "auto"
        gpus = ""
        problems: list[str] = []

    monkeypatch.setattr(runner.shards, "detect_gpus", lambda timeout: [])
    assert runner.pick_devices(Args(), None) == []
    out, err = capsys.readouterr()
    assert (out + err).count("no GPU is visible") == 1
