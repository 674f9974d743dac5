"""Rays: lines shot from pixels in one, two, four or eight directions until an obstacle or the border
(or across obstacles to the border), each colour its own way (a fitter), and lines joining two
same-coloured pixels of a row, a column or a diagonal.
The source colours are those whose cell count grows from every train input to its output; lines may
also take a colour the outputs paint that no input shows."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from functools import partial

import numpy as np

from arcsolve.search.fill import growing_colours, painted_colours
from arcsolve.search.grid import Grid, background_colour, colour_counts, static_colours
from arcsolve.search.ops import Op, TaskView, keeps_shape
from arcsolve.search.region_kernels import connect_rows, draw_rays, draw_rays_to_obstacles

FAMILY = "rays"

UP, DOWN, LEFT, RIGHT = (-1, 0), (1, 0), (0, -1), (0, 1)
UP_LEFT, UP_RIGHT, DOWN_LEFT, DOWN_RIGHT = (-1, -1), (-1, 1), (1, -1), (1, 1)
DIRECTIONS: dict[str, tuple[tuple[int, int], ...]] = {
    "up": (UP,),
    "down": (DOWN,),
    "left": (LEFT,),
    "right": (RIGHT,),
    "horizontal": (LEFT, RIGHT),
    "vertical": (UP, DOWN),
    "cross": (UP, DOWN, LEFT, RIGHT),
    "up_left": (UP_LEFT,),
    "up_right": (UP_RIGHT,),
    "down_left": (DOWN_LEFT,),
    "down_right": (DOWN_RIGHT,),
    "diagonals": (UP_LEFT, UP_RIGHT, DOWN_LEFT, DOWN_RIGHT),
    "star": (UP, DOWN, LEFT, RIGHT, UP_LEFT, UP_RIGHT, DOWN_LEFT, DOWN_RIGHT),
}
# Crossing obstacles is only tried for full lines: the "extend to the full row/column" tasks.
THROUGH_DIRECTIONS = ("horizontal", "vertical", "cross")
STEPS = {name: np.array(steps, dtype=np.int64) for name, steps in DIRECTIONS.items()}


def shoot_rays(
    grid: Grid, directions: str, source: int | None, through: bool, colour: int | None = None
) -> Grid | None:
    """From every non-background pixel (or every pixel of colour `source`), a line of its colour (or
    of `colour`) in each of `directions` over background, ending at the first obstacle (unless
    `through`) or the border."""
    bg = background_colour(grid)
    is_source = grid != bg if source is None else grid == source
    if source == bg or not is_source.any():
        return None
    return draw_rays(grid, is_source, STEPS[directions], bg, through, colour)


def rays_to_obstacles(grid: Grid, directions: str, target: int | None) -> Grid | None:
    """From every lone pixel (no non-background 4-neighbour), a line of its colour in each of
    `directions` over background, drawn only where it runs into another cell (of colour `target`,
    unless None), not off the grid."""
    bg = background_colour(grid)
    drawn = np.pad(grid != bg, 1)
    lone = drawn[1:-1, 1:-1] & ~(drawn[:-2, 1:-1] | drawn[2:, 1:-1] | drawn[1:-1, :-2] | drawn[1:-1, 2:])
    if not lone.any():
        return None
    return draw_rays_to_obstacles(grid, lone, STEPS[directions], bg, target)


def connect_pixels(grid: Grid, axis: str, colour: int | None = None) -> Grid | None:
    """Lines over the background between consecutive same-coloured pixels of each row ("rows"), each
    column ("columns"), or both ("rows_on_top": row lines win where lines cross, "columns_on_top"),
    in the pixels' colour or in `colour`."""
    bg = background_colour(grid)
    by_row = connect_rows(grid, bg, colour)
    if axis == "rows":
        return by_row
    by_column = np.ascontiguousarray(connect_rows(np.ascontiguousarray(grid.T), bg, colour).T)
    if axis == "columns":
        return by_column
    if axis == "rows_on_top":
        return np.where(by_row != grid, by_row, by_column).astype(np.uint8)
    return np.where(by_column != grid, by_column, by_row).astype(np.uint8)


