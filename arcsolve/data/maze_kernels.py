"""Numba kernels behind the maze generator. Private: call arcsolve.data.maze.

Randomness: each batch kernel takes one uint32 seed per item and calls `np.random.seed(seed)` at the
start of that item. Numba keeps its own random state per thread, apart from NumPy's global state, so
item i depends only on seeds[i], whatever the number of threads or how prange schedules the items.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from arcsolve.constants import JIT_FLAGS, PARALLEL_FLAGS
from arcsolve.data.kernel_copy import copy_into

# Maze tokens, re-exported by arcsolve.data.maze.
MAZE_WALL, MAZE_OPEN, MAZE_START, MAZE_GOAL, MAZE_PATH = 1, 2, 3, 4, 5


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
        copy_into(inputs, flat, cells)
        inputs[start] = MAZE_START
        inputs[goal] = MAZE_GOAL
        copy_into(labels, inputs, cells)
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
