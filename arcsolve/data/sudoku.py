"""Sudoku generator, solver and augmentation for the sanity benchmark (NumPy in, NumPy out).

Puzzles and solutions are uint8 [n, 81], row-major, 0 = blank, digits 1..9. Every generated puzzle has
exactly one solution.

Generation (numba kernels in arcsolve.data.sudoku_kernels): a random complete grid (the three diagonal boxes
get random permutations, a search with random digit order fills the rest, then a random band/row/
stack/column shuffle and transpose), then cells are blanked in random order, each kept blank only if
the solution stays unique (checked with a bitmask solver that counts solutions up to 2). Each attempt
draws a target number of blanks from the level's dig range; the puzzle is kept if it passes the level's
thresholds, else a fresh grid is drawn.

Rating: the number of guesses (digits tried at branch points) that a fixed solver makes to search the
whole tree, i.e. to find the solution and prove there is no second one. The solver propagates naked and
hidden singles to a fixed point and branches on the empty cell with the fewest candidates (lowest index
on ties), digits lowest first. Rating 0 = singles alone solve it; a puzzle that needs any guess rates at
least 2 (both branches of the first guess are searched).

Levels (dig range, min blanks, rating range), with the attempts per kept puzzle measured on 1000:
- easy:    dig to 36..45 blanks, rating 0 (singles suffice)                      1.0 attempts
- medium:  dig to 46..53 blanks, any rating (88% rate 0)                         1.0 attempts
- hard:    dig until no given can go (a minimal puzzle), >= 54 blanks, rating 2..7   ~2.5 attempts
- extreme: dig until minimal, >= 56 blanks (<= 25 givens), rating >= 8           ~6.3 attempts

Randomness: `seed` feeds np.random.default_rng, which draws one uint32 seed per puzzle; the kernel calls
np.random.seed(that) (numba's own per-thread state) before the puzzle. So the output depends only on
(seed, n, difficulty), not on the thread count, and a smaller n gives a prefix of a larger one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from arcsolve.data import sudoku_kernels as kernels

SUDOKU_CELLS = 81
SUDOKU_PAD, SUDOKU_BLANK, SUDOKU_DIGIT_OFFSET = 0, 1, 1  # token = digit + 1, so digits 1..9 -> 2..10
SUDOKU_VOCAB_SIZE = 11
_NO_LIMIT = 2**31 - 1
_MAX_ATTEMPTS = 10_000


@dataclass(frozen=True)
class SudokuLevel:
    """Thresholds of one difficulty level. A dig target of 81 means: dig until no cell can be blanked."""

    dig_low: int
    dig_high: int
    min_blanks: int
    min_rating: int
    max_rating: int = _NO_LIMIT

    def as_array(self) -> np.ndarray:
        fields = (self.dig_low, self.dig_high, self.min_blanks, self.min_rating, self.max_rating)
        return np.array(fields, np.int64)


SUDOKU_LEVELS = {
    "easy": SudokuLevel(dig_low=36, dig_high=45, min_blanks=36, min_rating=0, max_rating=0),
    "medium": SudokuLevel(dig_low=46, dig_high=53, min_blanks=46, min_rating=0),
    "hard": SudokuLevel(dig_low=81, dig_high=81, min_blanks=54, min_rating=2, max_rating=7),
    "extreme": SudokuLevel(dig_low=81, dig_high=81, min_blanks=56, min_rating=8),
}


def item_seeds(n: int, seed: int) -> np.ndarray:
    """One uint32 kernel seed per item, drawn from `seed` (so n items are a prefix of n + 1)."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    return np.random.default_rng(seed).integers(0, 2**32, size=n, dtype=np.uint64).astype(np.uint32)


