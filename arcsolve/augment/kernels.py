"""Numba kernels for the hot paths: many grids x many augmentations -> token rows, and back.

Each public function is a NumPy-facing wrapper (checks dtypes, shapes and values, no JIT) over a
private `@njit` kernel that does the work. The plain reference each kernel is tested against is the
per-grid `Augmentation.apply` + `encode_grid` (and `decode_grid` + `Augmentation.invert`).

A task's grids travel packed: one flat uint8 buffer of all grids row-major, with the start, height
and width of each grid (`PackedGrids`). Augmentations travel as a table: dihedral ids int64 [A] and
colour maps uint8 [A, 10].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit

from arcsolve.augment.transforms import SWAPS_SIDES
from arcsolve.constants import (
    COLOR_OFFSET,
    DIHEDRAL_INVERSE,
    EOS_TOKEN,
    JIT_FLAGS,
    MAX_GRID,
    NUM_COLORS,
    NUM_DIHEDRAL,
)
from arcsolve.errors import BadInputError

_SWAPS = np.array(SWAPS_SIDES, dtype=np.bool_)
_INVERSE = np.array(DIHEDRAL_INVERSE, dtype=np.int64)


@dataclass(frozen=True)
class PackedGrids:
    """Grids of one task in one flat buffer: grid g is `flat[starts[g]:][:h*w].reshape(h, w)`."""

    flat: np.ndarray  # uint8 [sum of h*w]
    starts: np.ndarray  # int64 [n]
    heights: np.ndarray  # int64 [n]
    widths: np.ndarray  # int64 [n]

    def __len__(self) -> int:
        return int(self.starts.shape[0])

    def grid(self, g: int) -> np.ndarray:
        h, w = int(self.heights[g]), int(self.widths[g])
        return self.flat[self.starts[g] : self.starts[g] + h * w].reshape(h, w)


def pack_grids(grids: Sequence[np.ndarray]) -> PackedGrids:
    """Pack 2-D grids of colours 0..9 (any integer dtype) into one buffer."""
    if not grids:
        raise BadInputError("augment", "no grids to pack")
    shapes = []
    for i, grid in enumerate(grids):
        grid = np.asarray(grid)
        if grid.ndim != 2 or grid.size == 0:
            raise BadInputError("augment", f"grid {i} has shape {grid.shape}, expected a non-empty 2-D grid")
        if grid.min() < 0 or grid.max() >= NUM_COLORS:
            raise BadInputError("augment", f"grid {i} holds a value outside 0..{NUM_COLORS - 1}")
        shapes.append(grid.shape)
    heights = np.array([s[0] for s in shapes], dtype=np.int64)
    widths = np.array([s[1] for s in shapes], dtype=np.int64)
    sizes = heights * widths
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    flat = np.concatenate([np.asarray(g, dtype=np.uint8).reshape(-1) for g in grids])
    return PackedGrids(flat=flat, starts=starts, heights=heights, widths=widths)


@njit(**JIT_FLAGS)
def dihedral_coefficients(d, h, w):
    """Source cell (y, x) of an h x w grid lands at (i0 + iy*y + ix*x, j0 + jy*y + jx*x)."""
    if d == 0:
        return 0, 1, 0, 0, 0, 1
    if d == 1:
        return w - 1, 0, -1, 0, 1, 0
    if d == 2:
        return h - 1, -1, 0, w - 1, 0, -1
    if d == 3:
        return 0, 0, 1, h - 1, -1, 0
    if d == 4:
        return 0, 1, 0, w - 1, 0, -1
    if d == 5:
        return h - 1, -1, 0, 0, 0, 1
    if d == 6:
        return 0, 0, 1, 0, 1, 0
    if d == 7:
        return w - 1, 0, -1, h - 1, -1, 0
    raise ValueError("unknown dihedral id")


@njit(**JIT_FLAGS)
def _place(flat, start, h, w, src_stride, d, colours, add, out, base, stride):
    """Write the h x w grid at flat[start + y*src_stride + x] under dihedral d and colour table
    `colours` (plus `add`) into out[base + i*stride + j]."""
    i0, iy, ix, j0, jy, jx = dihedral_coefficients(d, h, w)
    row_step = iy * stride + jy
    col_step = ix * stride + jx
    origin = base + i0 * stride + j0
    for y in range(h):
        at = origin + y * row_step
        src = start + y * src_stride
        for x in range(w):
            out[at + x * col_step] = colours[flat[src + x]] + add


@njit(**JIT_FLAGS)
def _encode_kernel(
    flat, starts, heights, widths, swaps, dihedrals, colour_maps, grid_index, aug_index, offsets, canvas, out
):
    for k in range(grid_index.shape[0]):
        g = grid_index[k]
        a = aug_index[k]
        h = heights[g]
        w = widths[g]
        d = dihedrals[a]
        hh, ww = (w, h) if swaps[d] else (h, w)
        r0 = offsets[k, 0]
        c0 = offsets[k, 1]
        row = out[k]
        row[:] = 0
        _place(flat, starts[g], h, w, w, d, colour_maps[a], COLOR_OFFSET, row, r0 * canvas + c0, canvas)
        if r0 + hh < canvas:
            below = (r0 + hh) * canvas + c0
            for j in range(ww):
                row[below + j] = EOS_TOKEN
        if c0 + ww < canvas:
            for i in range(hh):
                row[(r0 + i) * canvas + c0 + ww] = EOS_TOKEN


@njit(**JIT_FLAGS)
def _transform_kernel(flat, starts, heights, widths, swaps, dihedrals, colour_maps, out):
    # Each dihedral image is built once; the colour maps then act cell by cell on contiguous rows.
    total = flat.shape[0]
    images = np.empty((swaps.shape[0], total), dtype=np.uint8)
    built = np.zeros(swaps.shape[0], dtype=np.bool_)
    identity = np.arange(colour_maps.shape[1]).astype(np.uint8)
    for a in range(dihedrals.shape[0]):
        d = dihedrals[a]
        if not built[d]:
            for g in range(starts.shape[0]):
                h = heights[g]
                w = widths[g]
                stride = h if swaps[d] else w
                _place(flat, starts[g], h, w, w, d, identity, 0, images[d], starts[g], stride)
            built[d] = True
        image = images[d]
        colours = colour_maps[a]
        row = out[a]
        for i in range(total):
            row[i] = colours[image[i]]


@njit(**JIT_FLAGS)
def _is_colour(token):
    return COLOR_OFFSET <= token < COLOR_OFFSET + NUM_COLORS


@njit(**JIT_FLAGS)
def _find_grid(tokens, canvas, r0, c0):
    """(h, w) of the grid at (r0, c0) by the rule in `arcsolve.augment.encoding`, (0, 0) if invalid."""
    w = 0
    while c0 + w < canvas and _is_colour(tokens[r0 * canvas + c0 + w]):
        w += 1
    h = 0
    while w > 0 and r0 + h < canvas:
        base = (r0 + h) * canvas + c0
        ok = c0 + w == canvas or tokens[base + w] == EOS_TOKEN
        for j in range(w):
            ok = ok and _is_colour(tokens[base + j])
        if not ok:
            break
        h += 1
    if h == 0 or h > MAX_GRID or w > MAX_GRID:
        return 0, 0
    if r0 + h < canvas:
        base = (r0 + h) * canvas + c0
        for j in range(w):
            if tokens[base + j] != EOS_TOKEN:
                return 0, 0
    return h, w


@njit(**JIT_FLAGS)
def _decode_kernel(tokens, canvas, swaps, inverse, dihedrals, luts, offsets, grids, shapes):
    for k in range(tokens.shape[0]):
        r0 = offsets[k, 0]
        c0 = offsets[k, 1]
        h, w = _find_grid(tokens[k], canvas, r0, c0)
        grids[k, :, :] = 0
        d = inverse[dihedrals[k]]
        if h == 0:
            shapes[k, 0] = 0
            shapes[k, 1] = 0
            continue
        shapes[k, 0], shapes[k, 1] = (w, h) if swaps[d] else (h, w)
        flat_out = grids[k].reshape(-1)
        _place(tokens[k], r0 * canvas + c0, h, w, canvas, d, luts[k], 0, flat_out, 0, MAX_GRID)


def _check_augmentation_table(
    dihedrals: np.ndarray, colour_maps: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    dihedrals = np.ascontiguousarray(dihedrals, dtype=np.int64).reshape(-1)
    maps = np.asarray(colour_maps)
    if maps.ndim != 2 or maps.shape != (dihedrals.shape[0], NUM_COLORS):
        raise BadInputError(
            "augment", f"colour maps have shape {maps.shape}, expected ({dihedrals.shape[0]}, 10)"
        )
    if dihedrals.size and (dihedrals.min() < 0 or dihedrals.max() >= NUM_DIHEDRAL):
        bad = dihedrals[(dihedrals < 0) | (dihedrals >= NUM_DIHEDRAL)][0]
        raise BadInputError("augment", f"unknown dihedral id {bad} (expected 0..{NUM_DIHEDRAL - 1})")
    if maps.size and not (np.sort(maps, axis=1) == np.arange(NUM_COLORS)).all():
        raise BadInputError("augment", "a colour map is not a permutation of 0..9")
    return dihedrals, np.ascontiguousarray(maps, dtype=np.uint8)


def view_shapes(packed: PackedGrids, dihedrals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Heights and widths (int64 [A, n]) of every grid under every dihedral id."""
    swap = _SWAPS[np.asarray(dihedrals, dtype=np.int64)][:, None]
    return np.where(swap, packed.widths, packed.heights), np.where(swap, packed.heights, packed.widths)


