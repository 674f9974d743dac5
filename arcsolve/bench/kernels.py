"""Numba kernels behind the Sudoku and maze generators. Private: call arcsolve.bench.sudoku / .maze.

Randomness: each batch kernel takes one uint32 seed per item and calls `np.random.seed(seed)` at the
start of that item. Numba keeps its own random state per thread, apart from NumPy's global state, so
item i depends only on seeds[i], whatever the number of threads or how prange schedules the items.

Sudoku state: one int32 row of 108 entries: cells 0..80 hold digits (0 = empty), then the used-digit
bitmask of each of the 27 units (9 rows, 9 columns, 9 boxes), bit d-1 for digit d.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# Every kernel takes its flags from here.
JIT_FLAGS = {"cache": True, "nogil": True}
PARALLEL_FLAGS = {**JIT_FLAGS, "parallel": True}

ALL_DIGITS = 0x1FF
_STATE_LEN = 81 + 27
_MAX_DEPTH = 82  # every guess fills at least one cell

# Maze tokens, also re-exported by arcsolve.bench.maze.
MAZE_WALL, MAZE_OPEN, MAZE_START, MAZE_GOAL, MAZE_PATH = 1, 2, 3, 4, 5


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
                    solution[:] = stack[level, :81]
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
        stack[level, :] = stack[top]
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
    puzzle[:] = solution
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
            puzzle[:] = work
            solution[:] = grid
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
            solutions[i, :] = first
    return counts, solutions, guesses


@njit(**JIT_FLAGS)
def _carve_maze(grid, size, extra_fraction):
    """A randomised depth-first (recursive backtracker) perfect maze on a lattice of nodes two cells
    apart, then a few extra walls between nodes knocked out so that it has some loops.

    With an even size one row and one column are left over; a random offset puts that wall strip on
    either side. Cells between two lattice corners always stay wall, so no open 2x2 block appears.
    """
    grid[:, :] = MAZE_WALL
    off_r = np.random.randint(0, 2) if size % 2 == 0 else 0
    off_c = np.random.randint(0, 2) if size % 2 == 0 else 0
    nr = (size - off_r + 1) // 2
    nc = (size - off_c + 1) // 2
    visited = np.zeros(nr * nc, np.bool_)
    stack = np.empty(nr * nc, np.int64)
    dr = np.array([-1, 1, 0, 0])
    dc = np.array([0, 0, -1, 1])
    options = np.empty(4, np.int64)
    node = np.random.randint(0, nr * nc)
    visited[node] = True
    grid[off_r + 2 * (node // nc), off_c + 2 * (node % nc)] = MAZE_OPEN
    stack[0] = node
    depth = 1
    while depth > 0:
        node = stack[depth - 1]
        r, c = node // nc, node % nc
        n_options = 0
        for k in range(4):
            rr, cc = r + dr[k], c + dc[k]
            if 0 <= rr < nr and 0 <= cc < nc and not visited[rr * nc + cc]:
                options[n_options] = k
                n_options += 1
        if n_options == 0:
            depth -= 1
            continue
        k = options[np.random.randint(0, n_options)]
        rr, cc = r + dr[k], c + dc[k]
        visited[rr * nc + cc] = True
        grid[off_r + 2 * r + dr[k], off_c + 2 * c + dc[k]] = MAZE_OPEN
        grid[off_r + 2 * rr, off_c + 2 * cc] = MAZE_OPEN
        stack[depth] = rr * nc + cc
        depth += 1
    for _ in range(np.random.randint(0, int(extra_fraction * nr * nc) + 1)):
        r, c = np.random.randint(0, nr), np.random.randint(0, nc)
        k = np.random.randint(0, 4)
        if 0 <= r + dr[k] < nr and 0 <= c + dc[k] < nc:
            grid[off_r + 2 * r + dr[k], off_c + 2 * c + dc[k]] = MAZE_OPEN


@njit(**JIT_FLAGS)
def _bfs(grid, start, dist, ways, queue):
    """Distances (moves) from `start` over open cells, -1 if unreachable, and the number of shortest
    paths to each cell capped at 2. Returns how many cells were reached (they are queue[:count])."""
    size = grid.shape[0]
    dist[:] = -1
    ways[:] = 0
    dist[start] = 0
    ways[start] = 1
    queue[0] = start
    head, tail = 0, 1
    while head < tail:
        cell = queue[head]
        head += 1
        r, c = cell // size, cell % size
        for k in range(4):
            rr = r + (k == 1) - (k == 0)
            cc = c + (k == 3) - (k == 2)
            if 0 <= rr < size and 0 <= cc < size and grid[rr, cc] != MAZE_WALL:
                nxt = rr * size + cc
                if dist[nxt] < 0:
                    dist[nxt] = dist[cell] + 1
                    queue[tail] = nxt
                    tail += 1
                if dist[nxt] == dist[cell] + 1:
                    ways[nxt] = min(2, ways[nxt] + ways[cell])
    return tail


@njit(**JIT_FLAGS)
def _one_maze(seed, size, min_path, extra_fraction, max_attempts, inputs, labels):
    """Fill `inputs`/`labels` (flat S*S tokens); return (path length in moves, attempts), attempts = -1
    if no maze with a unique shortest S-G path of at least `min_path` moves was found."""
    np.random.seed(seed)
    cells = size * size
    grid = np.empty((size, size), np.uint8)
    dist = np.empty(cells, np.int64)
    ways = np.empty(cells, np.int64)
    queue = np.empty(cells, np.int64)
    goals = np.empty(cells, np.int64)
    flat = grid.reshape(cells)
    for attempt in range(1, max_attempts + 1):
        if (attempt - 1) % 4 == 0:  # a few start cells per maze before carving a new one
            _carve_maze(grid, size, extra_fraction)
        start = np.random.randint(0, cells)
        while flat[start] == MAZE_WALL:
            start = np.random.randint(0, cells)
        reached = _bfs(grid, start, dist, ways, queue)
        n_goals = 0
        for j in range(reached):
            cell = queue[j]
            if dist[cell] >= min_path and ways[cell] == 1:
                goals[n_goals] = cell
                n_goals += 1
        if n_goals == 0:
            continue
        goal = goals[np.random.randint(0, n_goals)]
        inputs[:] = flat
        inputs[start] = MAZE_START
        inputs[goal] = MAZE_GOAL
        labels[:] = inputs
        cell = goal
        while dist[cell] > 1:  # walk back to S; each step has exactly one predecessor since ways == 1
            r, c = cell // size, cell % size
            for k in range(4):
                rr = r + (k == 1) - (k == 0)
                cc = c + (k == 3) - (k == 2)
                if 0 <= rr < size and 0 <= cc < size and dist[rr * size + cc] == dist[cell] - 1:
                    cell = rr * size + cc
                    break
            labels[cell] = MAZE_PATH
        return dist[goal], attempt
    return 0, -1


@njit(**PARALLEL_FLAGS)
def maze_batch(seeds, size, min_path, extra_fraction, max_attempts):
    """One maze per seed: (inputs uint8 [n,S*S], labels uint8 [n,S*S], path lengths, attempts) int32 [n]."""
    n = seeds.shape[0]
    inputs = np.zeros((n, size * size), np.uint8)
    labels = np.zeros((n, size * size), np.uint8)
    lengths = np.zeros(n, np.int32)
    attempts = np.zeros(n, np.int32)
    for i in prange(n):
        lengths[i], attempts[i] = _one_maze(
            seeds[i], size, min_path, extra_fraction, max_attempts, inputs[i], labels[i]
        )
    return inputs, labels, lengths, attempts
