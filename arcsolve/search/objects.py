"""Objects: pick one connected component by a rule (`object_select.RULES`) and crop it (whole, alone
or inside its frame), keep only it, erase it, recolour it or output its colour; count objects;
recolour every object by its size or size rank; fill enclosed background, paint inner cells,
surround cells (`object_paint`). The fitters (`object_fitters`) drop objects below a learned size
and recolour objects through a learned table.

`ops(view)` keeps the task's parameters small: readings (connectivity, background) that label every
grid of the task alike are tried once, a rule is kept only if it picks an object in every train input and
picks different cells than the rules before it, crops only where the picked boxes have the train
outputs' shapes, and whole-grid actions only where outputs keep the inputs' shape.
"""

from __future__ import annotations

import itertools
from functools import partial

import numpy as np

from arcsolve.constants import NUM_COLORS
from arcsolve.search.grid import Grid, colour_counts
from arcsolve.search.object_fitters import FITTERS as FITTERS
from arcsolve.search.object_fitters import object_args
from arcsolve.search.object_kernels import COLOUR, LEFT, MIXED, SIZE, TOP
from arcsolve.search.object_paint import (
    copy_template_onto_shapes,
    fill_enclosed,
    paint_inner_cells,
    stamp_template_at_markers,
    surround_cells,
)
from arcsolve.search.object_select import RULES, Objects, Reading, find_objects, readings_for
from arcsolve.search.ops import Op, TaskView

FAMILY = "objects"
MAX_PAINT_COLOURS = 2  # colours the painting and recolouring ops try on one task


def _picked(grid: Grid, reading: Reading, select: str) -> tuple[Objects, int] | None:
    objects = find_objects(grid, reading)
    index = RULES[select](objects)
    return None if index is None else (objects, index)


def crop_object(grid: Grid, reading: Reading, select: str) -> Grid | None:
    """The picked object's bounding box, everything in it kept."""
    picked = _picked(grid, reading, select)
    if picked is None:
        return None
    top, left, bottom, right = picked[0].box(picked[1])
    return np.ascontiguousarray(grid[top:bottom, left:right])


def crop_inside_object(grid: Grid, reading: Reading, select: str) -> Grid | None:
    """What the picked object's box holds inside its outermost ring of cells (inside a frame)."""
    picked = _picked(grid, reading, select)
    if picked is None:
        return None
    top, left, bottom, right = picked[0].box(picked[1])
    if bottom - top < 3 or right - left < 3:
        return None
    return np.ascontiguousarray(grid[top + 1 : bottom - 1, left + 1 : right - 1])


def crop_object_alone(grid: Grid, reading: Reading, select: str) -> Grid | None:
    """The picked object's bounding box with every cell not in the object set to background."""
    picked = _picked(grid, reading, select)
    if picked is None:
        return None
    objects, index = picked
    top, left, bottom, right = objects.box(index)
    inside = objects.labels[top:bottom, left:right] == index
    return np.where(inside, grid[top:bottom, left:right], np.uint8(objects.background))


def keep_object(grid: Grid, reading: Reading, select: str) -> Grid | None:
    """Every object but the picked one erased."""
    picked = _picked(grid, reading, select)
    if picked is None:
        return None
    objects, index = picked
    return np.where(objects.mask(index), grid, np.uint8(objects.background))


def erase_object(grid: Grid, reading: Reading, select: str) -> Grid | None:
    picked = _picked(grid, reading, select)
    if picked is None:
        return None
    objects, index = picked
    return np.where(objects.mask(index), np.uint8(objects.background), grid)


def recolour_object(grid: Grid, reading: Reading, select: str, colour: int) -> Grid | None:
    picked = _picked(grid, reading, select)
    if picked is None:
        return None
    objects, index = picked
    return np.where(objects.mask(index), np.uint8(colour), grid)


