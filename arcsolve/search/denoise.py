"""Denoise: remove or fill isolated specks, keep only solid blocks, settle each noisy object on its
commonest colour, clean noisy stripes by each row's or column's majority, downscale by block majority,
restore a periodic or mirror-symmetric pattern under a noise colour (or output just the patch it hid)."""

from __future__ import annotations

import itertools
from functools import partial

import numpy as np

from arcsolve.constants import NUM_COLORS
from arcsolve.search import object_kernels as kernels
from arcsolve.search.grid import Grid, background_colour, bounding_box, vanishing_colours
from arcsolve.search.object_select import Reading, find_objects
from arcsolve.search.ops import Op, TaskView
from arcsolve.search.partition import block_counts

FAMILY = "denoise"


def remove_specks(grid: Grid, diagonal: bool) -> Grid:
    """Cells with no 4- (or 8-) neighbour of their own colour become background."""
    return kernels.replace_specks(grid, diagonal, background_colour(grid), False)


def fill_specks(grid: Grid, diagonal: bool) -> Grid:
    """Cells with no 4- (or 8-) neighbour of their own colour take their neighbours' commonest colour."""
    return kernels.replace_specks(grid, diagonal, background_colour(grid), True)


def keep_blocks(grid: Grid) -> Grid:
    """Only cells inside some 2x2 square of one colour kept, the rest background (noise around
    solid shapes)."""
    same = (
        (grid[:-1, :-1] == grid[1:, :-1])
        & (grid[:-1, :-1] == grid[:-1, 1:])
        & (grid[:-1, :-1] == grid[1:, 1:])
    )
    keep = np.zeros(grid.shape, bool)
    for dr in (0, 1):
        for dc in (0, 1):
            keep[dr : dr + same.shape[0], dc : dc + same.shape[1]] |= same
    return np.where(keep, grid, np.uint8(background_colour(grid)))


def settle_objects(grid: Grid) -> Grid:
    """Every object (4-connected non-background cells of any colours) painted its commonest colour."""
    objects = find_objects(grid, Reading(diagonal=False, multicolour=True, zero_background=False))
    counts = np.zeros((objects.count + 1, NUM_COLORS), np.int64)
    np.add.at(counts, (objects.labels.ravel() + 1, grid.ravel()), 1)
    commonest = counts.argmax(axis=1).astype(np.uint8)
    return np.where(objects.labels >= 0, commonest[objects.labels + 1], grid)


def downscale_majority(grid: Grid, rows: int, cols: int) -> Grid | None:
    """Each rows x cols block becomes one cell of its commonest colour (the lowest on ties)."""
    h, w = grid.shape
    if h % rows or w % cols:
        return None
    blocks = (
        grid.reshape(h // rows, rows, w // cols, cols).transpose(0, 2, 1, 3).reshape(h // rows, w // cols, -1)
    )
    counts = (blocks[..., None] == np.arange(NUM_COLORS, dtype=np.uint8)).sum(axis=2)
    return np.ascontiguousarray(counts.argmax(axis=2).astype(np.uint8))


def restore_pattern(grid: Grid, noise: int) -> Grid | None:
    """Cells of colour `noise` refilled from the smallest period the other cells repeat with."""
    if not (grid == noise).any():
        return None
    out, found = kernels.fill_from_period(grid, noise)
    return out if found else None


def restore_symmetry(grid: Grid, noise: int) -> Grid | None:
    """Cells of colour `noise` refilled from their images under every mirror symmetry the other
    cells keep (where they overlap, on at least half the grid); None if some cell stays unfilled."""
    if not (grid == noise).any():
        return None
    out, complete = kernels.fill_from_mirrors(grid, noise)
    return out if complete else None


def restored_patch(grid: Grid, noise: int, symmetric: bool) -> Grid | None:
    """What lies under the `noise` cells: the restored grid (by symmetry, or else by period) cropped
    to their bounding box."""
    restored = restore_symmetry(grid, noise) if symmetric else restore_pattern(grid, noise)
    if restored is None:
        return None
    top, left, bottom, right = bounding_box(grid == noise)
    return np.ascontiguousarray(restored[top:bottom, left:right])


def stripes_by_majority(grid: Grid, axis: str) -> Grid:
    """Each row (`axis="rows"`; or column) painted all over with its commonest colour (the lowest on
    ties): noisy stripes made clean. `axis="either"`: the direction that changes fewer cells (rows
    on a tie)."""
    if axis == "either":
        by_rows, by_cols = stripes_by_majority(grid, "rows"), stripes_by_majority(grid, "columns")
        return by_rows if np.count_nonzero(by_rows != grid) <= np.count_nonzero(by_cols != grid) else by_cols
    turned = grid if axis == "rows" else grid.T
    counts = np.stack([np.bincount(line, minlength=NUM_COLORS) for line in turned])
    out = np.repeat(np.argmax(counts, axis=1).astype(np.uint8)[:, None], turned.shape[1], axis=1)
    return np.ascontiguousarray(out if axis == "rows" else out.T)


def ops(view: TaskView) -> list[Op]:
    """Majority downscaling and restored patches where outputs are smaller than inputs, the rest
    where they keep the inputs' shape; noise colours are those every train input has and no train
    output has."""
    steps = []
    for rows, cols in block_counts(view):
        scale = partial(downscale_majority, rows=rows, cols=cols)
        steps.append(Op("downscale_majority", FAMILY, scale, (("rows", rows), ("cols", cols))))
    noise_colours = vanishing_colours(view.train_inputs, view.train_outputs)
    if any(i.shape != o.shape for i, o in zip(view.train_inputs, view.train_outputs, strict=True)):
        for noise, symmetric in itertools.product(noise_colours, (False, True)):
            patch = partial(restored_patch, noise=noise, symmetric=symmetric)
            steps.append(Op("restored_patch", FAMILY, patch, (("noise", noise), ("symmetric", symmetric))))
        return steps
    for diagonal in (False, True):
        args = (("conn", 8 if diagonal else 4),)
        steps.append(Op("remove_specks", FAMILY, partial(remove_specks, diagonal=diagonal), args))
        steps.append(Op("fill_specks", FAMILY, partial(fill_specks, diagonal=diagonal), args))
    steps.append(Op("keep_blocks", FAMILY, keep_blocks))
    for axis in ("rows", "columns", "either"):
        steps.append(
            Op("stripes_by_majority", FAMILY, partial(stripes_by_majority, axis=axis), (("axis", axis),))
        )
    steps.append(Op("settle_objects", FAMILY, settle_objects))
    for noise, restore in itertools.product(noise_colours, (restore_pattern, restore_symmetry)):
        steps.append(Op(restore.__name__, FAMILY, partial(restore, noise=noise), (("noise", noise),)))
    return steps


FITTERS = ()
