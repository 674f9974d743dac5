"""Rays: lines shot from pixels in one, two, four or eight directions until an obstacle or the border
(or across obstacles to the border), and lines joining two same-coloured pixels of a row or column.
The source colours are those whose cell count grows from every train input to its output."""

from __future__ import annotations

from functools import partial

import numpy as np

from arcsolve.search.grid import Grid, background_colour, colour_counts
from arcsolve.search.ops import Op, TaskView
from arcsolve.search.region_kernels import connect_rows, draw_rays

FAMILY = "rays"
MAX_SOURCE_COLOURS = 2

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
# Crossing obstacles is only tried along rows and columns: the "extend to the full line" tasks.
THROUGH_DIRECTIONS = ("up", "down", "left", "right", "horizontal", "vertical", "cross")
STEPS = {name: np.array(steps, dtype=np.int64) for name, steps in DIRECTIONS.items()}


def shoot_rays(grid: Grid, directions: str, source: int | None, through: bool) -> Grid | None:
    """From every non-background pixel (or every pixel of colour `source`), a line of its colour in
    each of `directions` over background, ending at the first obstacle (unless `through`) or the
    border."""
    bg = background_colour(grid)
    is_source = grid != bg if source is None else grid == source
    if source == bg or not is_source.any():
        return None
    return draw_rays(grid, is_source, STEPS[directions], bg, through)


def connect_pixels(grid: Grid, axis: str) -> Grid | None:
    """Lines over the background between consecutive same-coloured pixels of each row ("rows"), each
    column ("columns"), or both (row lines drawn first)."""
    bg = background_colour(grid)
    if axis == "rows":
        return connect_rows(grid, bg)
    by_column = np.ascontiguousarray(connect_rows(np.ascontiguousarray(grid.T), bg).T)
    if axis == "columns":
        return by_column
    by_row = connect_rows(grid, bg)
    return np.where(by_row != grid, by_row, by_column).astype(np.uint8)


def growing_colours(view: TaskView) -> list[int]:
    """Colours with more cells in every train output than in its input (same-shape pairs)."""
    grows = None
    for i, o in zip(view.train_inputs, view.train_outputs, strict=True):
        if i.shape != o.shape:
            return []
        pair_grows = set(np.flatnonzero(colour_counts(o) > colour_counts(i)).tolist())
        grows = pair_grows if grows is None else grows & pair_grows
    return sorted(grows or ())[:MAX_SOURCE_COLOURS]


def ops(view: TaskView) -> list[Op]:
    steps = [
        Op("connect_pixels", FAMILY, partial(connect_pixels, axis=axis), (("axis", axis),))
        for axis in ("rows", "columns", "both")
    ]
    for source in [None, *growing_colours(view)]:
        for directions in DIRECTIONS:
            for through in (False, True) if directions in THROUGH_DIRECTIONS else (False,):
                args = (("directions", directions), ("source", source), ("through", through))
                fn = partial(shoot_rays, directions=directions, source=source, through=through)
                steps.append(Op("shoot_rays", FAMILY, fn, args))
    return steps


FITTERS = ()
