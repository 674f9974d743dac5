"""Live tracking (arcsolve/train/trackers.py, arcsolve/predict/adapt_tracking.py): TensorBoard event
files, read back with TensorBoard's own reader, and W&B offline runs, read from their local files,
hold what metrics.jsonl holds at the same steps, also across a kill and a resume; a tracker that
cannot start or fails midway is one warning line and leaves metrics.jsonl as it would have been.

W&B never reaches the network here: offline mode, with every W&B folder under the test's tmp_path.
"""

from __future__ import annotations

import errno
import struct
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import orjson
import pytest
from tiny_runs import tiny_run_config, write_task
from typer.testing import CliRunner

from arcsolve.cli import app
from arcsolve.data.arc_builder import ArcBuildConfig, build_arc_dataset
from arcsolve.predict.config import AdaptConfig, PredictConfig
from arcsolve.predict.run import run_predict
from arcsolve.train import loop
from arcsolve.train.metrics import read_metrics
from arcsolve.train.trackers import TENSORBOARD_DIR, WANDB_STATE_FILE, train_trackers

CANVAS = 4
KILLED_AT = 5  # a simulated kill fails the step after this one; the run's checkpoint is at step 4


@pytest.fixture(autouse=True)
def offline_wandb(tmp_path, monkeypatch):
    for name, value in {"WANDB_MODE": "offline", "WANDB_SILENT": "true", "WANDB_CONSOLE": "off"}.items():
        monkeypatch.setenv(name, value)
    for name in ("WANDB_DIR", "WANDB_CONFIG_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR"):
        folder = tmp_path / "wandb-home" / name.lower()
        folder.mkdir(parents=True)
        monkeypatch.setenv(name, str(folder))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """Two small recolouring tasks on a 4x4 canvas, one augmented version each."""
    root = tmp_path_factory.mktemp("tracking")
    rng = np.random.default_rng(0)
    for name, (a, b) in {"r12": (1, 2), "r34": (3, 4)}.items():
        grids = [(rng.random((3, 3)) < 0.5).astype(int) * a for _ in range(4)]
        pairs = [{"input": g.tolist(), "output": np.where(g == a, b, 0).tolist()} for g in grids]
        write_task(root / "tasks", name, pairs[:3], pairs[3:])
    build_arc_dataset(
        ArcBuildConfig(source=str(root / "tasks"), aug=1, canvas=CANVAS), root / "ds", progress=False
    )
    return root / "ds"


def config(dataset: Path, **train: Any):
    settings = dict(global_batch_size=4, max_steps=6, log_every=1, checkpoint_every=4, lr=1e-3)
    return tiny_run_config(dataset, halt_max_steps=2, **{**settings, **train})


def kill_then_resume(cfg, run: Path, monkeypatch) -> None:
    """Train until the step after KILLED_AT fails (checkpoint at 4, steps up to 5 logged), then
    resume from step 4 to the end."""
    real = loop.train_step

    def dying(state, *args):
        if state.step == KILLED_AT:
            raise InterruptedError("killed")
        return real(state, *args)

    with monkeypatch.context() as patch:
        patch.setattr(loop, "train_step", dying)
        with pytest.raises(InterruptedError):
            loop.run_train(cfg, run, progress=False)
    assert max(r["step"] for r in read_metrics(run / "metrics.jsonl")) == KILLED_AT
    # W&B names an offline run's folder by the second it started and the run id: a resume within the
    # same second (only ever in a test) would write over the killed process's folder.
    resumed = run.parent / "wandb-home" / "resumed"
    resumed.mkdir()
    monkeypatch.setenv("WANDB_DIR", str(resumed))
    loop.run_train(cfg, run, resume=True, progress=False)


def metric_points(run: Path) -> dict[tuple[str, int], float]:
    """(key, step) -> value of every number in metrics.jsonl; no (key, step) appears twice."""
    points: dict[tuple[str, int], float] = {}
    for record in read_metrics(run / "metrics.jsonl"):
        for key, value in record.items():
            if key != "step":
                assert (key, record["step"]) not in points
                points[key, record["step"]] = value
    return points


