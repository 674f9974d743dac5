"""Test-time adaptation, the time budget, SIGTERM, and the predict flags of issue #7.

The model fixture is a tiny TRM trained on twelve "recolour colour a to colour b" tasks (4 colour
permuted versions each). It learns the rule family, with the pair (a, b) carried by the task
embedding. The unseen task recolours 5 to 7: the blank embedding cannot know the target colour,
an adapted embedding can.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from unittest import mock

import numpy as np
import orjson
import pytest
import torch
from tiny_runs import tiny_run_config, write_task
from typer.testing import CliRunner

from arcsolve.cli import app
from arcsolve.data.arc_builder import ArcBuildConfig, build_arc_dataset
from arcsolve.data.tasks import load_tasks
from arcsolve.model.config import ModelConfig
from arcsolve.predict.adapt import (
    AdaptReport,
    adapt_examples,
    exact_accuracy,
    start_adaptation,
    trainable_weights,
)
from arcsolve.predict.budget import plan_work
from arcsolve.predict.config import AdaptConfig, PredictConfig
from arcsolve.predict.model import load_predict_model
from arcsolve.predict.run import run_predict
from arcsolve.submission import validate_submission
from arcsolve.train.loop import run_train

CANVAS = 5
ADAPT_STEPS = 200
TRAINED_PAIRS = [
    (1, 3),
    (2, 4),
    (3, 9),
    (4, 1),
    (6, 2),
    (8, 5),
    (9, 6),
    (7, 8),
    (2, 9),
    (5, 1),
    (6, 3),
    (8, 4),
]


def recolour_pairs(rng: np.random.Generator, a: int, b: int, n: int = 4) -> list[dict]:
    pairs = []
    for _ in range(n):
        grid = (rng.random((4, 4)) < 0.5).astype(int) * a
        pairs.append({"input": grid.tolist(), "output": np.where(grid == a, b, 0).tolist()})
    return pairs


@pytest.fixture(scope="module")
def recolour(tmp_path_factory) -> tuple[Path, Path]:
    """(run dir of the tiny model, folder with the unseen task r57 and the trained task r13)."""
    root = tmp_path_factory.mktemp("adapt")
    rng = np.random.default_rng(0)
    for a, b in TRAINED_PAIRS:
        pairs = recolour_pairs(rng, a, b)
        write_task(root / "train_tasks", f"r{a}{b}", pairs[:-1], pairs[-1:])
        if (a, b) == (1, 3):
            write_task(root / "tasks", "r13", pairs[:-1], pairs[-1:])
    pairs = recolour_pairs(rng, 5, 7)
    write_task(root / "tasks", "r57", pairs[:-1], pairs[-1:])
    build_arc_dataset(
        ArcBuildConfig(source=str(root / "train_tasks"), aug=4, canvas=CANVAS), root / "ds", progress=False
    )
    train = dict(
        global_batch_size=24, max_steps=400, lr=3e-3, lr_warmup_steps=10, puzzle_emb_lr=3e-2, log_every=100
    )
    cfg = tiny_run_config(root / "ds", halt_max_steps=2, **train)
    run_train(cfg, root / "run", progress=False)
    return root / "run", root / "tasks"


def unseen_only(recolour) -> list:
    return [t for t in load_tasks(str(recolour[1])) if t.task_id == "r57"]


def adapted(recolour, **adapt):
    net = load_predict_model(recolour[0], torch.device("cpu"))
    cfg = PredictConfig(
        checkpoint="-", tasks="-", out="-.json", adapt=AdaptConfig(steps=ADAPT_STEPS, **adapt)
    )
    return start_adaptation(net, unseen_only(recolour), cfg, batch_size=32)


@pytest.mark.slow
def test_adaptation_learns_an_unseen_task_the_blank_embedding_cannot(recolour):
    net, adapter = adapted(recolour)
    ex = adapter.examples
    ids = adapter.first_id + ex.version
    assert ex.task_ids == ("r57",) and len(ex.aug_rows) == 9 and len(ex) == 9 * 3
    blank = exact_accuracy(net.model, ex.inputs, ex.labels, np.zeros_like(ids), 64)
    mean_init = exact_accuracy(net.model, ex.inputs, ex.labels, ids, 64)
    adapter.run(ADAPT_STEPS)
    after = exact_accuracy(net.model, ex.inputs, ex.labels, ids, 64)
    # Bounds, not exact values: a fixture trained on another CPU (other float rounding) is another
    # model. Over 29 fixture seeds, blank and mean_init stayed <= 0.333 and `after` (200 steps) was
    # 1.0, 0.889 or 0.778: a colour version whose (a, b) pair no trained version had can stay wrong.
    assert blank < 0.5 and mean_init < 0.5 and after >= 0.65 and after - mean_init >= 0.3
    report = adapter.fill_report(AdaptReport())
    assert (
        report.steps == ADAPT_STEPS
        and report.last_loss < report.first_loss  # per-row ACT loss: fresh carries stay high
        and report.last_exact >= 0.65
    )


@pytest.mark.slow
@pytest.mark.parametrize("which", ["none", "last", "all"])
def test_only_new_rows_change_and_weights_only_when_asked(recolour, which):
    before = load_predict_model(recolour[0], torch.device("cpu")).model.state_dict()
    net, adapter = adapted(recolour, model=which)
    adapter.run(5)
    after = net.model.state_dict()
    n = before["puzzle_emb"].shape[0]
    assert torch.equal(after["puzzle_emb"][:n], before["puzzle_emb"])  # trained rows bit-identical
    new = after["puzzle_emb"][n:]
    assert new.shape[0] == len(adapter.examples.aug_rows)
    assert not torch.equal(new, before["puzzle_emb"][1:].mean(0).expand_as(new))  # they did train
    trained = {
        name
        for name, p in net.model.named_parameters()
        if any(p is q for q in trainable_weights(net.model, which))
    }
    changed = {k for k, v in before.items() if k != "puzzle_emb" and not torch.equal(v, after[k])}
    assert changed <= trained
    assert bool(changed) == (which != "none")
    if which == "last":
        assert trained and all(k.startswith(("blocks.0.", "lm_head.", "q_head.")) for k in trained)
    assert all(p.requires_grad for p in net.model.parameters())  # flags restored for whoever comes next


@pytest.mark.slow
def test_examples_skip_known_tasks_and_never_read_test_outputs(recolour):
    tasks = load_tasks(str(recolour[1]))
    net = load_predict_model(recolour[0], torch.device("cpu"))
    cfg = AdaptConfig(aug=3)
    ex = adapt_examples(tasks, net.task_ids, CANVAS, cfg, seed=1)
    assert ex.task_ids == ("r57",)  # r13 is a trained task
    assert ex.aug_rows[0, 1] == 0 and ex.aug_rows[0, 2:].tolist() == list(range(10))  # identity first
    assert len({row.tobytes() for row in ex.aug_rows[:, 1:]}) == len(ex.aug_rows)  # distinct versions
    hidden = [replace(t, test_outputs=None) for t in tasks]
    same = adapt_examples(hidden, net.task_ids, CANVAS, cfg, seed=1)
    assert np.array_equal(same.inputs, ex.inputs) and np.array_equal(same.labels, ex.labels)
    other = adapt_examples(tasks, net.task_ids, CANVAS, cfg, seed=2)
    assert not np.array_equal(other.aug_rows, ex.aug_rows)
    held = adapt_examples(tasks, net.task_ids, CANVAS, replace(cfg, holdout=True), seed=1)
    assert len(held) == len(held.aug_rows) * 2 and len(held.held_inputs) == len(held.aug_rows)
    assert adapt_examples(tasks, net.task_ids, 3, cfg, seed=1).task_ids == ()  # nothing fits a 3x3 canvas


def predict(recolour, out: Path, **changes):
    fields = {"tta": 4, "device": "cpu", **changes}
    cfg = PredictConfig(checkpoint=str(recolour[0]), tasks=str(recolour[1]), out=str(out), **fields)
    return run_predict(cfg)


@pytest.mark.slow
def test_predict_with_adaptation_answers_the_unseen_task_and_is_reproducible(recolour, tmp_path):
    plain = predict(recolour, tmp_path / "plain" / "submission.json")
    assert plain.adapt is None and plain.unknown_tasks == 1
    runs = [
        predict(recolour, tmp_path / k / "submission.json", adapt=AdaptConfig(steps=ADAPT_STEPS))
        for k in "ab"
    ]
    first, second = ((tmp_path / k / "submission.json").read_bytes() for k in "ab")
    assert first == second  # same seed: byte-identical
    assert (tmp_path / "a" / "predictions.jsonl").read_bytes() == (
        tmp_path / "b" / "predictions.jsonl"
    ).read_bytes()
    summary = runs[0]
    assert summary.unknown_tasks == 0 and summary.adapt.tasks == 1 and summary.adapt.steps == ADAPT_STEPS
    # r13 is known to both runs. Whether the unadapted run's blank embedding happens to get r57's
    # one test output right depends on the fixture model (colour-permuted views sometimes map 5->7
    # onto a trained pair), so that run is not asked to fail; the first test checks that control.
    assert summary.score == 1.0
    assert any(line.startswith("adapt: 1 task(s)") for line in summary.lines())
    assert summary.to_dict()["adapt"]["steps"] == ADAPT_STEPS


@pytest.mark.slow
def test_holdout_scores_adaptation_without_test_outputs(recolour, tmp_path):
    summary = predict(recolour, tmp_path / "s.json", adapt=AdaptConfig(steps=ADAPT_STEPS, holdout=True))
    report = summary.adapt
    assert report.holdout_pairs == report.versions and report.examples == report.versions * 2
    assert report.holdout_before < 0.5 and report.holdout_after >= 0.65
    assert report.holdout_tokens_before < report.holdout_tokens_after and report.holdout_tokens_after > 0.85
    assert "held-out pairs" in report.line()


@pytest.mark.slow
def test_float16_forward_dtype_runs_float32_on_cpu(recolour, tmp_path):
    cfg = ModelConfig(forward_dtype="float16")
    assert cfg.dtype_for(torch.device("cpu")) == torch.float32
    assert cfg.dtype_for(torch.device("cuda")) == torch.float16
    net = load_predict_model(recolour[0], torch.device("cpu"), forward_dtype="float16")
    assert net.model.cfg.forward_dtype == "float16"
    predict(recolour, tmp_path / "a.json")
    predict(recolour, tmp_path / "b.json", forward_dtype="float16")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_plan_work_splits_the_time():
    full = plan_work(100.0, 0.1, 0.01, 500, 1000, 100)
    assert (full.steps, full.views) == (500, 1000)
    tight = plan_work(10.0, 0.1, 0.01, 500, 1000, 100)  # views need 10 s alone: they get half
    assert (
        tight.views == 500
        and tight.steps == 50
        and tight.adapt_seconds + tight.view_seconds == pytest.approx(10)
    )
    small = plan_work(10.0, 0.1, 0.001, 500, 1000, 100)  # views need 1 s: adaptation gets the rest
    assert small.views == 1000 and small.steps == 90
    starved = plan_work(1.0, 0.1, 0.01, 500, 1000, 100)  # the identity views come first
    assert starved.steps == 0 and starved.views == 100
    assert plan_work(-5.0, 0.1, 0.01, 500, 1000, 100).steps == 0


@pytest.mark.slow
def test_time_budget_is_kept_and_shared_between_adaptation_and_views(recolour, tmp_path):
    budget = 8.0
    began = time.monotonic()
    summary = predict(
        recolour, tmp_path / "s.json", time_budget=budget, tta=1000, adapt=AdaptConfig(steps=10**6)
    )
    elapsed = time.monotonic() - began
    assert elapsed <= 1.1 * budget and summary.seconds <= 1.1 * budget
    assert summary.adapt.steps > 10  # adaptation got a share of the time...
    assert summary.views >= 2  # ...and every test input got at least its identity view
    assert (
        validate_submission(orjson.loads((tmp_path / "s.json").read_bytes()), load_tasks(str(recolour[1])))
        == []
    )


runner = CliRunner()
BASE = ["predict", "ckpt.pt", "--tasks", "arc1:training", "--out", "sub.json"]


@pytest.mark.parametrize(
    ("flags", "field"),
    [
        (["--adapt-model", "some"], "adapt.model"),
        (["--adapt-steps", "-1"], "adapt.steps"),
        (["--adapt-aug", "-2"], "adapt.aug"),
        (["--adapt-lr", "-0.1"], "adapt.lr"),
        (["--adapt-lr", "nan"], "adapt.lr"),
        (["--adapt-model-lr", "-1"], "adapt.model_lr"),
        (["--adapt-batch-size", "-3"], "adapt.batch_size"),
        (["--forward-dtype", "half"], "forward_dtype"),
    ],
)
def test_bad_flags_are_one_line_errors(flags, field):
    with mock.patch("arcsolve.predict.run.run_predict") as heavy:
        result = runner.invoke(app, BASE + flags)
    assert result.exit_code == 2 and not heavy.called
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("arcsolve: error: predict")
    assert field in result.stderr


def test_flags_reach_the_config():
    with mock.patch("arcsolve.predict.run.run_predict") as heavy:
        heavy.return_value.lines.return_value = ["ok"]
        flags = ["--adapt-steps", "7", "--adapt-lr", "0.5", "--adapt-aug", "3", "--adapt-model", "last"]
        flags += ["--adapt-model-lr", "0.01", "--adapt-batch-size", "5", "--adapt-holdout"]
        result = runner.invoke(app, BASE + flags + ["--forward-dtype", "float16"])
    assert result.exit_code == 0, result.output
    cfg = heavy.call_args.args[0]
    assert cfg.adapt == AdaptConfig(
        steps=7, lr=0.5, aug=3, model="last", model_lr=0.01, batch_size=5, holdout=True
    )
    assert cfg.forward_dtype == "float16" and cfg.adapt.weights_lr() == 0.01
    assert AdaptConfig(lr=0.5).weights_lr() == 0.05


@pytest.mark.slow
def test_sigterm_leaves_a_valid_submission_and_exits_nonzero(recolour, tmp_path):
    out = tmp_path / "submission.json"
    command = [sys.executable, "-m", "arcsolve", "predict", str(recolour[0]), "--tasks", str(recolour[1])]
    command += ["--out", str(out), "--device", "cpu", "--adapt-steps", "1000000", "--time-budget", "120"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while not out.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert out.exists(), "no fallback submission while the run was starting"
        time.sleep(2.0)  # into the adaptation
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert time.monotonic() - sent < 10
    assert proc.returncode == 1 and "stopped by SIGTERM" in stderr and stderr.count("\n") == 1
    assert validate_submission(orjson.loads(out.read_bytes()), load_tasks(str(recolour[1]))) == []


@pytest.mark.slow
@pytest.mark.parametrize("budget", [0.0, 300.0])
def test_votes_reach_the_disk_while_views_run_under_a_budget(recolour, tmp_path, monkeypatch, budget):
    import arcsolve.predict.run as run

    writes = []
    real = run.write_submission
    monkeypatch.setattr(run, "WRITE_EVERY", 0.0)
    monkeypatch.setattr(run, "write_submission", lambda *a, **k: writes.append(1) or real(*a, **k))
    predict(recolour, tmp_path / "s.json", time_budget=budget, batch_size=2)
    # 8 views in batches of 2: a save is due before every batch (WRITE_EVERY = 0), then the final write
    assert len(writes) == (5 if budget else 1)


@pytest.mark.slow
def test_adaptation_trains_with_the_checkpoints_optimizer_and_settings(recolour):
    """The fixture was trained with AdamW (no weight decay): adaptation uses that, not a hard-coded
    AdamATan2, at the adaptation rates, through the training step (its state counts the steps)."""
    net, adapter = adapted(recolour, model="all", lr=2e-2, model_lr=5e-3)
    assert type(adapter.state.optimizer) is torch.optim.AdamW
    group = adapter.state.optimizer.param_groups[0]
    trained = net.run_cfg.train
    assert group["betas"] == (trained.beta1, trained.beta2) and group["weight_decay"] == trained.weight_decay
    assert group["lr"] == 5e-3 and adapter.state.embedding_optimizer.param_groups[0]["lr"] == 2e-2
    adapter.run(3)
    assert adapter.state.step == 3 and adapter.steps == 3
    _, frozen = adapted(recolour, model="none")
    assert frozen.state.optimizer is None
