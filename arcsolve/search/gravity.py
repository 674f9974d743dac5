"""Gravity and moves: non-background cells, or whole objects, fall toward one side of the grid until
they rest on the border or on something already fallen; objects slide until they touch the colours
that stay put; the whole content shifts by an offset a fitter learns. Every side is the downward
case seen through a flip or a transpose, so the kernels only know "down"."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np

from arcsolve.search import object_kernels as kernels
from arcsolve.search.grid import Grid, background_colour, bounding_box
from arcsolve.search.ops import Op, TaskView, keeps_shape

FAMILY = "gravity"
SIDES = ("down", "up", "left", "right")


def _facing_down(grid: Grid, side: str) -> Grid:
    """The grid turned so that `side` is at the bottom (undone by `_facing_back`)."""
    turned = {"down": grid, "up": grid[::-1], "right": grid.T, "left": grid.T[::-1]}[side]
    return np.ascontiguousarray(turned)


def _facing_back(grid: Grid, side: str) -> Grid:
    turned = {"down": grid, "up": grid[::-1], "right": grid.T, "left": grid[::-1].T}[side]
    return np.ascontiguousarray(turned)


def fall(grid: Grid, side: str) -> Grid:
    """Every non-background cell slides toward `side` along its row or column, keeping order."""
    turned = _facing_down(grid, side)
    return _facing_back(kernels.fall_down(turned, background_colour(grid)), side)


def drop_objects(grid: Grid, side: str, diagonal: bool, multicolour: bool) -> Grid:
    """Whole objects (connected components, as in the objects family) fall toward `side` as rigid
    bodies, the nearest to that side first, each until it rests on the border or a fallen object."""
    turned = _facing_down(grid, side)
    background = background_colour(grid)
    labels, count = kernels.label_components(turned, background, diagonal, multicolour)
    return _facing_back(kernels.drop_objects_down(turned, labels, count, background), side)


STEPS = ((1, 0), (-1, 0), (0, -1), (0, 1))  # down, up, left, right: SIDES as row and column steps


def gaps_to_mask(mask: np.ndarray) -> np.ndarray:
    """int64 [4, h, w]: from each cell, how many cells lie between it and the nearest True cell
    toward each of SIDES (down, up, left, right); h + w where there is none."""
    h, w = mask.shape
    gaps = np.empty((4, h, w), np.int64)
    for k, side in enumerate(SIDES):
        turned = kernels.gaps_below(_facing_down(mask, side))
        gaps[k] = _facing_back(np.where(turned == turned.shape[0] + turned.shape[1], h + w, turned), side)
    return gaps


def slide_to_anchor(grid: Grid, anchors: tuple[int, ...]) -> Grid | None:
    """Cells of the `anchors` colours stay; every other object (8-connected, any colours) slides in
    the one direction that brings it soonest into contact with an anchor cell, and stops touching
    it. Objects that meet no anchor cell in any direction stay put; a tie between directions, or
    anchor colours that are absent, does not apply."""
    still = np.isin(grid, anchors)
    if not still.any():
        return None
    background = background_colour(grid)
    moving = np.where(still, np.uint8(background), grid)
    labels, count = kernels.label_components(moving, background, True, True)
    gaps = gaps_to_mask(still)
    none = grid.shape[0] + grid.shape[1]
    rows, cols = np.nonzero(labels >= 0)
    order = np.argsort(labels[rows, cols], kind="stable")  # painted in object order, as overlaps go
    rows, cols = rows[order], cols[order]
    owners = labels[rows, cols]
    reach = np.full((len(SIDES), count), none, np.int64)
    for side in range(len(SIDES)):
        np.minimum.at(reach[side], owners, gaps[side, rows, cols])
    best = reach.min(axis=0)
    if ((reach == best).sum(axis=0) > 1)[best < none].any():
        return None
    steps = np.array(STEPS)[reach.argmin(axis=0)] * np.where(best < none, best, 0)[:, None]
    out = np.where(labels >= 0, np.uint8(background), grid)
    out[rows + steps[owners, 0], cols + steps[owners, 1]] = grid[rows, cols]
    return out


def _anchor_colours(view: TaskView) -> list[int]:
    """Colours whose cells are the same in every train input and its output, where the outputs
    differ from the inputs elsewhere."""
    pairs = list(zip(view.train_inputs, view.train_outputs, strict=True))
    if all(np.array_equal(i, o) for i, o in pairs):
        return []
    return [
        c
        for c in range(1, 10)
        if all((i == c).any() and np.array_equal(i == c, o == c) for i, o in pairs)
        and all(c != background_colour(i) for i, _ in pairs)
    ]


def ops(view: TaskView) -> list[Op]:
    """Gravity only where outputs keep their inputs' shape; whole objects as 8-connected
    components of any colours, and as single-colour 4-connected ones; anchors are the colours
    that stay in place while the rest moves."""
    if any(i.shape != o.shape for i, o in zip(view.train_inputs, view.train_outputs, strict=True)):
        return []
    steps = [Op("fall", FAMILY, partial(fall, side=side), (("side", side),)) for side in SIDES]
    for diagonal, multicolour in ((True, True), (False, False)):
        for side in SIDES:
            chosen = dict(side=side, diagonal=diagonal, multicolour=multicolour)
            args = (("side", side), ("conn", 8 if diagonal else 4), ("multicolour", multicolour))
            steps.append(Op("drop_objects", FAMILY, partial(drop_objects, **chosen), args))
    anchors = _anchor_colours(view)
    for chosen in [(anchor,) for anchor in anchors] + ([tuple(anchors)] if len(anchors) > 1 else []):
        slide = partial(slide_to_anchor, anchors=chosen)
        steps.append(Op("slide_to_anchor", FAMILY, slide, (("anchors", chosen),)))
    return steps


def shift_content(grid: Grid, rows: int, cols: int) -> Grid | None:
    """Every non-background cell moved `rows` down and `cols` right; None if one would leave the grid."""
    background = background_colour(grid)
    r, c = np.nonzero(grid != background)
    h, w = grid.shape
    if len(r) == 0 or r.min() + rows < 0 or r.max() + rows >= h or c.min() + cols < 0 or c.max() + cols >= w:
        return None
    out = np.full(grid.shape, background, np.uint8)
    out[r + rows, c + cols] = grid[r, c]
    return out


@keeps_shape
def fit_shift_content(
    candidates: Sequence[Grid], targets: Sequence[Grid], tests: Sequence[Grid]
) -> Op | None:
    """The one offset by which every candidate's content moves to give its target (learned from
    where the first pair's content box moves)."""
    first, target = candidates[0], targets[0]
    if first.shape != target.shape:
        return None
    before = bounding_box(first != background_colour(first))
    after = bounding_box(target != background_colour(target))
    if before is None or after is None or before == after:
        return None
    rows, cols = after[0] - before[0], after[1] - before[1]
    shift = partial(shift_content, rows=rows, cols=cols)
    if not all(np.array_equal(shift(c), t) for c, t in zip(candidates, targets, strict=True)):
        return None
    if any(shift(t) is None for t in tests):
        return None
    return Op("shift_content", FAMILY, shift, (("rows", rows), ("cols", cols)))


FITTERS = (fit_shift_content,)
