"""Sudoku generator, solver, encoding and augmentation, checked against the plain-Python references."""

from __future__ import annotations

from functools import cache

import numba
import numpy as np
import pytest
from bench_naive import sudoku_count, sudoku_is_valid_solution, sudoku_rate
from hypothesis import given, settings
from hypothesis import strategies as st

from arcsolve.data.sudoku import (
    SUDOKU_LEVELS,
    augment_sudoku,
    count_solutions,
    encode_sudoku,
    generate_sudoku,
    rate_sudoku,
    solve_sudoku,
)

# How many puzzles of each level go through the (slow) plain backtracking count.
NAIVE_COUNT_SAMPLE = {"easy": 12, "medium": 12, "hard": 6, "extreme": 6}


@cache
def generated(difficulty: str, n: int = 24, seed: int = 11):
    return generate_sudoku(n, difficulty, seed)


@pytest.mark.parametrize(
    "difficulty",
    [pytest.param(d, marks=pytest.mark.slow) if d == "extreme" else d for d in sorted(SUDOKU_LEVELS)],
)
def test_generated_puzzles_are_valid_unique_and_meet_their_level(difficulty):
    puzzles, solutions, ratings = generated(difficulty)
    level = SUDOKU_LEVELS[difficulty]
    assert puzzles.dtype == solutions.dtype == np.uint8 and ratings.dtype == np.int32
    assert puzzles.shape == solutions.shape == (24, 81) and ratings.shape == (24,)
    blanks = (puzzles == 0).sum(axis=1)
    assert blanks.min() >= level.min_blanks
    if level.dig_high < 81:
        assert blanks.max() <= level.dig_high
    assert ratings.min() >= level.min_rating and ratings.max() <= level.max_rating
    for i, (puzzle, solution) in enumerate(zip(puzzles.tolist(), solutions.tolist(), strict=True)):
        assert sudoku_is_valid_solution(solution)
        assert all(p in (0, s) for p, s in zip(puzzle, solution, strict=True))  # givens respected
        assert sudoku_rate(puzzle) == (1, ratings[i])  # unique, and the rating is the documented one
        if i < NAIVE_COUNT_SAMPLE[difficulty]:
            assert sudoku_count(puzzle, limit=2) == (1, solution)


@pytest.mark.slow
def test_extreme_puzzles_are_minimal_and_need_guesses():
    puzzles, _, ratings = generated("extreme")
    assert (ratings >= 8).all() and ((puzzles == 0).sum(axis=1) >= 56).all()
    puzzle = puzzles[0]
    for cell in np.flatnonzero(puzzle):  # dug until no given can go: every removal breaks uniqueness
        fewer = puzzle.copy()
        fewer[cell] = 0
        assert count_solutions(fewer)[0] == 2


def test_generation_is_deterministic_and_a_prefix_for_smaller_n():
    first = generate_sudoku(6, "hard", seed=5)
    again = generate_sudoku(6, "hard", seed=5)
    prefix = generate_sudoku(3, "hard", seed=5)
    other = generate_sudoku(6, "hard", seed=6)
    for a, b, p in zip(first, again, prefix, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a[:3], p)
    assert not np.array_equal(first[0], other[0])


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 numba threads")
def test_generation_does_not_depend_on_the_thread_count():
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        single = generate_sudoku(8, "extreme", seed=3)
        numba.set_num_threads(2)
        double = generate_sudoku(8, "extreme", seed=3)
    finally:
        numba.set_num_threads(previous)
    for a, b in zip(single, double, strict=True):
        np.testing.assert_array_equal(a, b)


def rectangle_count(grid: np.ndarray) -> int:
    """Rectangles whose corners read a b / b a: a number no relabelling, row or column shuffle or
    transpose changes."""
    g = grid.reshape(9, 9).astype(int)
    swapped = (g[:, None, :, None] == g[None, :, None, :]) & (g[:, None, None, :] == g[None, :, :, None])
    return int(swapped.sum() - 81) // 4  # ordered [r1, r2, c1, c2]; only r1 == r2 with c1 == c2 is degenerate


def test_complete_grids_are_diverse_not_one_pattern_shuffled():
    _, solutions, _ = generate_sudoku(120, "easy", seed=2)
    assert len({s.tobytes() for s in solutions}) == 120
    # A pattern-plus-shuffles generator would give one value of this symmetry invariant.
    assert len({rectangle_count(s) for s in solutions}) >= 8
    counts = np.stack([(solutions == d).sum(axis=0) for d in range(1, 10)])  # [digit, cell]
    assert counts.min() >= 1 and counts.max() <= 30  # about 120 / 9 = 13 each, no frozen cells


