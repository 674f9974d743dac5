"""The benchmark runner: a tiny end-to-end run, the copy-input baseline, the curve, the default configs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from arcsolve.bench.runner import (
    BenchResult,
    copy_input_baseline,
    default_config,
    eval_curve,
    load_bench_config,
    run_bench,
)
from arcsolve.data.sudoku import SUDOKU_LEVELS
from arcsolve.errors import BadInputError, ConfigError

TINY_SUDOKU = """
[data]
cache_dir = "{cache}"

[data.sudoku]
n_train = 12
n_test = 5
difficulty = "easy"
aug = 1
seed = 3

[model]
variant = "mlp"
hidden_size = 16
expansion = 2.0
num_layers = 1
H_cycles = 1
L_cycles = 1
halt_max_steps = 2
puzzle_emb_len = 1
pos_encoding = "none"

[train]
global_batch_size = 4
max_steps = 50
lr = 1e-3
lr_warmup_steps = 2
eval_every = 2
eval_max_examples = 3
log_every = 1
device = "cpu"
"""


def _write_config(tmp_path, text: str):
    path = tmp_path / "bench.toml"
    path.write_text(text.format(cache=(tmp_path / "cache").as_posix()))
    return path


def test_copy_input_baseline_on_a_hand_made_case():
    labels = np.array([[2, 3, 4, 0], [2, 2, 2, 2], [0, 0, 0, 0]], np.uint8)
    inputs = np.array([[2, 3, 1, 1], [2, 2, 2, 2], [5, 5, 5, 5]], np.uint8)
    # row 0: 2 of its 3 labelled tokens copied right; row 1: all right; row 2 has no labels, not scored
    exact, token = copy_input_baseline(inputs, labels, chunk=2)  # chunk 2 splits the rows across chunks
    assert exact == pytest.approx(1 / 2)
    assert token == pytest.approx((2 / 3 + 1) / 2)
    assert copy_input_baseline(inputs[2:], labels[2:]) == (0.0, 0.0)
    with pytest.raises(ValueError):
        copy_input_baseline(inputs, labels[:2])


@pytest.mark.slow
def test_tiny_sudoku_run_reports_every_field(tmp_path):
    printed: list[str] = []
    config = _write_config(tmp_path, TINY_SUDOKU)
    out = tmp_path / "run"
    result = run_bench(
        "sudoku", config, out, ["train.seed=1"], max_steps=5, progress=False, echo=printed.append
    )

    assert isinstance(result, BenchResult)
    assert printed[-len(result.lines()) :] == result.lines()
    report = "\n".join(printed)
    assert f"exact accuracy: {result.exact_accuracy:.4f}" in report
    assert f"token accuracy: {result.token_accuracy:.4f}" in report
    assert "copy-input baseline: exact 0.0000" in report  # a blank is never its own answer
    assert result.steps == 5 and result.num_test == 5  # the final evaluation covers the whole split
    assert 0.0 <= result.exact_accuracy <= result.token_accuracy <= 1.0
    # mid-run evaluations on 3 examples at steps 2 and 4, and the last step's
    assert [(p.step, p.count) for p in result.curve] == [(2, 3), (4, 3), (5, 3)]
    assert result.setting["difficulty"] == "easy" and result.setting["mean_blanks_test"] >= 36

    # the baseline is the givens' share of the cells, averaged over the test puzzles
    test_inputs = np.load(result.dataset_path / "test" / "inputs.npy")
    givens = (test_inputs != 1).mean(axis=1).mean()
    assert result.baseline_token_accuracy == pytest.approx(givens)
    assert result.baseline_exact_accuracy == 0.0

    saved = json.loads((out / "bench.json").read_text())
    assert saved["exact_accuracy"] == result.exact_accuracy and saved["steps"] == 5
    assert eval_curve(out / "metrics.jsonl") == result.curve


@pytest.mark.slow
def test_tiny_maze_run_with_full_evaluation_during_training(tmp_path):
    text = (
        TINY_SUDOKU.replace(
            '[data.sudoku]\nn_train = 12\nn_test = 5\ndifficulty = "easy"\naug = 1',
            "[data.maze]\nn_train = 8\nn_test = 4\nsize = 7\nmin_path = 6",
        )
        .replace('variant = "mlp"', 'variant = "attention"\nnum_heads = 2')
        .replace('pos_encoding = "none"', 'pos_encoding = "rope"')
        .replace("eval_max_examples = 3", "eval_max_examples = 0")
    )
    result = run_bench("maze", _write_config(tmp_path, text), tmp_path / "run", max_steps=3, echo=None)
    assert result.steps == 3 and result.num_test == 4
    assert result.curve[-1].step == 3 and result.curve[-1].exact_accuracy == result.exact_accuracy
    assert result.baseline_exact_accuracy == 0.0 and 0.5 < result.baseline_token_accuracy < 1.0
    assert result.setting["size"] == 7 and result.setting["mean_path_length_test"] >= 6


def test_config_mismatch_and_unknown_kind_are_errors(tmp_path):
    config = _write_config(tmp_path, TINY_SUDOKU)
    with pytest.raises(ConfigError, match="not a maze recipe"):
        load_bench_config("maze", config)
    with pytest.raises(BadInputError, match="unknown benchmark"):
        run_bench("chess", config, tmp_path / "run", echo=None)
    with pytest.raises(ConfigError, match="unknown key"):
        load_bench_config("sudoku", config, ["model.L_cycels=3"])


def test_default_configs_resolve_and_meet_the_difficulty_bar():
    """The bar of the benchmark target: sudoku with >= 40 blanks on average (unique solutions are
    guaranteed by the generator); the maze default is the paper's attention variant on 7x7 mazes
    (issue 25: it does not learn 15x15 in 30 minutes on 2 cores), and the 15x15 config keeps the
    target's bar, mazes of >= 15x15 whose shortest path is >= 20 moves."""
    path, cfg = load_bench_config("sudoku")
    assert path == default_config("sudoku") and path.name == "sudoku-cpu.toml"
    sudoku = cfg.data.sudoku
    assert sudoku is not None
    level = SUDOKU_LEVELS[sudoku.difficulty]
    assert (level.dig_low + level.dig_high) / 2 >= 40  # dig targets are drawn uniformly from this range
    _, cfg = load_bench_config("maze")
    maze = cfg.data.maze
    assert maze is not None and cfg.model.variant == "attention" and cfg.model.pos_encoding == "rope"
    assert maze.size == 7 and maze.min_path >= 6
    _, cfg = load_bench_config("maze", default_config("maze").with_name("maze-15x15-conv.toml"))
    maze = cfg.data.maze
    assert maze is not None and maze.size >= 15 and maze.min_path >= 20
