"""Numba kernels behind the fill and rays families. Private: call arcsolve.search.fill / rays.

Each kernel loops over cells with an explicit queue or walk, which numpy can only do one Python step
per cell; the wrappers check nothing, so they are only called with uint8 grids and boolean masks.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from arcsolve.constants import JIT_FLAGS


@njit(**JIT_FLAGS)
def _spread(mask, labels, queue, tail, label, conn8):
    """Breadth-first from the cells queue[:tail] (flat row * w + col, already labelled): every
    unlabelled True cell of `mask` joined to them, 4- or 8-connected, gets `label`."""
    h, w = mask.shape
    head = 0
    while head < tail:
        r, c = queue[head] // w, queue[head] % w
        head += 1
        for dr in range(-1, 2):
            for dc in range(-1, 2):
                if (dr == 0 and dc == 0) or (not conn8 and dr != 0 and dc != 0):
                    continue
                rr, cc = r + dr, c + dc
                if 0 <= rr < h and 0 <= cc < w and mask[rr, cc] and labels[rr, cc] == 0:
                    labels[rr, cc] = label
                    queue[tail] = rr * w + cc
                    tail += 1


@njit(**JIT_FLAGS)
def _flood(mask, seeds, conn8):
    """The True cells of `mask` joined to a seed cell (seeds must lie in mask) by a path of True cells."""
    h, w = mask.shape
    labels = np.zeros((h, w), np.int32)
    queue = np.empty(h * w, np.int64)
    tail = 0
    for k in range(seeds.shape[0]):
        r, c = seeds[k, 0], seeds[k, 1]
        if labels[r, c] == 0:
            labels[r, c] = 1
            queue[tail] = r * w + c
            tail += 1
    _spread(mask, labels, queue, tail, 1, conn8)
    return labels > 0


def reachable_from_border(mask: np.ndarray, conn8: bool = False) -> np.ndarray:
    """The True cells of a boolean mask joined to a True border cell through True cells."""
    h, w = mask.shape
    border = np.zeros((h, w), np.bool_)
    border[0, :] = border[-1, :] = border[:, 0] = border[:, -1] = True
    seeds = np.argwhere(border & mask).astype(np.int64)
    return _flood(np.ascontiguousarray(mask), seeds, conn8)


@njit(**JIT_FLAGS)
def _label(mask, conn8):
    """Connected components of the True cells: labels 1..n (0 outside the mask), numbered in
    row-major order of each component's first cell."""
    h, w = mask.shape
    labels = np.zeros((h, w), np.int32)
    queue = np.empty(h * w, np.int64)
    n = 0
    for r0 in range(h):
        for c0 in range(w):
            if not mask[r0, c0] or labels[r0, c0]:
                continue
            n += 1
            labels[r0, c0] = n
            queue[0] = r0 * w + c0
            _spread(mask, labels, queue, 1, n, conn8)
    return labels, n


def label_components(mask: np.ndarray, conn8: bool) -> tuple[np.ndarray, int]:
    """(labels, count) of the connected components of a boolean mask."""
    return _label(np.ascontiguousarray(mask), conn8)


@njit(**JIT_FLAGS)
def _rays(grid, is_source, steps, bg, through, paint):
    """From every source cell, walk each step direction and paint `paint` (the source's colour when
    negative) on the background cells met. A walk ends at the border, or (unless `through`) at the first
    non-background cell of the input. Sources paint in row-major order, so a later ray wins a cell."""
    h, w = grid.shape
    out = grid.copy()
    for r in range(h):
        for c in range(w):
            if not is_source[r, c]:
                continue
            colour = grid[r, c] if paint < 0 else np.uint8(paint)
            for k in range(steps.shape[0]):
                dr, dc = steps[k, 0], steps[k, 1]
                rr, cc = r + dr, c + dc
                while 0 <= rr < h and 0 <= cc < w:
                    if grid[rr, cc] != bg:
                        if not through:
                            break
                    else:
                        out[rr, cc] = colour
                    rr += dr
                    cc += dc
    return out


@njit(**JIT_FLAGS)
def _rays_to_obstacles(grid, is_source, steps, bg, target):
    """From every source cell, each step direction walked over background; the walk is painted in the
    source's colour only when it ends on a non-background cell of the input (of colour `target` when
    that is not negative), not at the border."""
    h, w = grid.shape
    out = grid.copy()
    for r in range(h):
        for c in range(w):
            if not is_source[r, c]:
                continue
            for k in range(steps.shape[0]):
                dr, dc = steps[k, 0], steps[k, 1]
                rr, cc = r + dr, c + dc
                while 0 <= rr < h and 0 <= cc < w and grid[rr, cc] == bg:
                    rr += dr
                    cc += dc
                if 0 <= rr < h and 0 <= cc < w and (target < 0 or grid[rr, cc] == target):
                    rr, cc = rr - dr, cc - dc
                    while rr != r or cc != c:
                        out[rr, cc] = grid[r, c]
                        rr -= dr
                        cc -= dc
    return out


def draw_rays_to_obstacles(
    grid: np.ndarray, is_source: np.ndarray, steps: np.ndarray, bg: int, target: int | None
):
    """Rays along `steps` from each source in its colour, kept only where they hit a cell (of colour
    `target`, unless None)."""
    code = -1 if target is None else target
    return _rays_to_obstacles(grid, np.ascontiguousarray(is_source), steps, np.uint8(bg), code)