# Cells off the grid in a skewed copy, before and after a diagonal's own cells: never background,
# never a grid colour, and different so that no line joins the two ends over the diagonal.
BEFORE, AFTER = 14, 15


def _connect_down_right(grid: Grid, bg: int, colour: int | None) -> Grid:
    """connect_rows along the down-right diagonals: each diagonal laid out as one row of a skewed
    copy (cells off the grid marked BEFORE or AFTER), joined, and put back."""
    h, w = grid.shape
    rows = np.arange(h)
    cols = rows[None, :] + np.arange(h + w - 1)[:, None] - (h - 1)  # [diagonal, r] -> column
    inside = (cols >= 0) & (cols < w)
    skewed = np.where(cols < 0, BEFORE, AFTER).astype(np.uint8)
    skewed[inside] = grid[np.broadcast_to(rows, cols.shape)[inside], cols[inside]]
    joined = connect_rows(skewed, bg, colour)
    out = grid.copy()
    out[np.broadcast_to(rows, cols.shape)[inside], cols[inside]] = joined[inside]
    return out


def connect_diagonals(grid: Grid, colour: int | None = None) -> Grid | None:
    """Lines over the background between consecutive same-coloured pixels of each diagonal (both
    directions; a cell both would paint takes the down-right line), in the pixels' colour or `colour`."""
    bg = background_colour(grid)
    down_right = _connect_down_right(grid, bg, colour)
    down_left = np.ascontiguousarray(
        _connect_down_right(np.ascontiguousarray(grid[:, ::-1]), bg, colour)[:, ::-1]
    )
    return np.where(down_right != grid, down_right, down_left).astype(np.uint8)


def new_paint_colours(view: TaskView) -> list[int]:
    """Colours the train outputs paint over background that no train input shows: lines drawn in
    them cannot take their source's colour."""
    in_inputs = sum(colour_counts(g) for g in view.train_inputs) > 0
    return [c for c in painted_colours(view) if not in_inputs[c]]


def source_colours(view: TaskView) -> list[int]:
    """A growing colour every train input shows beside other colours: rays from it alone differ from
    rays from every pixel."""
    counts = [colour_counts(g) for g in view.train_inputs]
    with_others = any(np.count_nonzero(k) > 2 for k in counts)  # background, the colour, another
    for colour in growing_colours(view):
        if with_others and all(k[colour] > 0 for k in counts):
            return [colour]
    return []


def ops(view: TaskView) -> list[Op]:
    steps = []
    for colour in [None, *new_paint_colours(view)]:
        for axis in ("rows", "columns", "rows_on_top", "columns_on_top"):
            fn = partial(connect_pixels, axis=axis, colour=colour)
            steps.append(Op("connect_pixels", FAMILY, fn, (("axis", axis), ("colour", colour))))
        fn = partial(connect_diagonals, colour=colour)
        steps.append(Op("connect_diagonals", FAMILY, fn, (("colour", colour),)))
    for target, directions in itertools.product(
        [None, *static_colours(view.train_inputs, view.train_outputs)], ("cross", "star")
    ):
        fn = partial(rays_to_obstacles, directions=directions, target=target)
        steps.append(Op("rays_to_obstacles", FAMILY, fn, (("directions", directions), ("target", target))))
    # Every pixel in its own colour, then one alternative: one colour's pixels, or a new paint colour.
    alternatives = [(c, None) for c in source_colours(view)] + [(None, c) for c in new_paint_colours(view)]
    sources = [(None, None), *alternatives[:1]]
    for source, colour in sources:
        for directions in DIRECTIONS:
            for through in (False, True) if directions in THROUGH_DIRECTIONS else (False,):
                args = (
                    ("directions", directions),
                    ("source", source),
                    ("through", through),
                    ("colour", colour),
                )
                fn = partial(shoot_rays, directions=directions, source=source, through=through, colour=colour)
                steps.append(Op("shoot_rays", FAMILY, fn, args))
    return steps


