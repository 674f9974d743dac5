"""Symmetry: restore a symmetric pattern whose cells of one "mask" colour hide what the symmetry puts
there (the whole grid, or only the hidden patch) or what a periodic tiling puts there, and make a grid
symmetric by mirroring one half onto the other or by overlaying its mirror images.

Mirror axes need not be the grid's centre: each grid's left-right and top-bottom axes are the
conflict-free ones on which most visible cell pairs agree. The mask colour is one every train input
shows and no train output does."""

from __future__ import annotations

import itertools
from functools import partial

import numpy as np

from arcsolve.constants import NUM_COLORS
from arcsolve.search.grid import Grid, background_colour, bounding_box, static_colours, vanishing_colours
from arcsolve.search.ops import Op, TaskView
from arcsolve.search.region_kernels import mirror_sum, smallest_period

FAMILY = "symmetry"
GROUPS = ("lr", "ud", "lr_ud", "rot180", "rot90", "transpose", "dihedral")
MAX_MASK_COLOURS = 2
FILL_PASSES = 3

Mapping = tuple[np.ndarray, np.ndarray]


def symmetry_mappings(shape: tuple[int, int], group: str, col_sum: int, row_sum: int) -> list[Mapping] | None:
    """For each symmetry of `group`, the (row, col) index arrays of every cell's image (may fall
    outside the grid), about the centre (row_sum / 2, col_sum / 2): mirrors c -> col_sum - c and
    r -> row_sum - r, half-turns, quarter-turns and diagonal mirrors. None when a quarter-turn or a
    diagonal mirror would not map cells onto cells (row_sum and col_sum of different parity)."""
    rows, cols = np.indices(shape)
    diff, total = row_sum - col_sum, row_sum + col_sum
    if group in ("rot90", "transpose", "dihedral") and diff % 2:
        return None
    diff, total = diff // 2, total // 2
    by_group = {
        "lr": [(rows, col_sum - cols)],
        "ud": [(row_sum - rows, cols)],
        "rot180": [(row_sum - rows, col_sum - cols)],
        "rot90": [(diff + cols, total - rows), (row_sum - rows, col_sum - cols), (total - cols, rows - diff)],
        "transpose": [(diff + cols, rows - diff)],
    }
    by_group["lr_ud"] = by_group["lr"] + by_group["ud"] + by_group["rot180"]
    if group != "dihedral":
        return by_group[group]
    return by_group["lr_ud"] + by_group["rot90"][::2] + by_group["transpose"] + [(total - cols, total - rows)]


def fitted_mappings(grid: Grid, hidden: np.ndarray, group: str) -> list[Mapping] | None:
    """The group's mappings with mirror axes fitted to the visible cells (see mirror_sum); None when
    a mirror the group needs has no conflict-free axis."""
    h, w = grid.shape
    col_sum = mirror_sum(grid, hidden) if group in ("lr", "lr_ud") else w - 1
    row_sum = mirror_sum(grid.T, hidden.T) if group in ("ud", "lr_ud") else h - 1
    if col_sum is None or row_sum is None:
        return None
    return symmetry_mappings(grid.shape, group, col_sum, row_sum)


def restore_hidden(grid: Grid, hidden: np.ndarray, mappings: list[Mapping]) -> Grid | None:
    """Each hidden cell given the value of a visible image of it (passes repeat so that images found
    in one pass can serve the next); None if a hidden cell has no visible image."""
    h, w = grid.shape
    out = grid.copy()
    hidden = hidden.copy()
    for _ in range(FILL_PASSES):
        for image_rows, image_cols in mappings:
            inside = (image_rows >= 0) & (image_rows < h) & (image_cols >= 0) & (image_cols < w)
            take = hidden & inside
            src_r, src_c = image_rows[take], image_cols[take]
            visible = ~hidden[src_r, src_c]
            targets = np.flatnonzero(take)[visible]
            out.flat[targets] = out[src_r[visible], src_c[visible]]
            hidden.flat[targets] = False
        if not hidden.any():
            return out
    return None


def complete_symmetry(grid: Grid, mask_colour: int, group: str, patch_only: bool) -> Grid | None:
    """The grid with its `mask_colour` cells restored by the symmetries of `group`; with
    `patch_only`, just the restored bounding box of the hidden cells."""
    hidden = grid == mask_colour
    box = bounding_box(hidden)
    if box is None:
        return None
    mappings = fitted_mappings(grid, hidden, group)
    if mappings is None:
        return None
    out = restore_hidden(grid, hidden, mappings)
    if out is None or not patch_only:
        return out
    top, left, bottom, right = box
    return np.ascontiguousarray(out[top:bottom, left:right])


def complete_tiling(grid: Grid, mask_colour: int, patch_only: bool) -> Grid | None:
    """The grid with its `mask_colour` cells restored from a periodic tiling: the smallest row and
    column periods the visible cells obey, each hidden cell taking the one colour its class (cells
    whole periods apart) shows; None when a class shows two colours or none."""
    hidden = grid == mask_colour
    box = bounding_box(hidden)
    if box is None:
        return None
    rows_period = smallest_period(grid, hidden)
    cols_period = smallest_period(grid.T, hidden.T)
    rows, cols = np.indices(grid.shape)
    classes = (rows % rows_period) * cols_period + cols % cols_period
    shown = np.bincount(classes[~hidden] * NUM_COLORS + grid[~hidden], minlength=classes.size * NUM_COLORS)
    shown = shown.reshape(-1, NUM_COLORS)[: rows_period * cols_period] > 0
    if np.any(shown.sum(axis=1) > 1) or not np.all(shown[classes[hidden]].any(axis=1)):
        return None
    out = grid.copy()
    out[hidden] = np.argmax(shown[classes[hidden]], axis=1)
    if not patch_only:
        return out
    top, left, bottom, right = box
    return np.ascontiguousarray(out[top:bottom, left:right])