def draw_rays(
    grid: np.ndarray,
    is_source: np.ndarray,
    steps: np.ndarray,
    bg: int,
    through: bool,
    paint: int | None = None,
):
    """Rays along `steps` ((k, 2) int64 row/col unit steps) in colour `paint`, or each source cell's
    own colour when None."""
    paint_code = -1 if paint is None else paint
    return _rays(grid, np.ascontiguousarray(is_source), steps, np.uint8(bg), through, paint_code)


@njit(**JIT_FLAGS)
def _connect_rows(grid, bg, paint):
    """In each row, the background cells between two consecutive cells of one colour painted that
    colour, or `paint` when it is not negative (consecutive: no cell of the same colour between)."""
    h, w = grid.shape
    out = grid.copy()
    last = np.empty(16, np.int64)
    for r in range(h):
        last[:] = -1
        for c in range(w):
            colour = grid[r, c]
            if colour == bg:
                continue
            start = last[colour]
            if start >= 0:
                for k in range(start + 1, c):
                    if grid[r, k] == bg:
                        out[r, k] = colour if paint < 0 else paint
            last[colour] = c
    return out


def connect_rows(grid: np.ndarray, bg: int, paint: int | None = None) -> np.ndarray:
    """Same-coloured cells of a row joined by lines over the background between them, in their own
    colour or in `paint`."""
    return _connect_rows(grid, np.uint8(bg), -1 if paint is None else paint)


@njit(**JIT_FLAGS)
def _fill_boxes(grid, labels, count, bg, paint):
    """Background cells inside each labelled component's bounding box painted the component's
    commonest colour (the lowest on ties), or `paint` when it is not negative; larger boxes first,
    equal areas in label order."""
    h, w = grid.shape
    boxes = np.empty((count, 4), np.int64)
    boxes[:, 0] = h
    boxes[:, 1] = w
    boxes[:, 2] = -1
    boxes[:, 3] = -1
    counts = np.zeros((count, 16), np.int64)
    for r in range(h):
        for c in range(w):
            k = labels[r, c] - 1
            if k < 0:
                continue
            boxes[k, 0] = min(boxes[k, 0], r)
            boxes[k, 1] = min(boxes[k, 1], c)
            boxes[k, 2] = max(boxes[k, 2], r)
            boxes[k, 3] = max(boxes[k, 3], c)
            counts[k, grid[r, c]] += 1
    areas = (boxes[:, 2] - boxes[:, 0] + 1) * (boxes[:, 3] - boxes[:, 1] + 1)
    out = grid.copy()
    for k in np.argsort(-areas, kind="mergesort"):
        colour = np.argmax(counts[k]) if paint < 0 else paint
        for r in range(boxes[k, 0], boxes[k, 2] + 1):
            for c in range(boxes[k, 1], boxes[k, 3] + 1):
                if grid[r, c] == bg:
                    out[r, c] = colour
    return out


def fill_boxes(grid: np.ndarray, labels: np.ndarray, count: int, bg: int, paint: int | None) -> np.ndarray:
    """Each component's bounding box filled over the background (see _fill_boxes)."""
    return _fill_boxes(grid, labels, count, np.uint8(bg), -1 if paint is None else paint)


@njit(**JIT_FLAGS)
def _smallest_period(grid, hidden):
    h, w = grid.shape
    for p in range(1, h):
        clash = False
        for r in range(h - p):
            for c in range(w):
                if not hidden[r, c] and not hidden[r + p, c] and grid[r, c] != grid[r + p, c]:
                    clash = True
                    break
            if clash:
                break
        if not clash:
            return p
    return h


def smallest_period(grid: np.ndarray, hidden: np.ndarray) -> int:
    """The smallest row shift p under which no two visible cells p rows apart differ (the height
    when there is none)."""
    return _smallest_period(np.ascontiguousarray(grid), np.ascontiguousarray(hidden))


@njit(**JIT_FLAGS)
def _mirror_sum(grid, hidden):
    """See mirror_sum; -1 for None."""
    h, w = grid.shape
    agree = np.zeros(2 * w - 1, np.int64)
    conflict = np.zeros(2 * w - 1, np.int64)
    for r in range(h):
        for left in range(w):
            if hidden[r, left]:
                continue
            for right in range(left + 1, w):
                if not hidden[r, right]:
                    if grid[r, left] == grid[r, right]:
                        agree[left + right] += 1
                    else:
                        conflict[left + right] += 1
    best = -1
    for s in range(2 * w - 1):
        if conflict[s] or not agree[s]:
            continue
        if (
            best < 0
            or agree[s] > agree[best]
            or (agree[s] == agree[best] and abs(s - w + 1) < abs(best - w + 1))
        ):
            best = s
    return best


def mirror_sum(grid: np.ndarray, hidden: np.ndarray) -> int | None:
    """The column-index sum s of the left-right mirror c -> s - c best obeyed by the visible cells:
    no visible pair (c, s - c) of a row disagrees and the most such pairs agree (ties: the sum
    nearest the grid's centre, then the lower one); None when no sum has an agreeing pair and no
    disagreeing one."""
    best = _mirror_sum(np.ascontiguousarray(grid), np.ascontiguousarray(hidden))
    return None if best < 0 else int(best)