def tensorboard_reader(folder: Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    reader = EventAccumulator(str(folder), size_guidance={"scalars": 0, "tensors": 0})
    reader.Reload()
    return reader


def tensorboard_points(folder: Path) -> dict[tuple[str, int], float]:
    """What TensorBoard shows: its reader drops events a later writer's purge marker hides."""
    reader = tensorboard_reader(folder)
    points: dict[tuple[str, int], float] = {}
    for tag in reader.Tags()["scalars"]:
        for event in reader.Scalars(tag):
            assert (tag, event.step) not in points, f"{tag} twice at step {event.step}"
            points[tag, event.step] = event.value
    return points


def test_tensorboard_holds_the_metrics_of_a_killed_and_resumed_run(dataset, tmp_path, monkeypatch):
    run = tmp_path / "run"
    kill_then_resume(config(dataset, tensorboard=True), run, monkeypatch)
    expected = metric_points(run)
    assert ("eval/lm_loss", 6) in expected and ("train/lr", 6) in expected and ("params", 0) in expected
    shown = tensorboard_points(run / TENSORBOARD_DIR)
    assert set(shown) == set(expected)
    for point, value in expected.items():
        assert shown[point] == np.float32(value), point  # event files store float32
    assert len(list((run / TENSORBOARD_DIR).glob("events.out.tfevents.*"))) == 2  # one per process
    texts = tensorboard_reader(run / TENSORBOARD_DIR).Tensors("config/text_summary")
    assert [t.step for t in texts] == [0, 5]  # the resolved config, from each process
    config_text = texts[-1].tensor_proto.string_val[0].decode()
    assert "tensorboard = true" in config_text and "hidden_size = 64" in config_text


def wandb_records(path: Path):
    """The protobuf records of a W&B `.wandb` file: a 7-byte header, then LevelDB-log style blocks
    of 32 KiB, each record framed by (crc32, length, type) and split across blocks when it must be."""
    from wandb.proto import wandb_internal_pb2

    data, block, pos, parts = path.read_bytes(), 32768, 7, []
    assert data[:4] == b":W&B"
    while pos + 7 <= len(data):
        left = block - pos % block
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        if left < 7 or (kind == 0 and length == 0):  # the zero padding at a block's end
            pos += left
            continue
        parts.append(data[pos + 7 : pos + 7 + length])
        pos += 7 + length
        if kind in (1, 4):  # a whole record, or the last piece of one
            record = wandb_internal_pb2.Record()
            record.ParseFromString(b"".join(parts))
            parts = []
            yield record


def wandb_history(home: Path, run_id: str) -> tuple[list[dict[str, Any]], list[Any]]:
    """Every history row and the run records of the offline W&B run `run_id`, in order."""
    rows, runs = [], []
    for path in sorted(home.rglob(f"offline-run-*-{run_id}/run-{run_id}.wandb")):
        for record in wandb_records(path):
            kind = record.WhichOneof("record_type")
            if kind == "history":
                items = record.history.item  # a key is in `key` or, in newer versions, `nested_key`
                rows.append(
                    {item.key or ".".join(item.nested_key): orjson.loads(item.value_json) for item in items}
                )
            elif kind == "run":
                runs.append(record.run)
    return rows, runs


@pytest.mark.slow
def test_wandb_offline_run_holds_the_metrics_and_a_resume_continues_it(dataset, tmp_path, monkeypatch):
    run = tmp_path / "run"
    kill_then_resume(config(dataset, wandb_project="arcsolve-tests"), run, monkeypatch)
    run_id = orjson.loads((run / WANDB_STATE_FILE).read_bytes())["run_id"]
    rows, runs = wandb_history(tmp_path / "wandb-home", run_id)
    assert len(runs) == 2 and {(r.project, r.display_name) for r in runs} == {("arcsolve-tests", "run")}
    config_keys = {item.key: orjson.loads(item.value_json) for item in runs[0].config.update}
    assert (
        config_keys["train"]["wandb_project"] == "arcsolve-tests"
        and config_keys["model"]["hidden_size"] == 64
    )
    sent: dict[tuple[str, int], float] = {}
    for row in rows:
        for key, value in row.items():
            if not key.startswith("_") and key != "step":
                assert (key, row["step"]) not in sent, f"{key} twice at step {row['step']}"
                sent[key, row["step"]] = value
    expected = metric_points(run)
    assert set(sent) == set(expected)
    # Step 5 was sent by the killed process (the resumed one skips it): its wall-clock speed differs.
    differ = {point for point in expected if sent[point] != expected[point]}
    assert differ <= {("steps_per_s", KILLED_AT)}


def test_a_tracker_that_cannot_start_or_fails_midway_is_one_warning_line(
    dataset, tmp_path, monkeypatch, capsys
):
    from torch.utils.tensorboard import SummaryWriter

    plain = tmp_path / "plain"
    loop.run_train(config(dataset, max_steps=4), plain, progress=False)
    monkeypatch.setitem(sys.modules, "wandb", None)  # as if not installed
    calls = []

    def disk_full(self, *args, **kwargs):
        calls.append(args)
        if len(calls) > 20:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(SummaryWriter, "add_scalar", disk_full)
    capsys.readouterr()
    tracked = tmp_path / "tracked"
    loop.run_train(config(dataset, max_steps=4, tensorboard=True, wandb_project="p"), tracked, progress=False)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and len(calls) == 21, lines
    assert lines[0].startswith("arcsolve: warning: wandb: cannot import it") and "arcsolve[track]" in lines[0]
    assert (
        lines[1] == "arcsolve: warning: tensorboard: [Errno 28] No space left on device; going on without it"
    )

    def without_speed(run: Path) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in r.items() if k != "steps_per_s"} for r in read_metrics(run / "metrics.jsonl")
        ]

    assert without_speed(tracked) == without_speed(plain)
    assert (tracked / "config.toml").read_text() != (plain / "config.toml").read_text()  # it records the ask


