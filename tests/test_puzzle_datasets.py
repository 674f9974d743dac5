"""Sudoku and maze dataset directories: the shared format, one blank puzzle id, valid contents."""

from __future__ import annotations

import numpy as np
import pytest

from arcsolve.data.dataset import TokenDataset
from arcsolve.data.puzzle_builders import (
    MazeBuildConfig,
    SudokuBuildConfig,
    build_maze_dataset,
    build_sudoku_dataset,
)
from arcsolve.errors import ConfigError


def test_sudoku_dataset_layout_and_tokens(tmp_path):
    cfg = SudokuBuildConfig(n_train=6, n_test=5, difficulty="medium", aug=3, seed=1)
    build_sudoku_dataset(cfg, tmp_path / "sudoku")
    data = TokenDataset.open(tmp_path / "sudoku")
    assert (data.kind, data.seq_len, data.vocab_size, data.num_puzzle_ids) == ("sudoku", 81, 11, 1)
    train, test = data.split("train"), data.split("test")
    assert (train.num_examples, train.num_puzzles, train.num_groups) == (24, 24, 6)
    assert test.num_examples == 5 and not np.asarray(train.puzzle_ids).any()
    labels = np.asarray(train.labels)
    assert labels.min() >= 2 and labels.max() <= 10  # full solutions, digits only
    inputs = np.asarray(train.inputs)
    given = inputs != 1
    np.testing.assert_array_equal(inputs[given], labels[given])  # givens agree with the solution
    # every version (original and augmented) is a valid sudoku solution
    grids = labels.reshape(-1, 9, 9) - 1
    for grid in grids:
        assert all(sorted(row) == list(range(1, 10)) for row in grid)
        assert all(sorted(col) == list(range(1, 10)) for col in grid.T)


def test_maze_dataset_dihedral_versions_and_fresh_test_mazes(tmp_path):
    cfg = MazeBuildConfig(n_train=4, n_test=3, size=9, min_path=8, dihedral_aug=True, seed=2)
    build_maze_dataset(cfg, tmp_path / "maze")
    data = TokenDataset.open(tmp_path / "maze")
    train, test = data.split("train"), data.split("test")
    assert (data.seq_len, data.vocab_size, train.num_examples, train.num_groups) == (81, 6, 32, 4)
    train_rows = {row.tobytes() for row in np.asarray(train.inputs)}
    assert not any(row.tobytes() in train_rows for row in np.asarray(test.inputs))
    assert (np.asarray(test.labels) == 5).any(axis=1).all()  # every test maze has a marked path


def test_bad_recipes_name_the_field():
    with pytest.raises(ConfigError, match="n_train"):
        SudokuBuildConfig(n_train=0).validate()
    with pytest.raises(ConfigError, match="min_path"):
        MazeBuildConfig(size=5, min_path=40).validate()
