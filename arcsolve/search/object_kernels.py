"""Numba kernels behind the object, gravity and denoise families. Private: call them through
`arcsolve.search.objects`, `gravity` and `denoise`.

Components are labelled 0, 1, ... in row-major order of their first cell, background cells -1, so a
labelling is canonical and a plain breadth-first twin can be compared with it exactly.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from arcsolve.constants import JIT_FLAGS

# Columns of the per-object statistics table.
SIZE, TOP, LEFT, BOTTOM, RIGHT, COLOUR, BORDER = range(7)
NUM_STATS = 7
MIXED = -1  # COLOUR of an object holding more than one colour


@njit(**JIT_FLAGS)
def label_components(grid, background, diagonal, multicolour):
    """(labels int32 [h, w], count): connected non-background cells, 8-connected when `diagonal`;
    with `multicolour` any two non-background neighbours join, otherwise only equal colours do."""
    h, w = grid.shape
    labels = np.full((h, w), -1, np.int32)
    stack = np.empty(h * w, np.int64)
    count = 0
    for start in range(h * w):
        r0, c0 = start // w, start % w
        if grid[r0, c0] == background or labels[r0, c0] >= 0:
            continue
        labels[r0, c0] = count
        stack[0] = start
        depth = 1
        while depth > 0:
            depth -= 1
            r, c = stack[depth] // w, stack[depth] % w
            for dr in range(-1, 2):
                for dc in range(-1, 2):
                    if (dr == 0 and dc == 0) or (not diagonal and dr != 0 and dc != 0):
                        continue
                    rr, cc = r + dr, c + dc
                    if rr < 0 or rr >= h or cc < 0 or cc >= w or labels[rr, cc] >= 0:
                        continue
                    colour = grid[rr, cc]
                    if colour == background or (not multicolour and colour != grid[r, c]):
                        continue
                    labels[rr, cc] = count
                    stack[depth] = rr * w + cc
                    depth += 1
        count += 1
    return labels, count


@njit(**JIT_FLAGS)
def component_stats(grid, labels, count):
    """int64 [count, NUM_STATS]: per label its size, bounding box (exclusive ends), colour (MIXED
    when it holds several) and whether it touches the grid's border (1) or not (0)."""
    h, w = grid.shape
    stats = np.zeros((count, NUM_STATS), np.int64)
    stats[:, TOP] = h
    stats[:, LEFT] = w
    stats[:, COLOUR] = -2
    for r in range(h):
        for c in range(w):
            k = labels[r, c]
            if k < 0:
                continue
            stats[k, SIZE] += 1
            stats[k, TOP] = min(stats[k, TOP], r)
            stats[k, LEFT] = min(stats[k, LEFT], c)
            stats[k, BOTTOM] = max(stats[k, BOTTOM], r + 1)
            stats[k, RIGHT] = max(stats[k, RIGHT], c + 1)
            if stats[k, COLOUR] == -2:
                stats[k, COLOUR] = grid[r, c]
            elif stats[k, COLOUR] != grid[r, c]:
                stats[k, COLOUR] = MIXED
            if r == 0 or c == 0 or r == h - 1 or c == w - 1:
                stats[k, BORDER] = 1
    return stats


@njit(**JIT_FLAGS)
def fall_down(grid, background):
    """Every non-background cell slides down its column until it rests on the border or on another
    cell; the order of colours in a column is kept."""
    h, w = grid.shape
    out = np.full((h, w), background, np.uint8)
    for c in range(w):
        floor = h - 1
        for r in range(h - 1, -1, -1):
            if grid[r, c] != background:
                out[floor, c] = grid[r, c]
                floor -= 1
    return out


@njit(**JIT_FLAGS)
def drop_objects_down(grid, labels, count, background):
    """Whole objects fall down as rigid bodies, the lowest first, each until one of its cells would
    leave the grid or land on a cell already settled."""
    h, w = grid.shape
    lowest = np.full(count, -1, np.int64)
    for r in range(h):
        for c in range(w):
            if labels[r, c] >= 0:
                lowest[labels[r, c]] = r
    order = np.argsort(-lowest, kind="mergesort")
    out = np.full((h, w), background, np.uint8)
    settled = np.zeros((h, w), np.bool_)
    for k in order:
        shift = h
        for r in range(h):
            for c in range(w):
                if labels[r, c] == k:
                    free = r + 1
                    while free < h and not settled[free, c]:
                        free += 1
                    shift = min(shift, free - r - 1)
        for r in range(h):
            for c in range(w):
                if labels[r, c] == k:
                    out[r + shift, c] = grid[r, c]
                    settled[r + shift, c] = True
    return out


