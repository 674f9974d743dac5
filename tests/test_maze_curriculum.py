"""The maze size curriculum (data.maze.curriculum): stages of small mazes in the target canvas, stored
first and read first; without it, builds are byte-identical to those made before the option existed."""

from __future__ import annotations

import numpy as np
import pytest
from test_bench_runner import TINY_SUDOKU, _write_config
from test_maze_gen import check_maze

from arcsolve.bench.runner import run_bench
from arcsolve.config import from_dict, read_toml, to_toml
from arcsolve.data.build_configs import MazeBuildConfig
from arcsolve.data.dataset import TokenDataset, dataset_fingerprint
from arcsolve.data.maze import MAZE_WALL, generate_maze, place_in_canvas
from arcsolve.data.puzzle_builders import build_maze_dataset
from arcsolve.errors import ConfigError
from arcsolve.train import loop
from arcsolve.train.batches import TrainBatches
from arcsolve.train.config import DataConfig

STAGES = ((5, 3, 6), (7, 6, 5))  # 6 mazes of 5x5, then 5 of 7x7, before the 9x9 ones


def extent(grid: np.ndarray) -> int:
    """The side of the smallest top-left square that holds every non-wall cell."""
    rows, cols = np.nonzero(grid != MAZE_WALL)
    return int(max(rows.max(), cols.max())) + 1


def test_stages_come_first_in_order_at_their_size_in_the_top_left(tmp_path):
    cfg = MazeBuildConfig(n_train=4, n_test=3, size=9, min_path=8, seed=2, curriculum=STAGES)
    meta = build_maze_dataset(cfg, tmp_path / "maze")
    train = TokenDataset.open(tmp_path / "maze").split("train")
    inputs, labels = np.asarray(train.inputs).reshape(-1, 9, 9), np.asarray(train.labels).reshape(-1, 9, 9)
    assert (train.num_examples, train.num_groups) == (15, 15)
    assert meta["ordered_groups"] == 11 and len(meta["curriculum_mean_path_length"]) == 2
    assert TokenDataset.open(tmp_path / "maze").meta["build"]["curriculum"] == [[5, 3, 6], [7, 6, 5]]
    sides = [5] * 6 + [7] * 5 + [9] * 4
    for i, side in enumerate(sides):
        assert extent(inputs[i]) == side, f"row {i}"  # a maze's corridors reach its last row or column
        np.testing.assert_array_equal(labels[i, side:, :], MAZE_WALL)
        np.testing.assert_array_equal(labels[i, :, side:], MAZE_WALL)
        check_maze(inputs[i, :side, :side], labels[i, :side, :side], side)  # a unique shortest path
    # Stage k is generate_maze's output from a seed stream of its own, placed in the canvas.
    stage_in, stage_out, _ = generate_maze(5, 7, 6, seed=2 + 2_000_003 * 2)
    np.testing.assert_array_equal(np.asarray(train.inputs)[6:11], place_in_canvas(stage_in, 9))
    np.testing.assert_array_equal(np.asarray(train.labels)[6:11], place_in_canvas(stage_out, 9))
    test = np.asarray(TokenDataset.open(tmp_path / "maze").split("test").inputs).reshape(-1, 9, 9)
    assert all(extent(grid) == 9 for grid in test)  # held-out mazes stay at the target size


def test_first_epoch_reads_the_stages_in_order_then_shuffles_everything(tmp_path):
    cfg = MazeBuildConfig(
        n_train=8, n_test=2, size=9, min_path=8, dihedral_aug=True, seed=1, curriculum=STAGES
    )
    meta = build_maze_dataset(cfg, tmp_path / "maze")
    train = TokenDataset.open(tmp_path / "maze").split("train")
    groups, puzzles = np.asarray(train.group_index), np.asarray(train.puzzle_index)
    assert train.num_groups == 19 and train.num_examples == 19 * 8  # every maze with its 8 versions

    def group_of(rows: np.ndarray) -> list[int]:
        puzzle = np.searchsorted(puzzles, rows, side="right") - 1
        return sorted((np.searchsorted(groups, puzzle, side="right") - 1).tolist())

    for accounting in ("reference", "whole_batches"):
        stream = TrainBatches(
            groups, puzzles, 4, seed=5, accounting=accounting, ordered_groups=meta["ordered_groups"]
        )
        firsts = [group_of(stream.next()) for _ in range(2)]
        assert firsts == [[0, 1, 2, 3], [4, 5, 6, 7]]  # one version of each maze, in stored order
        rest = [g for _ in range(2) for g in group_of(stream.next())]
        assert rest[:3] == [8, 9, 10] and set(rest[3:]) <= set(range(11, 19))  # then the 9x9 mazes
    # Epoch 1 shuffles all groups; without ordered_groups epoch 0 is the old shuffled order.
    later = TrainBatches(groups, puzzles, 19, seed=5, accounting="whole_batches", ordered_groups=11)
    later.next()
    assert group_of(later.next()) == list(range(19))
    shuffled = TrainBatches(groups, puzzles, 4, seed=5, accounting="whole_batches")
    assert group_of(shuffled.next()) != [0, 1, 2, 3]
    with pytest.raises(ValueError, match="ordered_groups"):
        TrainBatches(groups, puzzles, 4, seed=5, ordered_groups=20)