def object_colour(grid: Grid, reading: Reading, select: str, rows: int, cols: int) -> Grid | None:
    """A rows x cols grid all in the picked object's colour (a one-colour object)."""
    picked = _picked(grid, reading, select)
    if picked is None or picked[0].stats[picked[1], COLOUR] == MIXED:
        return None
    return np.full((rows, cols), picked[0].stats[picked[1], COLOUR], np.uint8)


ORDERS = ("size", "left", "top")
"""How `list_object_colours` orders objects: largest first, left to right, top to bottom."""


def list_object_colours(grid: Grid, reading: Reading, order: str, layout: str) -> Grid | None:
    """The objects' colours as a `row` or `column`, one cell per object in the given order (ties,
    mixed-colour objects or more than 30 objects do not apply)."""
    stats = find_objects(grid, reading).stats
    key = {"size": -stats[:, SIZE], "left": stats[:, LEFT], "top": stats[:, TOP]}[order]
    if not 0 < len(stats) <= 30 or len(np.unique(key)) < len(key) or (stats[:, COLOUR] == MIXED).any():
        return None
    colours = stats[np.argsort(key), COLOUR].astype(np.uint8)
    return np.ascontiguousarray(colours[None, :] if layout == "row" else colours[:, None])


def _paint_by_object(objects: Objects, values: np.ndarray) -> Grid | None:
    """A mask grid: 0 on background, values[k] on object k's cells; None past colour 9."""
    if len(values) and int(values.max()) >= NUM_COLORS:
        return None
    lookup = np.concatenate([np.zeros(1, np.uint8), values.astype(np.uint8)])
    return np.ascontiguousarray(lookup[objects.labels + 1])


def recolour_by_size_rank(grid: Grid, reading: Reading) -> Grid | None:
    """Each object painted 1 if it is (one of) the largest, 2 the next size down, ... on 0."""
    objects = find_objects(grid, reading)
    sizes = objects.stats[:, SIZE]
    distinct = np.unique(sizes)[::-1]
    return _paint_by_object(objects, np.searchsorted(-distinct, -sizes) + 1)


def recolour_by_size(grid: Grid, reading: Reading) -> Grid | None:
    """Each object painted with its cell count on 0 (objects of up to 9 cells)."""
    objects = find_objects(grid, reading)
    return _paint_by_object(objects, objects.stats[:, SIZE])


def count_objects(grid: Grid, reading: Reading, layout: str) -> Grid | None:
    """The number n of objects drawn in colour 1 on 0: a 1 x n `row`, an n x 1 `column`, the
    diagonal of an n x n `square`, or the first n cells (row-major) of a fixed `HxW` grid."""
    n = find_objects(grid, reading).count
    if n == 0:
        return None
    if layout == "row":
        return np.ones((1, n), np.uint8) if n <= 30 else None
    if layout == "column":
        return np.ones((n, 1), np.uint8) if n <= 30 else None
    if layout == "square":
        return np.eye(n, dtype=np.uint8) if n <= 30 else None
    h, w = (int(side) for side in layout.split("x"))
    if n > h * w:
        return None
    return np.ascontiguousarray((np.arange(h * w) < n).astype(np.uint8).reshape(h, w))


def _distinct_readings(view: TaskView) -> list[Reading]:
    """The readings, dropping each that labels every grid of the task like an earlier one."""
    kept: list[Reading] = []
    seen: set[bytes] = set()
    for reading in readings_for(view.inputs):
        labellings = b"".join(find_objects(g, reading).labels.tobytes() for g in view.inputs)
        if labellings not in seen:
            seen.add(labellings)
            kept.append(reading)
    return kept


