"""Every shipped config loads strictly, and the paper-size ones match the paper's numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from arcsolve.errors import ConfigError
from arcsolve.model.trm import count_parameters_for
from arcsolve.train.config import load_run_config

CONFIGS = sorted((Path(__file__).parent.parent / "configs").glob("*.toml"))


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_loads(path):
    cfg = load_run_config(path)
    assert cfg.data.recipe() is not None or cfg.data.path is not None


def test_paper_attention_model_is_about_7m_parameters():
    cfg = load_run_config(Path("configs/arc1-trm-att.toml"))
    count = count_parameters_for(cfg.model, seq_len=900, vocab_size=12, num_puzzle_ids=876_406)
    assert abs(count.weights - 6.83e6) / 6.83e6 < 0.01
    assert count.puzzle_embedding == 876_406 * 512  # reported apart, not hidden


def test_paper_sudoku_mlp_model_is_about_5m_parameters():
    cfg = load_run_config(Path("configs/sudoku-trm-mlp.toml"))
    count = count_parameters_for(cfg.model, seq_len=81, vocab_size=11, num_puzzle_ids=1)
    assert abs(count.weights - 5.0e6) / 5.0e6 < 0.02


def test_overrides_and_unknown_keys(tmp_path):
    cfg = load_run_config(Path("configs/arc1-cpu-tiny.toml"), ["model.hidden_size=64", "train.max_steps=3"])
    assert cfg.model.hidden_size == 64 and cfg.train.max_steps == 3
    with pytest.raises(ConfigError, match="unknown key 'model.L_cycels'"):
        load_run_config(Path("configs/arc1-cpu-tiny.toml"), ["model.L_cycels=3"])
    with pytest.raises(ConfigError, match="exactly one of"):
        load_run_config(Path("configs/arc1-cpu-tiny.toml"), ["data.path='x'"])
