"""Plain-Python twins of the core search primitives (geometry, colours), written cell by cell from
their definitions; they share no code with arcsolve.search."""

from __future__ import annotations

import numpy as np


def rotate_90_naive(grid):
    """Clockwise: out[i][j] = grid[h-1-j][i]."""
    h, w = grid.shape
    return np.array([[grid[h - 1 - j][i] for j in range(h)] for i in range(w)], dtype=np.uint8)


def flip_horizontal_naive(grid):
    h, w = grid.shape
    return np.array([[grid[i][w - 1 - j] for j in range(w)] for i in range(h)], dtype=np.uint8)


def transpose_naive(grid):
    h, w = grid.shape
    return np.array([[grid[j][i] for j in range(h)] for i in range(w)], dtype=np.uint8)


def anti_transpose_naive(grid):
    """out[i][j] = grid[h-1-j][w-1-i]."""
    h, w = grid.shape
    return np.array([[grid[h - 1 - j][w - 1 - i] for j in range(h)] for i in range(w)], dtype=np.uint8)


def upscale_naive(grid, rows, cols):
    h, w = grid.shape
    return np.array(
        [[grid[i // rows][j // cols] for j in range(w * cols)] for i in range(h * rows)], dtype=np.uint8
    )


def tile_mirrored_naive(grid, rows, cols):
    h, w = grid.shape
    out = np.zeros((h * rows, w * cols), dtype=np.uint8)
    for i in range(h * rows):
        for j in range(w * cols):
            bi, bj, r, c = i // h, j // w, i % h, j % w
            r = h - 1 - r if bi % 2 else r
            c = w - 1 - c if bj % 2 else c
            out[i][j] = grid[r][c]
    return out


def commonest_colour_index(grid):
    counts = {}
    for value in grid.ravel().tolist():
        counts[value] = counts.get(value, 0) + 1
    return max(sorted(counts), key=lambda c: counts[c])


def colour_map_naive(candidates, targets):
    """The consistent colour map (changing colours only) or None, pair by pair, cell by cell."""
    mapping = {}
    for cand, target in zip(candidates, targets, strict=True):
        if cand.shape != target.shape:
            return None
        for a, b in zip(cand.ravel().tolist(), target.ravel().tolist(), strict=True):
            if mapping.setdefault(a, b) != b:
                return None
    return {a: b for a, b in mapping.items() if a != b}


def collapse_repeats_naive(grid):
    rows = [list(grid[0])]
    for row in grid[1:]:
        if list(row) != rows[-1]:
            rows.append(list(row))
    cols = [[r[0] for r in rows]]
    for j in range(1, len(rows[0])):
        col = [r[j] for r in rows]
        if col != cols[-1]:
            cols.append(col)
    return np.array(cols, dtype=np.uint8).T


def drop_background_lines_naive(grid, bg):
    h, w = grid.shape
    rows = [i for i in range(h) if any(grid[i][j] != bg for j in range(w))]
    cols = [j for j in range(w) if any(grid[i][j] != bg for i in range(h))]
    return np.array([[grid[i][j] for j in cols] for i in rows], dtype=np.uint8)