@njit(**JIT_FLAGS)
def replace_specks(grid, diagonal, background, to_majority):
    """Cells with no neighbour of their own colour (4 or 8 neighbours) become the background, or
    with `to_majority` the commonest colour among their neighbours (the lowest on ties), which also
    fills holes of background colour."""
    h, w = grid.shape
    out = grid.copy()
    votes = np.zeros(10, np.int64)
    for r in range(h):
        for c in range(w):
            votes[:] = 0
            alone = True
            for dr in range(-1, 2):
                for dc in range(-1, 2):
                    if (dr == 0 and dc == 0) or (not diagonal and dr != 0 and dc != 0):
                        continue
                    rr, cc = r + dr, c + dc
                    if 0 <= rr < h and 0 <= cc < w:
                        votes[grid[rr, cc]] += 1
                        if grid[rr, cc] == grid[r, c]:
                            alone = False
            if alone and to_majority and votes.max() > 0:
                out[r, c] = np.argmax(votes)
            elif alone and not to_majority:
                out[r, c] = background
    return out


@njit(**JIT_FLAGS)
def gaps_below(mask):
    """int64 [h, w]: from each cell, how many cells lie between it and the nearest True cell
    strictly below in its column; h + w where there is none."""
    h, w = mask.shape
    gaps = np.full((h, w), h + w, np.int64)
    for c in range(w):
        nearest = -1
        for r in range(h - 1, -1, -1):
            if nearest >= 0:
                gaps[r, c] = nearest - r - 1
            if mask[r, c]:
                nearest = r
    return gaps


@njit(**JIT_FLAGS)
def fill_from_period(grid, noise):
    """The grid with every `noise` cell set from the smallest (by area, then height) period
    (rows, cols) on which all other cells agree and that gives every noise cell a value; the
    unchanged grid with False when no such period exists."""
    h, w = grid.shape
    table = np.empty((h, w), np.int64)
    for area in range(1, h * w):
        for rows in range(1, h + 1):
            if area % rows or area // rows > w:
                continue
            cols = area // rows
            table[:rows, :cols] = -1
            consistent = True
            for r in range(h):
                for c in range(w):
                    value = grid[r, c]
                    if value == noise:
                        continue
                    seen = table[r % rows, c % cols]
                    if seen < 0:
                        table[r % rows, c % cols] = value
                    elif seen != value:
                        consistent = False
                        break
                if not consistent:
                    break
            if not consistent or (table[:rows, :cols] < 0).any():
                continue
            out = grid.copy()
            for r in range(h):
                for c in range(w):
                    out[r, c] = table[r % rows, c % cols]
            return out, True
    return grid.copy(), False


@njit(**JIT_FLAGS)
def _mirror_of(kind, axis, r, c, h, w):
    """The image of cell (r, c) under mirror `kind` (0 left-right about column sum `axis`, 1 top-bottom
    about row sum `axis`, 2 the main diagonal, 3 the anti-diagonal); (-1, -1) when outside."""
    if kind == 0:
        rr, cc = r, axis - c
    elif kind == 1:
        rr, cc = axis - r, c
    elif kind == 2:
        rr, cc = c, r
    else:
        rr, cc = h - 1 - c, w - 1 - r
    if rr < 0 or rr >= h or cc < 0 or cc >= w:
        return -1, -1
    return rr, cc


@njit(**JIT_FLAGS)
def fill_from_mirrors(grid, noise):
    """(out, complete): `noise` cells filled from their images under every mirror (left-right and
    top-bottom about axes near the middle, both diagonals of a square grid) whose image covers at
    least half the grid and agrees with every non-noise cell it maps onto a non-noise cell."""
    h, w = grid.shape
    out = grid.copy()
    for kind in range(4):
        if kind >= 2 and h != w:
            continue
        side = w if kind == 0 else h
        first, last = (side - 1 - side // 2, side + side // 2) if kind < 2 else (0, 1)
        for axis in range(first, last):
            covered = 0
            agreeing = 0
            consistent = True
            for r in range(h):
                for c in range(w):
                    rr, cc = _mirror_of(kind, axis, r, c, h, w)
                    if rr < 0:
                        continue
                    covered += 1
                    if grid[r, c] != noise and grid[rr, cc] != noise:
                        if grid[r, c] != grid[rr, cc]:
                            consistent = False
                            break
                        agreeing += 1
                if not consistent:
                    break
            if not consistent or agreeing == 0 or 2 * covered < h * w:
                continue
            for r in range(h):
                for c in range(w):
                    rr, cc = _mirror_of(kind, axis, r, c, h, w)
                    if rr >= 0 and out[r, c] == noise and grid[rr, cc] != noise:
                        out[r, c] = grid[rr, cc]
    complete = True
    for r in range(h):
        for c in range(w):
            if out[r, c] == noise:
                complete = False
    return out, complete