def test_only_rank_0_tracks(dataset, tmp_path):
    cfg = config(dataset, tensorboard=True, wandb_project="p")
    assert train_trackers(cfg, tmp_path, 0, is_main=False) == []
    assert train_trackers(config(dataset), tmp_path, 0, is_main=True) == []
    assert list(tmp_path.iterdir()) == [tmp_path / "wandb-home"]  # nothing written


@pytest.mark.slow
def test_adaptation_curve_reaches_tensorboard(dataset, tmp_path):
    run = tmp_path / "run"
    loop.run_train(config(dataset, max_steps=4), run, progress=False)
    rng = np.random.default_rng(1)
    grids = [(rng.random((3, 3)) < 0.5).astype(int) * 5 for _ in range(3)]
    pairs = [{"input": g.tolist(), "output": np.where(g == 5, 6, 0).tolist()} for g in grids]
    write_task(tmp_path / "tasks", "r56", pairs[:2], [{"input": pairs[2]["input"]}])
    out = tmp_path / "predict" / "submission.json"
    adapt = AdaptConfig(steps=6, aug=1, holdout=True, tensorboard=True)
    cfg = PredictConfig(
        checkpoint=str(run), tasks=str(tmp_path / "tasks"), out=str(out), tta=1, device="cpu", adapt=adapt
    )
    report = run_predict(cfg).adapt
    shown = tensorboard_points(out.parent / TENSORBOARD_DIR / "adapt")
    assert sorted(step for tag, step in shown if tag == "adapt/lm_loss") == list(range(1, 7))
    assert shown["adapt/lm_loss", 1] == np.float32(report.first_loss)
    assert shown["adapt/lm_loss", 6] == np.float32(report.last_loss)
    assert shown["adapt/holdout_exact", 0] == np.float32(report.holdout_before)
    assert shown["adapt/holdout_exact", 6] == np.float32(report.holdout_after)


def test_the_cli_reaches_the_tracking_fields(tmp_path):
    runner = CliRunner()
    config = Path(__file__).resolve().parents[1] / "configs" / "arc1-cpu-tiny.toml"
    sets = [
        "--set",
        "train.tensorboard=true",
        "--set",
        "train.wandb_project=arc",
        "--set",
        "train.wandb_run_name=a1",
    ]
    with mock.patch("arcsolve.train.loop.run_train") as heavy:
        heavy.return_value = {"step": 1}
        result = runner.invoke(app, ["train", str(config), "--out", str(tmp_path / "run"), *sets])
    assert result.exit_code == 0, result.output
    train = heavy.call_args.args[0].train
    assert (train.tensorboard, train.wandb_project, train.wandb_run_name) == (True, "arc", "a1")
    predict = ["predict", "ckpt.pt", "--tasks", "arc1:training", "--out", str(tmp_path / "s.json")]
    sets = ["--set", "adapt.tensorboard=true", "--set", "adapt.wandb_project=arc"]
    with mock.patch("arcsolve.predict.run.run_predict") as heavy:
        heavy.return_value.lines.return_value = ["ok"]
        result = runner.invoke(app, [*predict, *sets])
    assert result.exit_code == 0, result.output
    adapt = heavy.call_args.args[0].adapt
    assert (adapt.tensorboard, adapt.wandb_project) == (True, "arc")