@st.composite
def random_puzzles(draw):
    """A generated solution with a random share of its cells kept, sometimes with one given changed,
    so the puzzles have 0, 1 or many solutions."""
    _, solutions, _ = generated("medium")
    solution = solutions[draw(st.integers(0, len(solutions) - 1))]
    keep = np.array(draw(st.lists(st.booleans(), min_size=81, max_size=81)))
    if keep.sum() < 24:
        keep[np.argsort(keep)[: 24 - keep.sum()]] = True  # few givens make the naive search slow
    puzzle = np.where(keep, solution, 0).astype(np.uint8)
    if draw(st.booleans()):
        puzzle[draw(st.integers(0, 80))] = draw(st.integers(0, 9))
    return puzzle


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(random_puzzles())
def test_numba_solver_matches_the_naive_solvers(puzzle):
    naive_count, naive_solution = sudoku_count(puzzle.tolist(), limit=2)
    assert count_solutions(puzzle)[0] == naive_count
    assert (naive_count, rate_sudoku(puzzle)[0]) == sudoku_rate(puzzle.tolist())
    solutions, solved = solve_sudoku(puzzle)
    assert solved[0] == (naive_count > 0)
    if naive_count == 1:
        assert solutions[0].tolist() == naive_solution
    elif naive_count == 2:
        assert sudoku_is_valid_solution(solutions[0].tolist())
        assert np.all((puzzle == 0) | (puzzle == solutions[0]))
    else:
        assert not solutions[0].any()


def test_solver_edge_cases():
    _, solutions, _ = generated("easy")
    empty = np.zeros(81, np.uint8)
    clash = solutions[0].copy()
    clash[:2] = 5  # two fives in row 0
    counts = count_solutions(np.stack([empty, solutions[0], clash]), limit=3)
    np.testing.assert_array_equal(counts, [3, 1, 0])
    assert rate_sudoku(solutions[:1])[0] == 0
    assert count_solutions(solutions[0].reshape(9, 9))[0] == 1
    solved_grid, ok = solve_sudoku(empty)
    assert ok[0] and sudoku_is_valid_solution(solved_grid[0].tolist())


def test_encoding_is_exact():
    puzzles, solutions, _ = generated("medium")
    inputs, labels = encode_sudoku(puzzles, solutions)
    np.testing.assert_array_equal(inputs, np.where(puzzles == 0, 1, puzzles.astype(int) + 1))
    np.testing.assert_array_equal(labels, solutions.astype(int) + 1)
    assert inputs.min() >= 1 and labels.min() >= 2 and max(inputs.max(), labels.max()) <= 10
    wrong = puzzles.copy()
    cell = int(np.flatnonzero(wrong[0])[0])
    wrong[0, cell] = wrong[0, cell] % 9 + 1
    with pytest.raises(ValueError, match="given digit differs"):
        encode_sudoku(wrong, solutions)


def test_augmentation_keeps_validity_and_uniqueness():
    puzzles, solutions, _ = generated("extreme")
    aug_puzzles, aug_solutions = augment_sudoku(puzzles[:4], solutions[:4], 16, np.random.default_rng(0))
    assert aug_puzzles.shape == aug_solutions.shape == (4, 16, 81) and aug_puzzles.dtype == np.uint8
    flat_p, flat_s = aug_puzzles.reshape(-1, 81), aug_solutions.reshape(-1, 81)
    np.testing.assert_array_equal(count_solutions(flat_p), 1)
    np.testing.assert_array_equal(solve_sudoku(flat_p)[0], flat_s)
    for i in range(4):
        assert ((aug_puzzles[i] == 0).sum(axis=1) == (puzzles[i] == 0).sum()).all()
        assert len({p.tobytes() for p in aug_puzzles[i]}) == 16
    for p, s in zip(flat_p[:3].tolist(), flat_s[:3].tolist(), strict=True):
        assert sudoku_is_valid_solution(s) and sudoku_rate(p)[0] == 1
        assert sudoku_count(p, limit=2) == (1, s)


def test_augmentation_is_deterministic_and_shape_safe():
    puzzles, solutions, _ = generated("easy")
    a = augment_sudoku(puzzles[:3], solutions[:3], 5, np.random.default_rng(7))
    b = augment_sudoku(puzzles[:3], solutions[:3], 5, np.random.default_rng(7))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    empty = augment_sudoku(puzzles[:3], solutions[:3], 0, np.random.default_rng(7))
    assert empty[0].shape == (3, 0, 81)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="difficulty"):
        generate_sudoku(1, "insane", 0)
    with pytest.raises(ValueError, match="shape"):
        count_solutions(np.zeros((2, 80), np.uint8))
    with pytest.raises(ValueError, match="digits"):
        count_solutions(np.full(81, 10))
    with pytest.raises(ValueError, match="digits 1..9"):
        encode_sudoku(np.zeros(81, np.uint8), np.zeros(81, np.uint8))
    assert generate_sudoku(0, "easy", 0)[0].shape == (0, 81)
