"""Object steps whose parameters are learned from the train pairs: erase the objects below a size,
and recolour every object through a table keyed by one of its properties (size, shape, ...)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from functools import partial

import numpy as np

from arcsolve.search.grid import Grid, background_colour
from arcsolve.search.object_kernels import BORDER, BOTTOM, COLOUR, LEFT, RIGHT, SIZE, TOP
from arcsolve.search.object_select import Objects, Reading, find_objects, find_regions, readings_for
from arcsolve.search.ops import Op, keeps_shape

FAMILY = "objects"
MAX_MIN_SIZES = 8  # drop_small_objects thresholds a fitter tries


def object_args(reading: Reading, **more) -> tuple[tuple[str, object], ...]:
    """An object op's printed arguments: the reading first, then its own."""
    return (*reading.args(), *more.items())


def _same_shapes_some_change(pairs: list[tuple[Grid, Grid]]) -> bool:
    return all(c.shape == t.shape for c, t in pairs) and not all(np.array_equal(c, t) for c, t in pairs)


def drop_small_objects(grid: Grid, reading: Reading, min_size: int) -> Grid:
    """Objects of fewer than `min_size` cells erased."""
    objects = find_objects(grid, reading)
    small = np.concatenate([[False], objects.stats[:, SIZE] < min_size])
    return np.where(small[objects.labels + 1], np.uint8(objects.background), grid)


@keeps_shape
def fit_drop_small_objects(
    candidates: Sequence[Grid], targets: Sequence[Grid], tests: Sequence[Grid]
) -> Op | None:
    """The connectivity and smallest size threshold (among the candidates' object sizes + 1) that
    turn every candidate into its target."""
    pairs = list(zip(candidates, targets, strict=True))
    if not _same_shapes_some_change(pairs) or any(
        (t[c != t] != background_colour(c)).any() for c, t in pairs
    ):
        return None
    for reading in readings_for(candidates):
        sizes = set()
        for grid in candidates:
            sizes.update(find_objects(grid, reading).stats[:, SIZE].tolist())
        for min_size in sorted(s + 1 for s in sizes)[:MAX_MIN_SIZES]:
            chosen = dict(reading=reading, min_size=min_size)
            if all(np.array_equal(drop_small_objects(c, **chosen), t) for c, t in pairs):
                args = object_args(reading, min_size=min_size)
                return Op("drop_small_objects", FAMILY, partial(drop_small_objects, **chosen), args)
    return None


def _sizes(objects: Objects) -> list:
    return objects.stats[:, SIZE].tolist()


def _shapes(objects: Objects) -> list:
    return list(objects.shape_keys)


def _touches_border(objects: Objects) -> list:
    return objects.stats[:, BORDER].tolist()


def _colours(objects: Objects) -> list:
    return objects.stats[:, COLOUR].tolist()


def _size_ranks(objects: Objects) -> list:
    """1 for the largest size, 2 for the next, ..."""
    distinct = sorted(set(_sizes(objects)), reverse=True)
    return [distinct.index(s) + 1 for s in _sizes(objects)]


def _size_extremes(objects: Objects) -> list:
    """ "largest" or "smallest" for an object of the grid's greatest or least size, else "between"."""
    sizes = _sizes(objects)
    top, bottom = max(sizes, default=0), min(sizes, default=0)
    return ["largest" if s == top else "smallest" if s == bottom else "between" for s in sizes]


def _shape_counts(objects: Objects) -> list:
    """How many objects of the grid share the object's exact shape."""
    seen = Counter(objects.shape_keys)
    return [seen[key] for key in objects.shape_keys]


def _solid_boxes(objects: Objects) -> list:
    """True for an object that fills its bounding box (a solid rectangle)."""
    area = (objects.stats[:, BOTTOM] - objects.stats[:, TOP]) * (
        objects.stats[:, RIGHT] - objects.stats[:, LEFT]
    )
    return (objects.stats[:, SIZE] == area).tolist()


PROPERTIES: dict[str, Callable[[Objects], list]] = {
    "hole": lambda objects: objects.has_hole.tolist(),
    "symmetric": lambda objects: objects.mirror_symmetric.tolist(),
    "size": _sizes,
    "shape": _shapes,
    "border": _touches_border,
    "colour": _colours,
    "size_rank": _size_ranks,
    "size_extreme": _size_extremes,
    "holes": lambda objects: objects.hole_counts.tolist(),
    "shape_class": lambda objects: list(objects.shape_classes),
    "shape_count": _shape_counts,
    "solid_box": _solid_boxes,
}
"""Object properties a recolouring table may be keyed by."""


def recolour_objects_by(grid: Grid, reading: Reading, key: str, table: dict, default: int) -> Grid:
    """Every object painted table[its property], or `default` for a property the table lacks."""
    return _paint_by_table(grid, find_objects(grid, reading), key, table, default)


