"""Plain-Python twins of the core search primitives (geometry, colours), written cell by cell from
their definitions; they share no code with arcsolve.search."""

from __future__ import annotations

from fractions import Fraction

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


def answer_faults_naive(pairs, grid_in, answer):
    """The train-pair invariants (plausible.py) `answer` breaks, from their definitions."""

    def colours(g):
        return {int(v) for row in g.tolist() for v in row}

    def shape(g):
        return (len(g), len(g[0]))

    shape_rules = []
    if all(shape(i) == shape(o) for i, o in pairs):
        shape_rules.append(shape(answer) == shape(grid_in))
    if len({shape(o) for _, o in pairs}) == 1:
        shape_rules.append(shape(answer) == shape(pairs[0][1]))
    ratios = {(Fraction(shape(o)[0], shape(i)[0]), Fraction(shape(o)[1], shape(i)[1])) for i, o in pairs}
    if len(ratios) == 1:
        ((rows, cols),) = ratios
        shape_rules.append(shape(answer) == (shape(grid_in)[0] * rows, shape(grid_in)[1] * cols))
    faults = int(bool(shape_rules) and not any(shape_rules))
    added = set()
    for i, o in pairs:
        added |= colours(o) - colours(i)
    faults += int(bool(colours(answer) - colours(grid_in) - added))
    if all(i.tolist() != o.tolist() for i, o in pairs) and answer.tolist() == grid_in.tolist():
        faults += 1
    if all(len(colours(o)) > 1 for _, o in pairs) and len(colours(answer)) == 1:
        faults += 1
    return faults