PER_COLOUR_DIRECTIONS = ("horizontal", "vertical", "cross")  # one-way rays: shoot_rays' ops


def rays_by_colour(grid: Grid, plan: tuple[tuple[int, str], ...]) -> Grid | None:
    """For each (colour, directions) of `plan` in turn, full lines across the grid from that colour's
    pixels, over every background cell the earlier colours' lines left or painted (later colours
    drawn on top where lines cross); None when a planned colour is absent."""
    bg = background_colour(grid)
    out = grid.copy()
    for colour, directions in plan:
        if colour == bg or not (grid == colour).any():
            return None
        out[_full_lines(grid, colour, directions, bg)] = colour
    return out


def _full_lines(grid: Grid, colour: int, directions: str, bg: int) -> np.ndarray:
    """The cells full lines across the grid from `colour`'s pixels paint over background."""
    return draw_rays(grid, grid == colour, STEPS[directions], bg, True, None) != grid


def _directions_of(colour: int, pairs: list[tuple[Grid, Grid]], bgs: list[int]) -> str | None:
    """The directions whose lines from `colour`'s pixels fall only on cells the targets draw on and
    cover most of the target's cells of that colour (fewer cells drawn on a tie); None for none."""
    best, best_key = None, None
    for directions in PER_COLOUR_DIRECTIONS:
        hits = cells = 0
        for (cand, target), bg in zip(pairs, bgs, strict=True):
            drawn = _full_lines(cand, colour, directions, bg)
            if (target[drawn] == bg).any():
                break
            hits += int(np.count_nonzero(target[drawn] == colour))
            cells += int(np.count_nonzero(drawn))
        else:
            if hits and (best_key is None or (hits, -cells) > best_key):
                best, best_key = directions, (hits, -cells)
    return best


@keeps_shape
def fit_rays_by_colour(
    candidates: Sequence[Grid], targets: Sequence[Grid], tests: Sequence[Grid]
) -> Op | None:
    """Each colour shoots full lines its own way (or none: `_directions_of`), learned from the train
    pairs; the colours drawn in colour order, or with one of them last (on top where lines cross)."""
    pairs = list(zip(candidates, targets, strict=True))
    if any(c.shape != t.shape for c, t in pairs) or all(np.array_equal(c, t) for c, t in pairs):
        return None
    bgs = [background_colour(c) for c in candidates]
    if any((c[c != t] != bg).any() for (c, t), bg in zip(pairs, bgs, strict=True)):
        return None  # lines paint background only
    if not all(_paints_a_full_line(c, t, bg) for (c, t), bg in zip(pairs, bgs, strict=True)):
        return None
    colours = sorted(set().union(*(np.unique(c).tolist() for c in candidates)) - set(bgs))
    plan = [(k, d) for k in colours if (d := _directions_of(k, pairs, bgs)) is not None]
    if not plan:
        return None
    for order in _draw_orders(plan):
        op = Op("rays_by_colour", FAMILY, partial(rays_by_colour, plan=order), (("plan", order),))
        if all(np.array_equal(op(c), t) for c, t in pairs):
            return op
    return None


def _paints_a_full_line(candidate: Grid, target: Grid, bg: int) -> bool:
    """True when the target leaves the candidate as it is or paints every background cell of some
    row or column of it (what a full line does)."""
    painted = candidate != target
    if not painted.any():
        return True
    kept = painted | (candidate != bg)
    return bool(
        (kept.all(axis=1) & painted.any(axis=1)).any() or (kept.all(axis=0) & painted.any(axis=0)).any()
    )


def _draw_orders(plan: list[tuple[int, str]]) -> list[tuple[tuple[int, str], ...]]:
    """The plan in colour order, then with each one colour moved last (the one drawn on top)."""
    orders = [tuple(plan)]
    for step in plan[:-1]:
        orders.append(tuple(s for s in plan if s != step) + (step,))
    return orders


FITTERS = (fit_rays_by_colour,)