def test_without_a_curriculum_builds_and_cache_keys_are_unchanged(tmp_path):
    """Fingerprints (sha256 of meta.json, which holds every array's sha256) and cache folders of
    these recipes as built by the code before the option existed (commit 3679ac6)."""
    before = {
        False: ("2f430062a8dd67f0c9ee14c2d5b59ac1c0e919682b02d469c606cbcfad569ef0", "maze-533e3af4a8eb"),
        True: ("1fa10a769008346b17c4fb04ef766b8a5164d93afad275bf89bbbf3bb6cd57c9", "maze-061e3c43e9ea"),
    }
    for dihedral, (fingerprint, folder) in before.items():
        cfg = MazeBuildConfig(n_train=20, n_test=10, size=9, min_path=8, dihedral_aug=dihedral, seed=3)
        build_maze_dataset(cfg, tmp_path / f"m{dihedral}")
        assert dataset_fingerprint(tmp_path / f"m{dihedral}") == fingerprint
        assert DataConfig(maze=cfg).cache_path().name == folder  # type: ignore[union-attr]
    curriculum = MazeBuildConfig(n_train=20, n_test=10, size=9, min_path=8, seed=3, curriculum=((5, 3, 2),))
    assert DataConfig(maze=curriculum).cache_path().name != "maze-533e3af4a8eb"  # type: ignore[union-attr]


def test_bad_stages_name_the_stage():
    for stages, message in (
        (((9, 8, 10),), r"curriculum\[0\]: size must be 3..8"),
        (((5, 3, 4), (5, 20, 4)), r"curriculum\[1\]: min_path must be 1..12"),
        (((5, 3, 0),), "must be >= 1"),
        (((5, 3),), r"a stage is \[size, min_path, mazes\]"),
    ):
        with pytest.raises(ConfigError, match=message):
            MazeBuildConfig(size=9, min_path=8, curriculum=stages).validate()


def test_toml_round_trip_and_a_tiny_training_run_reads_the_stages_first(tmp_path, monkeypatch):
    text = (
        TINY_SUDOKU.replace(
            '[data.sudoku]\nn_train = 12\nn_test = 5\ndifficulty = "easy"\naug = 1',
            "[data.maze]\nn_train = 8\nn_test = 4\nsize = 9\nmin_path = 8\ncurriculum = [[5, 3, 8], [7, 6, 4]]",
        )
        .replace('variant = "mlp"', 'variant = "attention"\nnum_heads = 2')
        .replace('pos_encoding = "none"', 'pos_encoding = "rope"')
    )
    config = _write_config(tmp_path, text)
    maze = from_dict(MazeBuildConfig, read_toml(config)["data"]["maze"])
    assert maze.curriculum == ((5, 3, 8), (7, 6, 4))
    assert from_dict(MazeBuildConfig, read_toml_text(to_toml({"maze": {**vars(maze)}}))["maze"]) == maze
    made: list[TrainBatches] = []

    def spy(*args, **kwargs):
        made.append(TrainBatches(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(loop, "TrainBatches", spy)
    result = run_bench("maze", config, tmp_path / "run", max_steps=2, echo=None)
    assert result.steps == 2 and made[0].ordered_groups == 12  # the dataset's stages reach the batches


def read_toml_text(text: str) -> dict:
    import tomllib

    return tomllib.loads(text)