def generate_sudoku(
    n: int, difficulty: str = "extreme", seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`n` unique-solution puzzles of a level: (puzzles uint8 [n,81], solutions uint8 [n,81], ratings int32 [n])."""
    if difficulty not in SUDOKU_LEVELS:
        raise ValueError(f"difficulty must be one of {sorted(SUDOKU_LEVELS)}, got {difficulty!r}")
    level = SUDOKU_LEVELS[difficulty].as_array()
    puzzles, solutions, ratings, attempts = kernels.sudoku_batch(item_seeds(n, seed), level, _MAX_ATTEMPTS)
    if n and attempts.min() < 0:
        raise RuntimeError(f"no {difficulty} puzzle found in {_MAX_ATTEMPTS} attempts (seed {seed})")
    return puzzles, solutions, ratings


def _as_grids(grids: npt.ArrayLike, name: str, allow_blank: bool = True) -> np.ndarray:
    """[n, 81] or [n, 9, 9] (or one grid) of digits -> contiguous uint8 [n, 81], validated."""
    array = np.asarray(grids)
    if array.shape[-2:] == (9, 9):
        array = array.reshape(*array.shape[:-2], SUDOKU_CELLS)
    if array.ndim == 1:
        array = array[None]
    if array.ndim != 2 or array.shape[1] != SUDOKU_CELLS:
        raise ValueError(f"{name} must have shape [n, 81] or [n, 9, 9], got {np.shape(grids)}")
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must hold integers, got dtype {array.dtype}")
    low = 0 if allow_blank else 1
    if array.size and (array.min() < low or array.max() > 9):
        raise ValueError(f"{name} must hold digits {low}..9 (0 = blank)")
    return np.ascontiguousarray(array, dtype=np.uint8)


def count_solutions(puzzles: npt.ArrayLike, limit: int = 2) -> np.ndarray:
    """Number of solutions of each puzzle, capped at `limit` (int32 [n]); 0 for contradictory givens."""
    if limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    counts, _, _ = kernels.sudoku_solve_batch(_as_grids(puzzles, "puzzles"), limit)
    return counts


def solve_sudoku(puzzles: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """(solutions uint8 [n,81], solved bool [n]). With several solutions, the first in the solver's
    order (lowest digits first) is returned; an unsolvable puzzle gets a row of zeros."""
    counts, solutions, _ = kernels.sudoku_solve_batch(_as_grids(puzzles, "puzzles"), 1)
    return solutions, counts > 0


def rate_sudoku(puzzles: npt.ArrayLike) -> np.ndarray:
    """The rating of each puzzle (int32 [n]): guesses needed to search the whole tree (see module doc)."""
    _, _, guesses = kernels.sudoku_solve_batch(_as_grids(puzzles, "puzzles"), 2)
    return guesses


def encode_sudoku(puzzles: npt.ArrayLike, solutions: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Tokens for the model: (inputs, labels) uint8 [n, 81], blank -> 1, digit d -> d + 1 (PAD 0 unused)."""
    puzzles = _as_grids(puzzles, "puzzles")
    solutions = _as_grids(solutions, "solutions", allow_blank=False)
    if puzzles.shape != solutions.shape:
        raise ValueError(f"puzzles {puzzles.shape} and solutions {solutions.shape} differ in shape")
    given = puzzles != 0
    if np.any(puzzles[given] != solutions[given]):
        raise ValueError("a puzzle's given digit differs from its solution")
    return puzzles + SUDOKU_DIGIT_OFFSET, solutions + SUDOKU_DIGIT_OFFSET


def _line_orders(rng: np.random.Generator, m: int) -> np.ndarray:
    """m random row (or column) orders [m, 9]: bands shuffled, then rows within each band."""
    bands = rng.permuted(np.tile(np.arange(3), (m, 1)), axis=1)
    inner = rng.permuted(np.tile(np.arange(3), (m, 3, 1)), axis=2)
    return (bands[:, :, None] * 3 + inner).reshape(m, 9)


def augment_sudoku(
    puzzles: npt.ArrayLike, solutions: npt.ArrayLike, k: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """`k` random validity-preserving versions of each puzzle: (puzzles, solutions) uint8 [n, k, 81].

    Each version relabels the digits 1..9 (blank stays 0), shuffles the bands and the rows inside each
    band, the stacks and the columns inside each stack, then transposes with probability 0.5. The
    same transform goes to the puzzle and its solution, so uniqueness is kept too.
    """
    puzzles = _as_grids(puzzles, "puzzles")
    solutions = _as_grids(solutions, "solutions", allow_blank=False)
    if puzzles.shape != solutions.shape:
        raise ValueError(f"puzzles {puzzles.shape} and solutions {solutions.shape} differ in shape")
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    n = len(puzzles)
    m = n * k
    rows, cols = _line_orders(rng, m), _line_orders(rng, m)
    source = rows[:, :, None] * 9 + cols[:, None, :]  # [m, 9, 9]: the old cell at each new cell
    transpose = rng.random(m) < 0.5
    source[transpose] = source[transpose].transpose(0, 2, 1)
    digit_map = np.zeros((m, 10), np.uint8)
    digit_map[:, 1:] = rng.permuted(np.tile(np.arange(1, 10, dtype=np.uint8), (m, 1)), axis=1)
    source = source.reshape(m, SUDOKU_CELLS)
    out = []
    for grids in (puzzles, solutions):
        moved = np.take_along_axis(np.repeat(grids, k, axis=0), source, axis=1)
        out.append(np.take_along_axis(digit_map, moved, axis=1).reshape(n, k, SUDOKU_CELLS))
    return out[0], out[1]
