"""Patterns: an output picked from the train outputs by a class of the input, and a periodic pattern
continued onto a larger canvas.

- `fit_output_by_class`: every train output is one of a few grids, and one simple class of the
  candidate (its drawn colours, its commonest drawn colour, the shape its drawn cells make, whether it
  is mirror-symmetric) says which: a lookup table from class to output, used when some class is met
  by two train pairs (the table generalises) and every test candidate's class was seen.
- `fit_extend_pattern`: the target starts with the candidate and continues it periodically (the
  smallest row and column periods the candidate keeps), its shape the candidate's times one fixed
  factor or one fixed shape.
- `repeat_band`: the band of rows (or columns) holding the drawing repeated over the whole grid, in
  step with where it stands; `continue_pattern`: a periodic drawing that stops short of the far
  edge continued to it; `unit_cell`: the one tile a periodic grid repeats.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import numpy as np

from arcsolve.constants import MAX_GRID
from arcsolve.search.grid import Grid, background_colour, bounding_box, colour_counts, grid_key
from arcsolve.search.ops import Op, TaskView
from arcsolve.search.region_kernels import smallest_period

FAMILY = "patterns"
MAX_CLASS_OUTPUT_CELLS = 100  # outputs picked by class are small (a verdict, a symbol)


def drawn_colours(grid: Grid) -> bytes:
    """The colours other than the background, as a key."""
    counts = colour_counts(grid)
    counts[background_colour(grid)] = 0
    return bytes(np.flatnonzero(counts).tolist())


def commonest_drawn_colour(grid: Grid) -> bytes:
    counts = colour_counts(grid)
    counts[background_colour(grid)] = 0
    return bytes([int(np.argmax(counts))]) if counts.any() else b""


def drawn_shape(grid: Grid) -> bytes:
    """Where the non-background cells are, cropped to their box: the shape they draw, any colours."""
    drawn = grid != background_colour(grid)
    box = bounding_box(drawn)
    if box is None:
        return b""
    top, left, bottom, right = box
    return grid_key(drawn[top:bottom, left:right].astype(np.uint8))


def mirror_symmetry(grid: Grid) -> bytes:
    """Which of its mirror images equal it: left-right, top-bottom, the transpose (when square)."""
    square = grid.shape[0] == grid.shape[1]
    return bytes(
        [
            np.array_equal(grid, grid[:, ::-1]),
            np.array_equal(grid, grid[::-1]),
            square and np.array_equal(grid, grid.T),
        ]
    )


CLASSES: dict[str, Callable[[Grid], bytes]] = {
    "drawn_colours": drawn_colours,
    "commonest_drawn_colour": commonest_drawn_colour,
    "drawn_shape": drawn_shape,
    "mirror_symmetry": mirror_symmetry,
}


def output_by_class(grid: Grid, by: str, table: dict[bytes, Grid]) -> Grid | None:
    found = table.get(CLASSES[by](grid))
    return None if found is None else found.copy()


def fit_output_by_class(
    candidates: Sequence[Grid], targets: Sequence[Grid], tests: Sequence[Grid]
) -> Op | None:
    """The first class (CLASSES order) whose table from candidate class to target is consistent on
    the train pairs, meets one class twice, and knows every test candidate's class."""
    if any(t.size > MAX_CLASS_OUTPUT_CELLS for t in targets):
        return None
    distinct = len({grid_key(t) for t in targets})
    if distinct < 2 or distinct == len(targets):
        return None  # one output for all (nothing to pick), or none repeats (no class can repeat)
    for by, classify in CLASSES.items():
        table: dict[bytes, Grid] = {}
        repeated = False
        for cand, target in zip(candidates, targets, strict=True):
            key = classify(cand)
            known = table.get(key)
            if known is None:
                table[key] = target
            elif known.shape != target.shape or not np.array_equal(known, target):
                break
            else:
                repeated = True
        else:
            if repeated and all(classify(t) in table for t in tests):
                fn = partial(output_by_class, by=by, table=table)
                return Op("output_by_class", FAMILY, fn, (("by", by), ("outputs", len(table))))
    return None


fit_output_by_class.shallow_only = True  # type: ignore[attr-defined]  # see engine._fit


def line_period(grid: Grid) -> int:
    """The smallest p with every row equal to the row p above it (the height when none): the
    period kernel with no cell hidden."""
    return smallest_period(grid, np.zeros(grid.shape, dtype=bool))