def _decisive_rules(view: TaskView, readings: list[Reading]) -> list[tuple[Reading, str]]:
    """(reading, rule) pairs picking an object in every train input, one per distinct choice
    of picked cells (and background, which erasing paints) over all the task's inputs."""
    kept, seen = [], set()
    for reading in readings:
        for name, rule in RULES.items():
            picks = []
            for grid in view.inputs:
                objects = find_objects(grid, reading)
                index = rule(objects)
                picks.append(
                    b"" if index is None else bytes([objects.background]) + objects.mask(index).tobytes()
                )
            if all(picks[: len(view.train_inputs)]) and tuple(picks) not in seen:
                seen.add(tuple(picks))
                kept.append((reading, name))
    return kept


def _box_fits(view: TaskView, reading: Reading, select: str, margin: int) -> bool:
    """True when the picked object's box, less `margin` cells on each side, has each train
    output's shape (or its transpose)."""
    for grid, target in zip(view.train_inputs, view.train_outputs, strict=True):
        objects = find_objects(grid, reading)
        top, left, bottom, right = objects.box(RULES[select](objects))
        rows, cols = bottom - top - 2 * margin, right - left - 2 * margin
        if target.shape not in ((rows, cols), (cols, rows)):
            return False
    return True


def _changed_colours(view: TaskView) -> list[int]:
    """Colours every train output writes where it differs from its same-shaped input (a recolour
    whose colour changes per pair is left to the final colour map); none when there are more than
    MAX_PAINT_COLOURS of them, as where outputs restore a whole picture rather than paint."""
    common = set(range(NUM_COLORS))
    for grid, target in zip(view.train_inputs, view.train_outputs, strict=True):
        if grid.shape != target.shape:
            return []
        common &= {int(c) for c in np.flatnonzero(colour_counts(target[grid != target]))}
    return sorted(common) if len(common) <= MAX_PAINT_COLOURS else []


def _count_layouts(view: TaskView, reading: Reading) -> list[str]:
    """The layouts of `count_objects` whose shape every train output has."""
    counts = [find_objects(g, reading).count for g in view.train_inputs]
    shapes = [o.shape for o in view.train_outputs]
    layouts = {
        "row": [(1, n) for n in counts],
        "column": [(n, 1) for n in counts],
        "square": [(n, n) for n in counts],
    }
    found = [name for name, wanted in layouts.items() if wanted == shapes]
    if len(set(shapes)) == 1 and shapes[0][0] * shapes[0][1] >= max(counts):
        found.append(f"{shapes[0][0]}x{shapes[0][1]}")
    return found


def _zero_backgrounds(view: TaskView) -> tuple[bool, ...]:
    """(False, True) when some grid of the task has a 0 that is not its commonest colour, else (False,)."""
    return tuple(sorted({r.zero_background for r in readings_for(view.inputs)}))


def _outputs_erase(view: TaskView) -> bool:
    """True when some train output turns a non-background cell of its input into background (as
    keeping or erasing objects does), with either background a reading may use."""
    for grid, target in zip(view.train_inputs, view.train_outputs, strict=True):
        for background in {reading.background(grid) for reading in readings_for([grid])}:
            if ((grid != background) & (target == background)).any():
                return True
    return False


def _list_layouts(view: TaskView) -> list[str]:
    """`row` when every train output is one row, `column` when one column (of more than one cell)."""
    shapes = [o.shape for o in view.train_outputs]
    if all(h == 1 for h, _ in shapes) and any(w > 1 for _, w in shapes):
        return ["row"]
    if all(w == 1 for _, w in shapes) and any(h > 1 for h, _ in shapes):
        return ["column"]
    return []


def _uniform_output_shape(view: TaskView) -> tuple[int, int] | None:
    """The shape every train output has when each is a single colour, else None."""
    shapes = {o.shape for o in view.train_outputs}
    if len(shapes) != 1 or any((o != o[0, 0]).any() for o in view.train_outputs):
        return None
    return shapes.pop()


