"""Numba kernels behind the Sudoku generator. Private: call arcsolve.data.sudoku.

Randomness: each batch kernel takes one uint32 seed per item and calls `np.random.seed(seed)` at the
start of that item. Numba keeps its own random state per thread, apart from NumPy's global state, so
item i depends only on seeds[i], whatever the number of threads or how prange schedules the items.

Sudoku state: one int32 row of 108 entries: cells 0..80 hold digits (0 = empty), then the used-digit
bitmask of each of the 27 units (9 rows, 9 columns, 9 boxes), bit d-1 for digit d.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from arcsolve.constants import JIT_FLAGS, PARALLEL_FLAGS
from arcsolve.data.kernel_copy import copy_into

ALL_DIGITS = 0x1FF
_STATE_LEN = 81 + 27
_MAX_DEPTH = 82  # every guess fills at least one cell


def _sudoku_tables() -> tuple[np.ndarray, ...]:
    cells = np.arange(81)
    row, col = cells // 9, cells % 9
    box = (row // 3) * 3 + col // 3
    units = np.empty((27, 9), np.int64)
    for i in range(9):
        units[i] = i * 9 + np.arange(9)
        units[9 + i] = np.arange(9) * 9 + i
        units[18 + i] = cells[box == i]
    digit_of_bit = np.zeros(ALL_DIGITS + 1, np.int64)
    for d in range(1, 10):
        digit_of_bit[1 << (d - 1)] = d
    popcount = np.array([bin(m).count("1") for m in range(ALL_DIGITS + 1)], np.int64)
    return row, col, box, units, digit_of_bit, popcount


_ROW, _COL, _BOX, _UNITS, _DIGIT_OF_BIT, _POPCOUNT = _sudoku_tables()


@njit(**JIT_FLAGS)
def _free(s, cell):
    return ALL_DIGITS & ~(s[81 + _ROW[cell]] | s[90 + _COL[cell]] | s[99 + _BOX[cell]])


@njit(**JIT_FLAGS)
def _place(s, cell, digit):
    """Write `digit` into `cell`; False if a filled cell or a unit already rules it out."""
    if s[cell] != 0:
        return s[cell] == digit
    bit = 1 << (digit - 1)
    if _free(s, cell) & bit == 0:
        return False
    s[cell] = digit
    s[81 + _ROW[cell]] |= bit
    s[90 + _COL[cell]] |= bit
    s[99 + _BOX[cell]] |= bit
    return True


@njit(**JIT_FLAGS)
def _propagate(s):
    """Naked and hidden singles to a fixed point; False on a contradiction."""
    changed = True
    while changed:
        changed = False
        for cell in range(81):
            if s[cell] == 0:
                free = _free(s, cell)
                if free == 0:
                    return False
                if free & (free - 1) == 0:
                    _place(s, cell, _DIGIT_OF_BIT[free])
                    changed = True
        for u in range(27):
            once = 0
            twice = 0
            for k in range(9):
                cell = _UNITS[u, k]
                if s[cell] == 0:
                    free = _free(s, cell)
                    twice |= once & free
                    once |= free
            if (once | s[81 + u]) != ALL_DIGITS:
                return False  # a digit has no place left in this unit
            hidden = once & ~twice
            while hidden:
                bit = hidden & -hidden
                hidden ^= bit
                placed = False
                for k in range(9):
                    cell = _UNITS[u, k]
                    if s[cell] == 0 and _free(s, cell) & bit:
                        placed = _place(s, cell, _DIGIT_OF_BIT[bit])
                        break
                if not placed:
                    return False  # two hidden singles of this unit want the same cell
                changed = True
    return True


@njit(**JIT_FLAGS)
def _pick_cell(s):
    """Minimum remaining values; ties go to the lowest cell index. -1 when the grid is full."""
    best = -1
    best_count = 10
    for cell in range(81):
        if s[cell] == 0:
            count = _POPCOUNT[_free(s, cell)]
            if count < best_count:
                best, best_count = cell, count
                if count <= 2:
                    break
    return best


@njit(**JIT_FLAGS)
def _take_bit(mask, randomize):
    if not randomize:
        return mask & -mask
    k = np.random.randint(0, _POPCOUNT[mask])
    for _ in range(k):
        mask &= mask - 1
    return mask & -mask


@njit(**JIT_FLAGS)
def _search(puzzle, limit, randomize, solution, stack, cell_at, cands):
    """Count the solutions of `puzzle` up to `limit`: (count, guesses); the first one goes to `solution`.

    Depth-first search over singles propagation with MRV branching. `guesses` counts every digit tried
    at a branch point. Digits are tried lowest first, or in random order when `randomize`.
    """
    stack[0, :] = 0
    for cell in range(81):
        digit = np.int64(puzzle[cell])  # a uint8 digit would overflow `1 << 8` when run without the JIT
        if digit != 0 and not _place(stack[0], cell, digit):
            return 0, 0
    count = 0
    guesses = 0
    level = 0
    ok = _propagate(stack[0])
    while True:
        top = level - 1
        if ok:
            cell = _pick_cell(stack[level])
            if cell < 0:
                count += 1
                if count == 1:
                    copy_into(solution, stack[level], 81)
                if count >= limit:
                    return count, guesses
            else:
                cell_at[level] = cell
                cands[level] = _free(stack[level], cell)
                top = level
        while top >= 0 and cands[top] == 0:
            top -= 1
        if top < 0:
            return count, guesses
        bit = _take_bit(cands[top], randomize)
        cands[top] ^= bit
        level = top + 1
        copy_into(stack[level], stack[top], _STATE_LEN)
        _place(stack[level], cell_at[top], _DIGIT_OF_BIT[bit])
        guesses += 1
        ok = _propagate(stack[level])


@njit(**JIT_FLAGS)
def _workspace():
    stack = np.zeros((_MAX_DEPTH, _STATE_LEN), np.int32)
    return stack, np.zeros(_MAX_DEPTH, np.int64), np.zeros(_MAX_DEPTH, np.int64)


@njit(**JIT_FLAGS)
def _line_order():
    """A random row (or column) order that keeps the Sudoku rules: bands shuffled, rows within bands."""
    bands = np.random.permutation(3)
    order = np.empty(9, np.int64)
    for b in range(3):
        inner = np.random.permutation(3)
        for r in range(3):
            order[b * 3 + r] = bands[b] * 3 + inner[r]
    return order


@njit(**JIT_FLAGS)
def _random_grid(out, stack, cell_at, cands):
    """A random complete grid: the three diagonal boxes are independent, so each gets a random
    permutation; a randomised search fills the rest; a random band/row/stack/column shuffle and
    transpose then remove the positional bias of the MRV order."""
    seed_grid = np.zeros(81, np.int32)
    for b in (0, 4, 8):
        perm = np.random.permutation(9)
        for k in range(9):
            seed_grid[_UNITS[18 + b, k]] = perm[k] + 1
    filled = np.zeros(81, np.int32)
    _search(seed_grid, 1, True, filled, stack, cell_at, cands)
    rows = _line_order()
    cols = _line_order()
    transpose = np.random.random() < 0.5
    for r in range(9):
        for c in range(9):
            value = filled[rows[r] * 9 + cols[c]]
            out[c * 9 + r if transpose else r * 9 + c] = value


@njit(**JIT_FLAGS)
def _dig(solution, target_blanks, puzzle, stack, cell_at, cands):
    """Blank cells in random order while the solution stays unique, up to `target_blanks` blanks."""
    scratch = np.zeros(81, np.int32)
    copy_into(puzzle, solution, 81)
    blanks = 0
    for cell in np.random.permutation(81):
        if blanks >= target_blanks:
            break
        digit = puzzle[cell]
        puzzle[cell] = 0
        count, _ = _search(puzzle, 2, False, scratch, stack, cell_at, cands)
        if count == 1:
            blanks += 1
        else:
            puzzle[cell] = digit
    return blanks


@njit(**JIT_FLAGS)
def _one_sudoku(seed, level, max_attempts, puzzle, solution):
    """Fill `puzzle`/`solution`; return (rating, attempts), attempts = -1 if none passed the level.

    level = (dig target low, dig target high, min blanks, min rating, max rating): each attempt draws a
    fresh grid and a target number of blanks, digs, and keeps the puzzle if it passes the thresholds.
    """
    np.random.seed(seed)
    stack, cell_at, cands = _workspace()
    scratch = np.zeros(81, np.int32)
    grid = np.zeros(81, np.int32)
    work = np.zeros(81, np.int32)
    for attempt in range(1, max_attempts + 1):
        _random_grid(grid, stack, cell_at, cands)
        target = np.random.randint(level[0], level[1] + 1)
        if _dig(grid, target, work, stack, cell_at, cands) < level[2]:
            continue
        _, rating = _search(work, 2, False, scratch, stack, cell_at, cands)
        if level[3] <= rating <= level[4]:
            copy_into(puzzle, work, 81)
            copy_into(solution, grid, 81)
            return rating, attempt
    return 0, -1


@njit(**PARALLEL_FLAGS)
def sudoku_batch(seeds, level, max_attempts):
    """One puzzle per seed: (puzzles uint8 [n,81], solutions uint8 [n,81], ratings, attempts) int32 [n]."""
    n = seeds.shape[0]
    puzzles = np.zeros((n, 81), np.uint8)
    solutions = np.zeros((n, 81), np.uint8)
    ratings = np.zeros(n, np.int32)
    attempts = np.zeros(n, np.int32)
    for i in prange(n):
        ratings[i], attempts[i] = _one_sudoku(seeds[i], level, max_attempts, puzzles[i], solutions[i])
    return puzzles, solutions, ratings, attempts


@njit(**PARALLEL_FLAGS)
def sudoku_solve_batch(puzzles, limit):
    """(counts capped at `limit`, first solutions uint8 [n,81] (zeros if none), guesses) per puzzle."""
    n = puzzles.shape[0]
    counts = np.zeros(n, np.int32)
    guesses = np.zeros(n, np.int32)
    solutions = np.zeros((n, 81), np.uint8)
    for i in prange(n):
        stack, cell_at, cands = _workspace()
        first = np.zeros(81, np.int32)
        counts[i], guesses[i] = _search(puzzles[i], limit, False, first, stack, cell_at, cands)
        if counts[i] > 0:
            copy_into(solutions[i], first, 81)
    return counts, solutions, guesses