def complete_diagonal_stripes(grid: Grid, mask_colour: int, anti: bool) -> Grid | None:
    """The grid with its `mask_colour` cells restored from diagonal stripes: each cell's colour a
    function of (row + col) mod p (`anti`: (row - col) mod p), p the smallest period the visible
    cells obey; None when none does or a hidden cell's stripe shows no colour."""
    hidden = grid == mask_colour
    if not hidden.any() or hidden.all():
        return None
    rows, cols = np.indices(grid.shape)
    diagonal = rows - cols if anti else rows + cols
    visible = grid[~hidden].astype(np.int64)
    for period in range(1, sum(grid.shape)):
        stripe = diagonal % period
        shown = np.zeros((period, NUM_COLORS), dtype=bool)
        shown[stripe[~hidden], visible] = True
        if np.any(shown.sum(axis=1) > 1):
            continue
        if not np.all(shown[stripe[hidden]].any(axis=1)):
            return None
        out = grid.copy()
        out[hidden] = np.argmax(shown[stripe[hidden]], axis=1)
        return out
    return None


def mirror_half(grid: Grid, side: str) -> Grid:
    """The `side` half ("left", "right", "top", "bottom") copied mirrored over the other half."""
    out = grid.copy()
    h, w = grid.shape
    if side == "left":
        out[:, w - w // 2 :] = grid[:, : w // 2][:, ::-1]
    elif side == "right":
        out[:, : w // 2] = grid[:, w - w // 2 :][:, ::-1]
    elif side == "top":
        out[h - h // 2 :] = grid[: h // 2][::-1]
    else:
        out[: h // 2] = grid[h - h // 2 :][::-1]
    return out


def overlay_mirror_images(grid: Grid, group: str) -> Grid | None:
    """Background cells given the first non-background value among their images (inside the grid)
    under the group's symmetries about the grid's centre, so the drawing becomes symmetric."""
    h, w = grid.shape
    return _overlay_images(grid, symmetry_mappings(grid.shape, group, w - 1, h - 1))


def mirror_about_colour(grid: Grid, colour: int, group: str) -> Grid | None:
    """overlay_mirror_images about the centre of the box of `colour`'s cells (a marker the drawing is
    symmetric about) instead of the grid's; None without such cells."""
    box = bounding_box(grid == colour)
    if box is None:
        return None
    top, left, bottom, right = box
    return _overlay_images(grid, symmetry_mappings(grid.shape, group, left + right - 1, top + bottom - 1))


def _overlay_images(grid: Grid, mappings: list[Mapping] | None) -> Grid | None:
    if mappings is None:
        return None
    bg = background_colour(grid)
    h, w = grid.shape
    out = grid.copy()
    for image_rows, image_cols in mappings:
        inside = (image_rows >= 0) & (image_rows < h) & (image_cols >= 0) & (image_cols < w)
        image = np.full(grid.shape, bg, dtype=np.uint8)
        image[inside] = grid[image_rows[inside], image_cols[inside]]
        take = (out == bg) & (image != bg)
        out[take] = image[take]
    return out


def mask_colours(view: TaskView) -> list[int]:
    """Colours in every train input and in no train output."""
    return vanishing_colours(view.train_inputs, view.train_outputs)[:MAX_MASK_COLOURS]


def ops(view: TaskView) -> list[Op]:
    same_shape = all(i.shape == o.shape for i, o in zip(view.train_inputs, view.train_outputs, strict=True))
    steps = []
    for colour in mask_colours(view):
        for group in GROUPS:
            args = (("mask_colour", colour), ("group", group), ("patch_only", not same_shape))
            fn = partial(complete_symmetry, mask_colour=colour, group=group, patch_only=not same_shape)
            steps.append(Op("complete_symmetry", FAMILY, fn, args))
        fn = partial(complete_tiling, mask_colour=colour, patch_only=not same_shape)
        steps.append(Op("complete_tiling", FAMILY, fn, args[:1] + args[2:]))
        for anti in (False, True) if same_shape else ():
            fn = partial(complete_diagonal_stripes, mask_colour=colour, anti=anti)
            steps.append(
                Op("complete_diagonal_stripes", FAMILY, fn, (("mask_colour", colour), ("anti", anti)))
            )
    if same_shape:
        for side in ("left", "right", "top", "bottom"):
            steps.append(Op("mirror_half", FAMILY, partial(mirror_half, side=side), (("side", side),)))
        for group in ("lr", "ud", "lr_ud", "rot90", "transpose"):
            fn = partial(overlay_mirror_images, group=group)
            steps.append(Op("overlay_mirror_images", FAMILY, fn, (("group", group),)))
        for colour, group in itertools.product(
            static_colours(view.train_inputs, view.train_outputs), ("lr_ud", "rot90")
        ):
            fn = partial(mirror_about_colour, colour=colour, group=group)
            steps.append(Op("mirror_about_colour", FAMILY, fn, (("colour", colour), ("group", group))))
    return steps


FITTERS = ()
