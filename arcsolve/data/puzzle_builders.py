"""Sudoku and maze dataset builders: generated puzzles in the same on-disk format as ARC.

Both use a single blank puzzle id (0), as TRM does: every example shares one learned prefix vector.
A training group is one generated puzzle plus its augmented versions (one example each); the test
split holds other generated puzzles, unaugmented. Test puzzles are drawn from a different seed
stream than training puzzles, and exact duplicates of a training puzzle are dropped from the test set.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from arcsolve.constants import BLANK_PUZZLE_ID
from arcsolve.data.build_configs import MazeBuildConfig, SudokuBuildConfig, recipe_record
from arcsolve.data.dataset_writer import DatasetWriter
from arcsolve.data.maze import MAZE_VOCAB_SIZE, augment_maze_dihedral, generate_maze, place_in_canvas
from arcsolve.data.sudoku import SUDOKU_VOCAB_SIZE, augment_sudoku, encode_sudoku, generate_sudoku

_TEST_SEED_OFFSET = 1_000_003  # test puzzles come from a seed stream of their own
_CURRICULUM_SEED_OFFSET = 2_000_003  # so does each maze curriculum stage (times the stage number + 1)


def _drop_seen(test_inputs: np.ndarray, train_inputs: np.ndarray) -> np.ndarray:
    """Indices of test rows whose input is not also a training input."""
    seen = {row.tobytes() for row in train_inputs}
    return np.array([i for i, row in enumerate(test_inputs) if row.tobytes() not in seen], dtype=np.int64)


def _write(
    writer: DatasetWriter, train_versions: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray]
) -> None:
    """train_versions: [n, versions, L] inputs and labels; each version is a one-example puzzle."""
    inputs, labels = train_versions
    versions = inputs.shape[1]
    split = writer.split("train")
    for i in range(inputs.shape[0]):
        ids = np.full(versions, BLANK_PUZZLE_ID, dtype=np.int32)
        split.add_group(inputs[i], labels[i], ids, np.ones(versions, dtype=np.int64))
    test_inputs, test_labels = test
    split = writer.split("test")
    for i in range(test_inputs.shape[0]):
        split.add_group(
            test_inputs[i : i + 1], test_labels[i : i + 1], np.zeros(1, np.int32), np.ones(1, np.int64)
        )


def build_sudoku_dataset(cfg: SudokuBuildConfig, out: str | Path, overwrite: bool = False) -> dict:
    cfg.validate()
    started = time.perf_counter()
    puzzles, solutions, ratings = generate_sudoku(cfg.n_train, cfg.difficulty, cfg.seed)
    test_puzzles, test_solutions, test_ratings = generate_sudoku(
        cfg.n_test, cfg.difficulty, cfg.seed + _TEST_SEED_OFFSET
    )
    keep = _drop_seen(test_puzzles, puzzles)
    test_puzzles, test_solutions, test_ratings = test_puzzles[keep], test_solutions[keep], test_ratings[keep]
    rng = np.random.default_rng([cfg.seed, 1])
    aug_puzzles, aug_solutions = augment_sudoku(puzzles, solutions, cfg.aug, rng) if cfg.aug else (None, None)
    versions_p = (
        puzzles[:, None] if aug_puzzles is None else np.concatenate([puzzles[:, None], aug_puzzles], axis=1)
    )
    versions_s = (
        solutions[:, None]
        if aug_solutions is None
        else np.concatenate([solutions[:, None], aug_solutions], axis=1)
    )
    inputs, labels = encode_sudoku(versions_p.reshape(-1, 81), versions_s.reshape(-1, 81))
    n, v = versions_p.shape[:2]
    test = encode_sudoku(test_puzzles, test_solutions)
    fields = {
        "build": {"builder": "sudoku", **recipe_record(cfg)},
        "seed": cfg.seed,
        "mean_blanks": {
            "train": float((puzzles == 0).sum(1).mean()),
            "test": float((test_puzzles == 0).sum(1).mean()),
        },
        "mean_rating": {"train": float(ratings.mean()), "test": float(test_ratings.mean())},
    }
    with DatasetWriter(out, "sudoku", 81, SUDOKU_VOCAB_SIZE, overwrite=overwrite) as writer:
        _write(writer, (inputs.reshape(n, v, 81), labels.reshape(n, v, 81)), test)
        meta = writer.finish(1, fields)
    return {**meta, "seconds": time.perf_counter() - started}


def build_maze_dataset(cfg: MazeBuildConfig, out: str | Path, overwrite: bool = False) -> dict:
    cfg.validate()
    started = time.perf_counter()
    inputs, labels, lengths = generate_maze(cfg.n_train, cfg.size, cfg.min_path, cfg.seed)
    test_inputs, test_labels, test_lengths = generate_maze(
        cfg.n_test, cfg.size, cfg.min_path, cfg.seed + _TEST_SEED_OFFSET
    )
    keep = _drop_seen(test_inputs, inputs)
    test_inputs, test_labels, test_lengths = test_inputs[keep], test_labels[keep], test_lengths[keep]
    stages_in, stages_out, stage_lengths = _curriculum_mazes(cfg)
    if stage_lengths:  # the stages go first: the first epoch reads the first `ordered_groups` groups in order
        inputs, labels = np.concatenate([stages_in, inputs]), np.concatenate([stages_out, labels])
    if cfg.dihedral_aug:
        inputs, labels = augment_maze_dihedral(inputs, labels)  # [n, 8, L], version 0 = identity
    else:
        inputs, labels = inputs[:, None], labels[:, None]
    seq_len = cfg.size * cfg.size
    fields = {
        "build": {"builder": "maze", **recipe_record(cfg)},
        "seed": cfg.seed,
        "mean_path_length": {"train": float(lengths.mean()), "test": float(test_lengths.mean())},
    }
    if stage_lengths:  # only with a curriculum, so builds without one keep their meta.json
        fields["ordered_groups"] = len(stages_in)
        fields["curriculum_mean_path_length"] = stage_lengths
    with DatasetWriter(out, "maze", seq_len, MAZE_VOCAB_SIZE, overwrite=overwrite) as writer:
        _write(writer, (inputs, labels), (test_inputs, test_labels))
        meta = writer.finish(1, fields)
    return {**meta, "seconds": time.perf_counter() - started}


def _curriculum_mazes(cfg: MazeBuildConfig) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """The curriculum stages' mazes in stage order, each in the top-left of the target canvas:
    (inputs, labels) uint8 [n, size*size] and each stage's mean path length (empty lists: no curriculum)."""
    inputs, labels, means = [], [], []
    for k, (side, min_path, n) in enumerate(cfg.curriculum):
        stage_in, stage_out, lengths = generate_maze(
            n, side, min_path, cfg.seed + _CURRICULUM_SEED_OFFSET * (k + 1)
        )
        inputs.append(place_in_canvas(stage_in, cfg.size))
        labels.append(place_in_canvas(stage_out, cfg.size))
        means.append(float(lengths.mean()))
    empty = np.zeros((0, cfg.size * cfg.size), np.uint8)
    return (np.concatenate(inputs) if inputs else empty, np.concatenate(labels) if labels else empty, means)
