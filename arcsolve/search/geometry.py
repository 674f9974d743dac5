"""Geometry: the 8 dihedral maps, integer up/down-scaling, tiling (plain, mirrored, self-similar),
cropping to content. Scale and tile factors come from the task's shapes, not from a blind range."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np

from arcsolve.constants import MAX_GRID
from arcsolve.search.grid import Grid, background_colour, bounding_box, commonest_colour_of
from arcsolve.search.ops import Op, TaskView

FAMILY = "geometry"


def rotate_90(grid: Grid) -> Grid:
    """Quarter turn clockwise."""
    return np.ascontiguousarray(np.rot90(grid, -1))


def rotate_180(grid: Grid) -> Grid:
    return np.ascontiguousarray(grid[::-1, ::-1])


def rotate_270(grid: Grid) -> Grid:
    """Quarter turn anticlockwise."""
    return np.ascontiguousarray(np.rot90(grid, 1))


def flip_horizontal(grid: Grid) -> Grid:
    """Mirror left <-> right."""
    return np.ascontiguousarray(grid[:, ::-1])


def flip_vertical(grid: Grid) -> Grid:
    """Mirror top <-> bottom."""
    return np.ascontiguousarray(grid[::-1, :])


def transpose(grid: Grid) -> Grid:
    return np.ascontiguousarray(grid.T)


def anti_transpose(grid: Grid) -> Grid:
    """Mirror across the anti-diagonal."""
    return np.ascontiguousarray(grid[::-1, ::-1].T)


DIHEDRAL = (rotate_90, rotate_180, rotate_270, flip_horizontal, flip_vertical, transpose, anti_transpose)


def upscale(grid: Grid, rows: int, cols: int) -> Grid | None:
    """Each cell becomes a rows x cols block."""
    if grid.shape[0] * rows > MAX_GRID or grid.shape[1] * cols > MAX_GRID:
        return None
    return np.ascontiguousarray(np.repeat(np.repeat(grid, rows, axis=0), cols, axis=1))


def downscale(grid: Grid, rows: int, cols: int) -> Grid | None:
    """The inverse of upscale: every rows x cols block must be one colour."""
    h, w = grid.shape
    if h % rows or w % cols:
        return None
    small = grid[::rows, ::cols]
    if not np.array_equal(upscale(small, rows, cols), grid):
        return None
    return np.ascontiguousarray(small)


def tile(grid: Grid, rows: int, cols: int) -> Grid | None:
    """rows x cols copies of the grid side by side."""
    if grid.shape[0] * rows > MAX_GRID or grid.shape[1] * cols > MAX_GRID:
        return None
    return np.ascontiguousarray(np.tile(grid, (rows, cols)))


def tile_mirrored(grid: Grid, rows: int, cols: int) -> Grid | None:
    """rows x cols copies, every other column of copies mirrored left-right and every other row of
    copies mirrored top-bottom (a kaleidoscope)."""
    h, w = grid.shape
    if h * rows > MAX_GRID or w * cols > MAX_GRID:
        return None
    out = np.empty((h * rows, w * cols), dtype=np.uint8)
    for r in range(rows):
        for c in range(cols):
            block = grid[::-1] if r % 2 else grid
            out[r * h : (r + 1) * h, c * w : (c + 1) * w] = block[:, ::-1] if c % 2 else block
    return out


def tile_self_similar(grid: Grid, where: str | int = "drawn", blank: int | None = None) -> Grid | None:
    """A grid of grids: the copy at block (r, c) is the grid where cell (r, c) is drawn (not the
    blank colour; `where="background"`: where it is the blank colour; "commonest": where it has the
    grid's commonest colour; an int: where it has that colour), else a blank block (the fractal
    tasks). `blank` None: the grid's background colour."""
    h, w = grid.shape
    if h * h > MAX_GRID or w * w > MAX_GRID:
        return None
    bg = background_colour(grid) if blank is None else blank
    if where == "drawn":
        mask = grid != bg
    elif where == "background":
        mask = grid == bg
    else:
        mask = grid == (background_colour(grid) if where == "commonest" else where)
    blocks = np.kron(mask.astype(np.uint8), np.ones_like(grid))
    return np.where(blocks == 1, np.tile(grid, (h, w)), bg).astype(np.uint8)


def crop_to_content(grid: Grid) -> Grid | None:
    """The smallest rectangle holding every non-background cell."""
    box = bounding_box(grid != background_colour(grid))
    if box is None:
        return None
    top, left, bottom, right = box
    return np.ascontiguousarray(grid[top:bottom, left:right])


def collapse_repeats(grid: Grid) -> Grid | None:
    """Each run of identical adjacent rows becomes one row, then likewise for columns."""
    keep_rows = np.ones(grid.shape[0], dtype=bool)
    keep_rows[1:] = (grid[1:] != grid[:-1]).any(axis=1)
    rows = grid[keep_rows]
    keep_cols = np.ones(rows.shape[1], dtype=bool)
    keep_cols[1:] = (rows[:, 1:] != rows[:, :-1]).any(axis=0)
    out = rows[:, keep_cols]
    return None if out.shape == grid.shape else np.ascontiguousarray(out)