def extend_pattern(grid: Grid, rows: int, cols: int) -> Grid | None:
    """The grid continued to rows x cols with its smallest row and column periods."""
    if rows > MAX_GRID or cols > MAX_GRID or rows < grid.shape[0] or cols < grid.shape[1]:
        return None
    row_period, col_period = line_period(grid), line_period(grid.T)
    cell = grid[:row_period, :col_period]
    reps = (-(-rows // row_period), -(-cols // col_period))
    return np.ascontiguousarray(np.tile(cell, reps)[:rows, :cols])


def extend_by(grid: Grid, scale: tuple[int, int] | None, shape: tuple[int, int] | None) -> Grid | None:
    rows, cols = shape if shape is not None else (grid.shape[0] * scale[0], grid.shape[1] * scale[1])
    return extend_pattern(grid, rows, cols)


def fit_extend_pattern(
    candidates: Sequence[Grid], targets: Sequence[Grid], tests: Sequence[Grid]
) -> Op | None:
    """The target as the candidate continued periodically, to one fixed factor or one fixed shape."""
    pairs = list(zip(candidates, targets, strict=True))
    if any(t.shape[0] < c.shape[0] or t.shape[1] < c.shape[1] for c, t in pairs):
        return None
    if all(c.shape == t.shape for c, t in pairs):
        return None
    scales = {(t.shape[0] // c.shape[0], t.shape[1] // c.shape[1]) for c, t in pairs}
    exact = all(t.shape[0] % c.shape[0] == 0 and t.shape[1] % c.shape[1] == 0 for c, t in pairs)
    shapes = {t.shape for _, t in pairs}
    options = []
    if exact and len(scales) == 1:
        options.append((("scale", scales.pop()),))
    if len(shapes) == 1:
        options.append((("shape", shapes.pop()),))
    for args in options:
        fn = partial(extend_by, scale=dict(args).get("scale"), shape=dict(args).get("shape"))
        if all(np.array_equal(fn(c), t) for c, t in pairs) and all(fn(t) is not None for t in tests):
            return Op("extend_pattern", FAMILY, fn, args)
    return None


def repeat_band(grid: Grid, axis: str) -> Grid | None:
    """The rows (`axis="rows"`; or columns) from the first to the last one holding a non-background
    cell, repeated up and down the grid with that band's height as the period, aligned with it."""
    turned = grid if axis == "rows" else grid.T
    box = bounding_box(turned != background_colour(grid))
    if box is None:
        return None
    top, bottom = box[0], box[2]
    if bottom - top == turned.shape[0]:
        return None  # the band is the whole grid: nothing to repeat
    band = turned[top:bottom]
    out = band[(np.arange(turned.shape[0]) - top) % (bottom - top)]
    return np.ascontiguousarray(out if axis == "rows" else out.T)


def continue_pattern(grid: Grid, axis: str) -> Grid | None:
    """The columns (`axis="columns"`; or rows) from the first up to the last one holding a
    non-background cell, continued to the grid's far edge with their smallest period; None when
    they do not repeat within themselves or already reach the edge."""
    turned = grid.T if axis == "columns" else grid
    drawn = np.flatnonzero((turned != background_colour(grid)).any(axis=1))
    if drawn.size == 0 or drawn[-1] == turned.shape[0] - 1:
        return None
    prefix = turned[: drawn[-1] + 1]
    period = line_period(prefix)
    if period == prefix.shape[0]:
        return None
    out = prefix[np.arange(turned.shape[0]) % period]
    return np.ascontiguousarray(out.T if axis == "columns" else out)


def unit_cell(grid: Grid) -> Grid | None:
    """The top-left tile of the grid's smallest row and column periods (the grid is that tile
    repeated, the last copy possibly cut short); None when the grid does not repeat."""
    rows, cols = line_period(grid), line_period(grid.T)
    if (rows, cols) == grid.shape:
        return None
    return np.ascontiguousarray(grid[:rows, :cols])


def ops(view: TaskView) -> list[Op]:
    """The unit cell where outputs are smaller, band repetition and pattern continuation where they
    keep their inputs' shapes; the rest of the family learns final steps."""
    pairs = list(zip(view.train_inputs, view.train_outputs, strict=True))
    if all(o.shape[0] <= i.shape[0] and o.shape[1] <= i.shape[1] and o.size < i.size for i, o in pairs):
        return [Op("unit_cell", FAMILY, unit_cell)]
    if any(i.shape != o.shape for i, o in pairs):
        return []
    steps = []
    for axis in ("rows", "columns"):
        steps.append(Op("repeat_band", FAMILY, partial(repeat_band, axis=axis), (("axis", axis),)))
        steps.append(Op("continue_pattern", FAMILY, partial(continue_pattern, axis=axis), (("axis", axis),)))
    return steps


FITTERS = (fit_output_by_class, fit_extend_pattern)