def row_shapes(
    packed: PackedGrids, dihedrals: np.ndarray, grid_index: np.ndarray, aug_index: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Height and width of row k's view: grid `grid_index[k]` under dihedral `dihedrals[aug_index[k]]`."""
    swap = _SWAPS[dihedrals[aug_index]]  # per row, not [A, n]: a recipe batch spans many tasks' grids
    heights, widths = packed.heights[grid_index], packed.widths[grid_index]
    return np.where(swap, widths, heights), np.where(swap, heights, widths)


def encode_views(
    packed: PackedGrids,
    dihedrals: np.ndarray,
    colour_maps: np.ndarray,
    grid_index: np.ndarray,
    aug_index: np.ndarray,
    offsets: np.ndarray,
    canvas: int,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Row k = tokens of grid `grid_index[k]` under augmentation `aug_index[k]` at `offsets[k]`.

    Returns uint8 [K, canvas*canvas] (written into `out` when given).
    """
    dihedrals, maps = _check_augmentation_table(dihedrals, colour_maps)
    grid_index = np.ascontiguousarray(grid_index, dtype=np.int64).reshape(-1)
    aug_index = np.ascontiguousarray(aug_index, dtype=np.int64).reshape(-1)
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    k = grid_index.shape[0]
    if aug_index.shape[0] != k or offsets.shape != (k, 2):
        raise BadInputError("augment", f"grid_index, aug_index and offsets disagree on the row count {k}")
    if k and (grid_index.min() < 0 or grid_index.max() >= len(packed)):
        raise BadInputError("augment", "grid_index points outside the packed grids")
    if k and (aug_index.min() < 0 or aug_index.max() >= dihedrals.shape[0]):
        raise BadInputError("augment", "aug_index points outside the augmentation table")
    hh, ww = row_shapes(packed, dihedrals, grid_index, aug_index)
    if k and (
        offsets.min() < 0 or (offsets[:, 0] + hh).max() > canvas or (offsets[:, 1] + ww).max() > canvas
    ):
        raise BadInputError("augment", f"an offset puts a grid outside the {canvas}x{canvas} canvas")
    if out is None:
        out = np.empty((k, canvas * canvas), dtype=np.uint8)
    elif out.dtype != np.uint8 or out.shape != (k, canvas * canvas) or not out.flags.c_contiguous:
        raise BadInputError("augment", f"out must be C-contiguous uint8 [{k}, {canvas * canvas}]")
    grids = (packed.flat, packed.starts, packed.heights, packed.widths)
    _encode_kernel(*grids, _SWAPS, dihedrals, maps, grid_index, aug_index, offsets, int(canvas), out)
    return out


def encode_augmented(
    packed: PackedGrids,
    dihedrals: np.ndarray,
    colour_maps: np.ndarray,
    canvas: int,
    offsets: np.ndarray | None = None,
) -> np.ndarray:
    """Every grid under every augmentation: uint8 [A * n, canvas*canvas], row a*n + g.

    `offsets` is int [A, n, 2] (default: all at (0, 0)).
    """
    n_aug, n = np.asarray(dihedrals).reshape(-1).shape[0], len(packed)
    aug_index = np.repeat(np.arange(n_aug, dtype=np.int64), n)
    grid_index = np.tile(np.arange(n, dtype=np.int64), n_aug)
    rows = np.zeros((n_aug * n, 2), dtype=np.int64) if offsets is None else np.asarray(offsets).reshape(-1, 2)
    return encode_views(packed, dihedrals, colour_maps, grid_index, aug_index, rows, canvas)


def transform_packed(packed: PackedGrids, dihedrals: np.ndarray, colour_maps: np.ndarray) -> np.ndarray:
    """Row a = every grid under augmentation a, packed at the original starts (uint8 [A, total]).

    Grid g of row a has shape `view_shapes(packed, dihedrals)[.][a, g]`; a row plus those shapes
    identifies the augmented task exactly, which is what duplicate detection compares.
    """
    dihedrals, maps = _check_augmentation_table(dihedrals, colour_maps)
    out = np.empty((dihedrals.shape[0], packed.flat.shape[0]), dtype=np.uint8)
    _transform_kernel(packed.flat, packed.starts, packed.heights, packed.widths, _SWAPS, dihedrals, maps, out)
    return out


def decode_views(
    tokens: np.ndarray,
    canvas: int,
    dihedrals: np.ndarray | None = None,
    colour_maps: np.ndarray | None = None,
    offsets: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Decode K token rows and undo each row's augmentation (dihedral id, colour map, offset).

    Returns (grids uint8 [K, 30, 30], shapes int64 [K, 2]): row k's grid, in the original task's
    frame, is `grids[k, :h, :w]` with `(h, w) = shapes[k]`; shape (0, 0) marks an invalid row.
    Defaults: identity dihedral, identity colours, offset (0, 0).
    """
    tokens = np.asarray(tokens)
    if tokens.ndim != 2 or tokens.shape[1] != canvas * canvas:
        raise BadInputError("augment", f"tokens have shape {tokens.shape}, expected [K, {canvas * canvas}]")
    tokens = np.ascontiguousarray(tokens, dtype=np.uint8)
    k = tokens.shape[0]
    dihedrals = np.zeros(k, np.int64) if dihedrals is None else dihedrals
    colour_maps = (
        np.tile(np.arange(NUM_COLORS, dtype=np.uint8), (k, 1)) if colour_maps is None else colour_maps
    )
    dihedrals, maps = _check_augmentation_table(dihedrals, colour_maps)
    offsets = np.zeros((k, 2), np.int64) if offsets is None else np.ascontiguousarray(offsets, dtype=np.int64)
    if dihedrals.shape[0] != k or offsets.shape != (k, 2):
        raise BadInputError("augment", f"dihedrals, colour maps and offsets must have {k} rows")
    if k and (offsets.min() < 0 or offsets.max() >= canvas):
        raise BadInputError("augment", f"an offset lies outside the {canvas}x{canvas} canvas")
    # luts[k, t] = original colour of token t under row k's colour map (tokens 0 and 1 never looked up).
    luts = np.zeros((k, COLOR_OFFSET + NUM_COLORS), dtype=np.uint8)
    rows = np.arange(k)[:, None]
    luts[rows, maps.astype(np.int64) + COLOR_OFFSET] = np.arange(NUM_COLORS, dtype=np.uint8)
    grids = np.empty((k, MAX_GRID, MAX_GRID), dtype=np.uint8)
    shapes = np.empty((k, 2), dtype=np.int64)
    _decode_kernel(tokens, int(canvas), _SWAPS, _INVERSE, dihedrals, luts, offsets, grids, shapes)
    return grids, shapes


def unpack_views(grids: np.ndarray, shapes: np.ndarray) -> list[np.ndarray | None]:
    """The output of `decode_views` as a list of grids (None for an invalid row)."""
    return [grids[k, :h, :w].copy() if h else None for k, (h, w) in enumerate(shapes.tolist())]