def _paint_by_table(grid: Grid, objects: Objects, key: str, table: dict, default: int) -> Grid:
    """Every object's cells painted table[its property `key`], or `default`."""
    colours = [table.get(value, default) for value in PROPERTIES[key](objects)]
    lookup = np.concatenate([np.zeros(1, np.uint8), np.asarray(colours, np.uint8)])
    return np.where(objects.labels >= 0, lookup[objects.labels + 1], grid)


def _object_targets(grid: Grid, target: Grid, objects: Objects) -> list[int] | None:
    """The one colour the target gives each object's cells, or None when it changes a background
    cell or splits an object between colours."""
    inside = objects.labels >= 0
    if not np.array_equal(grid[~inside], target[~inside]):
        return None
    owned = np.flatnonzero(objects.labels.ravel() >= 0)  # no background cell at all is possible
    _, first = np.unique(objects.labels.ravel()[owned], return_index=True)
    painted = target.ravel()[owned[first]]
    if not np.array_equal(painted[objects.labels[inside]], target[inside]):
        return None
    return painted.tolist()


def _learn_table(values: list, colours: list[int]) -> tuple[dict, int] | None:
    """A consistent property -> colour table and the colour most property values get (the default)."""
    table: dict = {}
    for value, colour in zip(values, colours, strict=True):
        if table.setdefault(value, colour) != colour:
            return None
    default = Counter(table.values()).most_common(1)[0][0]
    return table, default


def _best_table(found: list[Objects], colours: list[int], tested: list[Objects]) -> tuple | None:
    """Of the properties that give a consistent table from the train objects to their colours, the one
    whose table knows every test object's value, then the shortest table (the rule that says most
    with least), then the property listed first: (rank, key, (table, default)), or None."""
    best = None
    for order, (key, prop) in enumerate(PROPERTIES.items()):
        learned = _learn_table([v for o in found for v in prop(o)], colours)
        if learned is None or len(learned[0]) < 2:
            continue
        unseen = sum(v not in learned[0] for o in tested for v in prop(o))
        rank = (unseen > 0, len(learned[0]), order)
        if best is None or rank < best[0]:
            best = (rank, key, learned)
    return best


@keeps_shape
def fit_recolour_objects_by(
    candidates: Sequence[Grid], targets: Sequence[Grid], tests: Sequence[Grid]
) -> Op | None:
    """Each object recoloured as a whole through a table keyed by one property (`_best_table`),
    learned from the train pairs (unseen property values get the colour most table entries have);
    the first reading whose objects explain the pairs names the objects."""
    pairs = list(zip(candidates, targets, strict=True))
    if not _same_shapes_some_change(pairs) or any(
        not np.array_equal(c[c == background_colour(c)], t[c == background_colour(c)]) for c, t in pairs
    ):
        return None
    for reading in readings_for(candidates):
        found = [find_objects(c, reading) for c in candidates]
        painted = [_object_targets(c, t, o) for (c, t), o in zip(pairs, found, strict=True)]
        if any(p is None for p in painted) or not any(painted):
            continue
        colours = [colour for p in painted for colour in p]
        best = _best_table(found, colours, [find_objects(g, reading) for g in tests])
        if best is None:
            continue
        _, key, (table, default) = best
        chosen = dict(reading=reading, key=key, table=table, default=default)
        args = object_args(reading, key=key, table=table, default=default)
        return Op("recolour_objects_by", FAMILY, partial(recolour_objects_by, **chosen), args)
    return None


def recolour_regions_by(grid: Grid, key: str, table: dict, default: int) -> Grid:
    """Every region of background (4-connected) painted table[its property], or `default`."""
    return _paint_by_table(grid, find_regions(grid), key, table, default)


@keeps_shape
def fit_recolour_regions_by(
    candidates: Sequence[Grid], targets: Sequence[Grid], tests: Sequence[Grid]
) -> Op | None:
    """Regions of background, each painted as a whole through a table keyed by one of its properties
    (size, largest/smallest, touching the border, ...; `_best_table`), the drawing left as it is."""
    pairs = list(zip(candidates, targets, strict=True))
    if not _same_shapes_some_change(pairs) or any(
        not np.array_equal(c[c != background_colour(c)], t[c != background_colour(c)]) for c, t in pairs
    ):
        return None
    found = [find_regions(c) for c in candidates]
    painted = [_object_targets(c, t, o) for (c, t), o in zip(pairs, found, strict=True)]
    if any(p is None for p in painted):
        return None
    best = _best_table(found, [colour for p in painted for colour in p], [find_regions(g) for g in tests])
    if best is None:
        return None
    _, key, (table, default) = best
    chosen = dict(key=key, table=table, default=default)
    return Op("recolour_regions_by", FAMILY, partial(recolour_regions_by, **chosen), tuple(chosen.items()))


FITTERS = (fit_drop_small_objects, fit_recolour_objects_by, fit_recolour_regions_by)