def drop_background_lines(grid: Grid) -> Grid | None:
    """Every row and column made only of background is removed (the rest closes up)."""
    content = grid != background_colour(grid)
    rows, cols = content.any(axis=1), content.any(axis=0)
    if not rows.any() or (rows.all() and cols.all()):
        return None
    return np.ascontiguousarray(grid[rows][:, cols])


def _factors(view: TaskView) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Integer (rows, cols) factors by which every train output is larger / smaller than its input."""
    up, down = set(), set()
    pairs = list(zip(view.train_inputs, view.train_outputs, strict=True))
    if any(o.shape[0] % i.shape[0] or o.shape[1] % i.shape[1] for i, o in pairs):
        pairs = [(i.T, o) for i, o in pairs]  # a transpose first may make the shapes divide
    if all(o.shape[0] % i.shape[0] == 0 and o.shape[1] % i.shape[1] == 0 for i, o in pairs):
        up = {(o.shape[0] // i.shape[0], o.shape[1] // i.shape[1]) for i, o in pairs}
    if all(i.shape[0] % o.shape[0] == 0 and i.shape[1] % o.shape[1] == 0 for i, o in pairs):
        down = {(i.shape[0] // o.shape[0], i.shape[1] // o.shape[1]) for i, o in pairs}
    up.discard((1, 1))
    down.discard((1, 1))
    # Factors that vary per pair (scale to a fixed size) are left to fitters.
    return (sorted(up) if len(up) == 1 else []), (sorted(down) if len(down) == 1 else [])


def ops(view: TaskView) -> list[Op]:
    steps = [Op(f.__name__, FAMILY, f) for f in DIHEDRAL]
    steps.append(Op("crop_to_content", FAMILY, crop_to_content))
    if any(o.size < i.size for i, o in zip(view.train_inputs, view.train_outputs, strict=True)):
        steps.append(Op("collapse_repeats", FAMILY, collapse_repeats))
        steps.append(Op("drop_background_lines", FAMILY, drop_background_lines))
    up, down = _factors(view)
    for rows, cols in up:
        args = (("rows", rows), ("cols", cols))
        steps.append(Op("upscale", FAMILY, partial(upscale, rows=rows, cols=cols), args))
        steps.append(Op("tile", FAMILY, partial(tile, rows=rows, cols=cols), args))
        steps.append(Op("tile_mirrored", FAMILY, partial(tile_mirrored, rows=rows, cols=cols), args))
    for rows, cols in down:
        args = (("rows", rows), ("cols", cols))
        steps.append(Op("downscale", FAMILY, partial(downscale, rows=rows, cols=cols), args))
    if up and all(
        o.shape == (i.shape[0] ** 2, i.shape[1] ** 2)
        for i, o in zip(view.train_inputs, view.train_outputs, strict=True)
    ):
        palette = sorted(set().union(*(np.unique(i).tolist() for i in view.train_inputs)))
        for where in ("drawn", "background", *palette):
            fn = partial(tile_self_similar, where=where)
            steps.append(Op("tile_self_similar", FAMILY, fn, (("where", where),)))
    return steps


def identity(grid: Grid) -> Grid:
    return grid


# What a block of an arrangement may hold: the grid itself or one of its dihedral images, in the order
# a fit prefers them when a symmetric grid makes several match.
BLOCK_MAPS = {"x": identity, **{f.__name__: f for f in DIHEDRAL}}


def arrange_blocks(grid: Grid, layout: tuple[tuple[str | int, ...], ...]) -> Grid | None:
    """A grid of blocks the size of `grid`: block (r, c) is `layout[r][c]` applied to the grid (a
    BLOCK_MAPS name), or that one colour throughout (an int). None where a block would change shape."""
    h, w = grid.shape
    rows, cols = len(layout), len(layout[0])
    if h * rows > MAX_GRID or w * cols > MAX_GRID:
        return None
    out = np.empty((h * rows, w * cols), dtype=np.uint8)
    for r, row in enumerate(layout):
        for c, fill in enumerate(row):
            block = fill if isinstance(fill, int) else BLOCK_MAPS[fill](grid)
            if not isinstance(fill, int) and block.shape != (h, w):
                return None
            out[r * h : (r + 1) * h, c * w : (c + 1) * w] = block
    return out


def _block_fill(candidates: Sequence[Grid], targets: Sequence[Grid], r: int, c: int) -> str | int | None:
    """What block (r, c) of every target is, in terms of its candidate; None if nothing fits all."""
    blocks = []
    for cand, target in zip(candidates, targets, strict=True):
        h, w = cand.shape
        blocks.append(target[r * h : (r + 1) * h, c * w : (c + 1) * w])
    for name, fn in BLOCK_MAPS.items():
        made = [fn(cand) for cand in candidates]
        if all(m.shape == b.shape and np.array_equal(m, b) for m, b in zip(made, blocks, strict=True)):
            return name
    colour = int(blocks[0].flat[0])
    if all(np.all(b == colour) for b in blocks):
        return colour
    return None


def fit_block_arrangement(
    candidates: Sequence[Grid], targets: Sequence[Grid], tests: Sequence[Grid]
) -> Op | None:
    """The target as a grid of blocks the candidate's size, each block the candidate, one of its
    dihedral images or one colour, the same layout in every pair (plain and mirrored tiling, a
    pinwheel of rotations, a copy beside a blank). The factor is the target shape over the candidate's."""
    factors = set()
    for cand, target in zip(candidates, targets, strict=True):
        if target.shape[0] % cand.shape[0] or target.shape[1] % cand.shape[1]:
            return None
        factors.add((target.shape[0] // cand.shape[0], target.shape[1] // cand.shape[1]))
    if len(factors) != 1 or factors == {(1, 1)}:
        return None
    rows, cols = factors.pop()
    layout = []
    for r in range(rows):
        row = tuple(_block_fill(candidates, targets, r, c) for c in range(cols))
        if None in row:
            return None
        layout.append(row)
    if all(isinstance(fill, int) for row in layout for fill in row):
        return None  # no block shows the candidate: not an arrangement of it
    layout_t = tuple(layout)
    if any(arrange_blocks(t, layout_t) is None for t in tests):
        return None
    if all(fill == "x" for row in layout_t for fill in row):
        return Op("tile", FAMILY, partial(tile, rows=rows, cols=cols), (("rows", rows), ("cols", cols)))
    return Op("arrange_blocks", FAMILY, partial(arrange_blocks, layout=layout_t), (("layout", layout_t),))


def _first_fit(
    candidates: Sequence[Grid], targets: Sequence[Grid], tests: Sequence[Grid], steps
) -> Op | None:
    """The first of `steps` (ops) that maps every candidate onto its target and applies to every test."""
    for op in steps:
        if all(
            (made := op(c)) is not None and made.shape == t.shape and np.array_equal(made, t)
            for c, t in zip(candidates, targets, strict=True)
        ) and all(op(t) is not None for t in tests):
            return op
    return None


def fit_self_similar(candidates: Sequence[Grid], targets: Sequence[Grid], tests: Sequence[Grid]) -> Op | None:
    """A grid of grids of the candidate (tile_self_similar), whatever step made it: the targets are
    the candidates' shapes squared. Blank blocks take the grid's background or the targets' commonest colour."""
    if not all(
        t.shape == (c.shape[0] ** 2, c.shape[1] ** 2) for c, t in zip(candidates, targets, strict=True)
    ):
        return None
    palette = sorted(set().union(*(np.unique(c).tolist() for c in candidates)))
    steps = (
        Op("tile_self_similar", FAMILY, partial(tile_self_similar, where=where, blank=blank), args)
        for blank in (None, commonest_colour_of(targets))
        for where in ("drawn", "background", "commonest", *palette)
        for args in [(("where", where),) + ((("blank", blank),) if blank is not None else ())]
    )
    return _first_fit(candidates, targets, tests, steps)


def upscale_by_colour_count(grid: Grid) -> Grid | None:
    """Each cell a k x k square, k the number of colours other than the background."""
    k = len(np.unique(grid)) - 1
    return upscale(grid, k, k) if k > 0 else None


def fit_rescale(candidates: Sequence[Grid], targets: Sequence[Grid], tests: Sequence[Grid]) -> Op | None:
    """Integer up- or down-scaling of the candidate by the one factor its shape and the target's give
    in every pair (the factors `ops` offers come from the task's input and output shapes only), or
    up by a factor that varies with the number of colours drawn."""
    ups, downs = set(), set()
    for c, t in zip(candidates, targets, strict=True):
        (ch, cw), (th, tw) = c.shape, t.shape
        ups.add((th // ch, tw // cw) if th % ch == 0 and tw % cw == 0 else None)
        downs.add((ch // th, cw // tw) if ch % th == 0 and cw % tw == 0 else None)
    steps = []
    if len(ups) == 1 and None not in ups and ups != {(1, 1)}:
        rows, cols = ups.pop()
        steps.append(
            Op("upscale", FAMILY, partial(upscale, rows=rows, cols=cols), (("rows", rows), ("cols", cols)))
        )
    if len(downs) == 1 and None not in downs and downs != {(1, 1)}:
        rows, cols = downs.pop()
        steps.append(
            Op(
                "downscale",
                FAMILY,
                partial(downscale, rows=rows, cols=cols),
                (("rows", rows), ("cols", cols)),
            )
        )
    if len(ups) > 1 and None not in ups:
        steps.append(Op("upscale_by_colour_count", FAMILY, upscale_by_colour_count))
    return _first_fit(candidates, targets, tests, steps)


FITTERS = (fit_block_arrangement, fit_self_similar, fit_rescale)
