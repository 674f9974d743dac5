"""Painting around and inside objects: fill the background regions that objects enclose, paint the
inner cells of solid shapes, surround every non-background cell with a halo, copy the one
many-coloured object's pattern onto the one-coloured objects of its shape. The colour is an op
parameter taken from what the train outputs write; the background is the commonest colour or 0."""

from __future__ import annotations

import numpy as np

from arcsolve.search import object_kernels as kernels
from arcsolve.search.grid import Grid, background_colour
from arcsolve.search.object_kernels import BORDER, SIZE
from arcsolve.search.object_select import Reading, find_objects


def _background(grid: Grid, zero_background: bool) -> int:
    """0 when asked for and present, else the commonest colour (as an object `Reading` has it)."""
    return 0 if zero_background and not grid.all() else background_colour(grid)


def _neighbour_views(padded: np.ndarray, diagonal: bool) -> list[np.ndarray]:
    """The (h, w) views of a grid padded by one cell, shifted to each 4- or 8-neighbour."""
    h, w = padded.shape[0] - 2, padded.shape[1] - 2
    shifts = [
        (dr, dc)
        for dr in (-1, 0, 1)
        for dc in (-1, 0, 1)
        if (dr, dc) != (0, 0) and (diagonal or not (dr and dc))
    ]
    return [padded[1 + dr : 1 + dr + h, 1 + dc : 1 + dc + w] for dr, dc in shifts]


def fill_enclosed(grid: Grid, colour: int, zero_background: bool) -> Grid | None:
    """Background cells that cannot reach the border through 4-connected background take `colour`."""
    background = _background(grid, zero_background)
    is_background = (grid == background).astype(np.uint8)
    labels, count = kernels.label_components(is_background, 0, False, False)
    stats = kernels.component_stats(is_background, labels, count)
    enclosed = np.concatenate([[False], stats[:, BORDER] == 0])[labels + 1]
    if not enclosed.any():
        return None
    return np.where(enclosed, np.uint8(colour), grid)


def paint_inner_cells(grid: Grid, colour: int, diagonal: bool, zero_background: bool) -> Grid | None:
    """Non-background cells whose 4 (or 8) neighbours all lie in the grid and share their colour
    take `colour` (the inside of solid rectangles and blobs)."""
    padded = np.pad(grid.astype(np.int16), 1, constant_values=-1)
    inner = grid != _background(grid, zero_background)
    for view in _neighbour_views(padded, diagonal):
        inner &= view == grid
    if not inner.any():
        return None
    return np.where(inner, np.uint8(colour), grid)


def surround_cells(grid: Grid, colour: int, diagonal: bool, zero_background: bool) -> Grid | None:
    """Background cells next to (4- or 8-neighbours of) a non-background cell take `colour`."""
    background = _background(grid, zero_background)
    padded = np.pad(grid != background, 1, constant_values=False)
    halo = np.zeros(grid.shape, bool)
    for view in _neighbour_views(padded, diagonal):
        halo |= view
    halo &= grid == background
    if not halo.any():
        return None
    return np.where(halo, np.uint8(colour), grid)


def copy_template_onto_shapes(grid: Grid, diagonal: bool, keep_template: bool) -> Grid | None:
    """The one object of several colours (the template) painted over every other object with its
    shape (cells up to translation); the template itself kept or erased to the background. None
    when there is not exactly one template or no object has its shape."""
    objects = find_objects(grid, Reading(diagonal, multicolour=True, zero_background=False))
    templates = np.flatnonzero(objects.colour_counts >= 2)
    if templates.size != 1:
        return None
    template = int(templates[0])
    top, left, bottom, right = objects.box(template)
    drawn = objects.mask(template)[top:bottom, left:right]
    pattern = grid[top:bottom, left:right]
    out = grid.copy()
    copies = 0
    for index, key in enumerate(objects.shape_keys):
        if index != template and key == objects.shape_keys[template]:
            row, col = objects.box(index)[:2]
            out[row : row + drawn.shape[0], col : col + drawn.shape[1]][drawn] = pattern[drawn]
            copies += 1
    if copies == 0:
        return None
    if not keep_template:
        out[objects.mask(template)] = objects.background
    return out


def stamp_template_at_markers(grid: Grid, keep_template: bool) -> Grid | None:
    """The largest object (8-connected, any colours; the template) stamped over the background around
    every one-cell object (a marker, painted over too): the template's one cell of the marker's colour on the marker,
    else the template's centre on it (odd sides), clipped at the border; the template kept or
    erased. None without a unique largest template of 2+ cells or without markers."""
    objects = find_objects(grid, Reading(True, multicolour=True, zero_background=False))
    sizes = objects.stats[:, SIZE]
    if objects.count < 2 or sizes.max() < 2 or np.count_nonzero(sizes == sizes.max()) != 1:
        return None
    template = int(np.argmax(sizes))
    top, left, bottom, right = objects.box(template)
    drawn = objects.mask(template)[top:bottom, left:right]
    pattern = grid[top:bottom, left:right]
    h, w = grid.shape
    out = grid.copy()
    if not keep_template:
        out[objects.mask(template)] = objects.background
    markers = np.flatnonzero(sizes == 1)
    if markers.size == 0:
        return None
    for marker in markers.tolist():
        row, col = objects.box(marker)[:2]
        anchors = np.argwhere(drawn & (pattern == grid[row, col]))
        if len(anchors) == 1:
            dr, dc = anchors[0]
        elif drawn.shape[0] % 2 and drawn.shape[1] % 2:
            dr, dc = drawn.shape[0] // 2, drawn.shape[1] // 2
        else:
            return None
        for r, c in np.argwhere(drawn):
            rr, cc = row + r - dr, col + c - dc
            if 0 <= rr < h and 0 <= cc < w and (out[rr, cc] == objects.background or (rr, cc) == (row, col)):
                out[rr, cc] = pattern[r, c]
    return out