def _paint_ops(view: TaskView) -> list[Op]:
    """Fill enclosed background, paint inner cells, surround cells: in each colour every train
    output writes."""
    steps = []
    for colour, zero in itertools.product(_changed_colours(view), _zero_backgrounds(view)):
        background = ("background", "zero" if zero else "commonest")
        chosen = dict(colour=colour, zero_background=zero)
        fill = partial(fill_enclosed, **chosen)
        steps.append(Op("fill_enclosed", FAMILY, fill, (("colour", colour), background)))
        for diagonal in (False, True):
            args = (("colour", colour), ("conn", 8 if diagonal else 4), background)
            inner = partial(paint_inner_cells, **chosen, diagonal=diagonal)
            steps.append(Op("paint_inner_cells", FAMILY, inner, args))
            halo = partial(surround_cells, **chosen, diagonal=diagonal)
            steps.append(Op("surround_cells", FAMILY, halo, args))
    return steps


def ops(view: TaskView) -> list[Op]:
    readings = _distinct_readings(view)
    pairs = list(zip(view.train_inputs, view.train_outputs, strict=True))
    same_shape = all(i.shape == o.shape for i, o in pairs)
    smaller = all(o.shape[0] <= i.shape[0] and o.shape[1] <= i.shape[1] for i, o in pairs)
    uniform = _uniform_output_shape(view)
    erases = same_shape and _outputs_erase(view)
    steps = []
    for reading, select in _decisive_rules(view, readings):
        args = object_args(reading, select=select)
        chosen = dict(reading=reading, select=select)
        if smaller and not same_shape and _box_fits(view, reading, select, 0):
            steps.append(Op("crop_object", FAMILY, partial(crop_object, **chosen), args))
            steps.append(Op("crop_object_alone", FAMILY, partial(crop_object_alone, **chosen), args))
        if smaller and not same_shape and _box_fits(view, reading, select, 1):
            steps.append(Op("crop_inside_object", FAMILY, partial(crop_inside_object, **chosen), args))
        if uniform is not None:
            shape = dict(rows=uniform[0], cols=uniform[1])
            more = object_args(reading, select=select, **shape)
            steps.append(Op("object_colour", FAMILY, partial(object_colour, **chosen, **shape), more))
        if same_shape and erases:
            steps.append(Op("keep_object", FAMILY, partial(keep_object, **chosen), args))
            steps.append(Op("erase_object", FAMILY, partial(erase_object, **chosen), args))
        if same_shape:
            for colour in _changed_colours(view):
                more = object_args(reading, select=select, colour=colour)
                steps.append(
                    Op("recolour_object", FAMILY, partial(recolour_object, **chosen, colour=colour), more)
                )
    steps.extend(_paint_ops(view) if same_shape else [])
    for diagonal, keep in itertools.product((False, True), (True, False)) if same_shape else ():
        fn = partial(copy_template_onto_shapes, diagonal=diagonal, keep_template=keep)
        args = (("conn", 8 if diagonal else 4), ("keep_template", keep))
        steps.append(Op("copy_template_onto_shapes", FAMILY, fn, args))
        if diagonal:
            fn = partial(stamp_template_at_markers, keep_template=keep)
            steps.append(Op("stamp_template_at_markers", FAMILY, fn, (("keep_template", keep),)))
    for reading in readings:
        args = object_args(reading)
        chosen = dict(reading=reading)
        if same_shape:
            steps.append(Op("recolour_by_size_rank", FAMILY, partial(recolour_by_size_rank, **chosen), args))
            steps.append(Op("recolour_by_size", FAMILY, partial(recolour_by_size, **chosen), args))
        for layout in _list_layouts(view):
            for order in ORDERS:
                listing = partial(list_object_colours, **chosen, order=order, layout=layout)
                more = object_args(reading, order=order, layout=layout)
                steps.append(Op("list_object_colours", FAMILY, listing, more))
        for layout in _count_layouts(view, reading):
            more = object_args(reading, layout=layout)
            steps.append(Op("count_objects", FAMILY, partial(count_objects, **chosen, layout=layout), more))
    return steps
