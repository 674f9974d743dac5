"""Fill: paint enclosed background (cells the border cannot reach through background), the holes of
each colour's shapes in that colour, each object's bounding box, and the background regions beside a
colour. Fill colours come from the colours the train outputs paint over input background. A fitter
learns the colour of each enclosed region from its size."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np

from arcsolve.constants import NUM_COLORS
from arcsolve.search.grid import Grid, background_colour, colour_counts
from arcsolve.search.ops import Op, TaskView, keeps_shape
from arcsolve.search.region_kernels import fill_boxes, label_components, reachable_from_border

FAMILY = "fill"
MAX_FILL_COLOURS = 3


def enclosed_background(grid: Grid, conn8: bool = False) -> np.ndarray:
    """Background cells with no 4- (or 8-) connected background path to the border."""
    open_cells = grid == background_colour(grid)
    return open_cells & ~reachable_from_border(open_cells, conn8)


def fill_enclosed(grid: Grid, colour: int) -> Grid | None:
    """Enclosed background cells (4-connected paths) painted `colour`."""
    enclosed = enclosed_background(grid)
    if not enclosed.any():
        return None
    out = grid.copy()
    out[enclosed] = colour
    return out


def fill_holes_with_own_colour(grid: Grid) -> Grid | None:
    """Background cells walled in by one colour painted that colour; where walls nest, the innermost
    wall (the one enclosing the least area) wins."""
    bg = background_colour(grid)
    holes = []
    for colour in np.flatnonzero(colour_counts(grid)):
        if colour == bg:
            continue
        inside = ~reachable_from_border(grid != colour) & (grid == bg)
        if inside.any():
            holes.append((int(inside.sum()), int(colour), inside))
    if not holes:
        return None
    out = grid.copy()
    for _, colour, inside in sorted(holes, key=lambda hole: -hole[0]):
        out[inside] = colour
    return out


def fill_bounding_boxes(grid: Grid, conn8: bool, colour: int | None = None) -> Grid | None:
    """Background cells inside each object's bounding box painted the object's commonest colour, or
    `colour` (objects: connected non-background cells; larger boxes are painted first, so nested
    boxes show)."""
    bg = background_colour(grid)
    labels, count = label_components(grid != bg, conn8)
    if count == 0:
        return None
    return fill_boxes(grid, labels, count, bg, colour)


def fill_colour_boxes(grid: Grid, colour: int | None = None) -> Grid | None:
    """Background cells inside the bounding box of all the cells of each colour painted that colour,
    or `colour` (two corner pixels span a rectangle; larger boxes first, so nested boxes show)."""
    bg = background_colour(grid)
    present = [c for c in np.unique(grid).tolist() if c != bg]
    if not present:
        return None
    labels = np.zeros(grid.shape, dtype=np.int32)  # 0 background, k for the k-th colour present
    for k, c in enumerate(present, start=1):
        labels[grid == c] = k
    return fill_boxes(grid, labels, len(present), bg, colour)


def fill_regions_touching(grid: Grid, colour: int) -> Grid | None:
    """Every 4-connected background region with a cell beside a `colour` cell painted `colour`."""
    bg = background_colour(grid)
    is_colour = grid == colour
    if colour == bg or not is_colour.any():
        return None
    labels, count = label_components(grid == bg, conn8=False)
    beside = np.zeros_like(is_colour)
    beside[1:] |= is_colour[:-1]
    beside[:-1] |= is_colour[1:]
    beside[:, 1:] |= is_colour[:, :-1]
    beside[:, :-1] |= is_colour[:, 1:]
    touching = np.zeros(count + 1, bool)
    touching[labels[beside]] = True
    touching[0] = False
    out = grid.copy()
    out[touching[labels]] = colour
    return out


def growing_colours(view: TaskView) -> list[int]:
    """Colours with more cells in every train output than in its input (same-shape pairs only)."""
    grows = None
    for i, o in zip(view.train_inputs, view.train_outputs, strict=True):
        if i.shape != o.shape:
            return []
        pair_grows = set(np.flatnonzero(colour_counts(o) > colour_counts(i)).tolist())
        grows = pair_grows if grows is None else grows & pair_grows
    return sorted(grows or ())[:MAX_FILL_COLOURS]


def painted_colours(view: TaskView) -> list[int]:
    """Colours the same-shape train outputs put on input background, commonest first."""
    painted = np.zeros(NUM_COLORS, np.int64)
    for i, o in zip(view.train_inputs, view.train_outputs, strict=True):
        if i.shape == o.shape:
            changed = (i == background_colour(i)) & (o != i)
            painted += np.bincount(o[changed], minlength=NUM_COLORS)[:NUM_COLORS]
    return [int(c) for c in np.argsort(-painted, kind="stable") if painted[c] > 0][:MAX_FILL_COLOURS]


def fill_colours(view: TaskView) -> list[int]:
    """Colours a fill may paint: those the train outputs put on input background (commonest first),
    else the lowest colour no train input uses (a mask the final colour map can rename)."""
    colours = painted_colours(view)
    if colours:
        return colours
    used = sum(colour_counts(i) for i in view.train_inputs)
    unused = np.flatnonzero(used == 0)
    return [int(unused[0])] if unused.size else []


def fill_uniform_lines(grid: Grid, colour: int) -> Grid | None:
    """Every row and column of one colour throughout painted `colour`; None when there is none."""
    lines = (grid == grid[:, :1]).all(axis=1)[:, None] | (grid == grid[:1, :]).all(axis=0)[None, :]
    if not lines.any() or lines.all():
        return None
    return np.where(lines, np.uint8(colour), grid)


def paint_grid_border(grid: Grid, colour: int) -> Grid:
    """The outermost ring of cells painted `colour`."""
    out = grid.copy()
    out[[0, -1], :] = colour
    out[:, [0, -1]] = colour
    return out


def ops(view: TaskView) -> list[Op]:
    colours = fill_colours(view)
    steps = [
        Op(paint.__name__, FAMILY, partial(paint, colour=c), (("colour", c),))
        for paint in (fill_enclosed, paint_grid_border, fill_uniform_lines)
        for c in colours
    ]
    steps.append(Op("fill_holes_with_own_colour", FAMILY, fill_holes_with_own_colour))
    for colour in [None, *painted_colours(view)[:1]]:
        for conn8 in (False, True):
            fn = partial(fill_bounding_boxes, conn8=conn8, colour=colour)
            steps.append(
                Op("fill_bounding_boxes", FAMILY, fn, (("conn", 8 if conn8 else 4), ("colour", colour)))
            )
        fn = partial(fill_colour_boxes, colour=colour)
        steps.append(Op("fill_colour_boxes", FAMILY, fn, (("colour", colour),)))
    for colour in growing_colours(view):
        fn = partial(fill_regions_touching, colour=colour)
        steps.append(Op("fill_regions_touching", FAMILY, fn, (("colour", colour),)))
    return steps


def enclosed_regions(grid: Grid) -> tuple[np.ndarray, int]:
    """(labels, count) of the 4-connected regions of enclosed background."""
    return label_components(enclosed_background(grid), conn8=False)


def fill_enclosed_by_size(grid: Grid, sizes: tuple[int, ...], colours: tuple[int, ...]) -> Grid | None:
    """Each enclosed background region painted the colour its cell count maps to (the map as two
    parallel tuples); None if a region's size is not in the map."""
    labels, count = enclosed_regions(grid)
    region_sizes = np.bincount(labels.ravel(), minlength=count + 1)
    colour_of = dict(zip(sizes, colours, strict=True))
    if any(int(size) not in colour_of for size in region_sizes[1:]):
        return None
    lut = np.array([0] + [colour_of[int(size)] for size in region_sizes[1:]], dtype=np.uint8)
    return np.where(labels > 0, lut[labels], grid).astype(np.uint8)


@keeps_shape
def fit_enclosed_by_size(
    candidates: Sequence[Grid], targets: Sequence[Grid], tests: Sequence[Grid]
) -> Op | None:
    """Learn region size -> colour from the train pairs: every enclosed region must become one colour,
    regions of one size the same colour, nothing else may change, and the test grids' sizes be known."""
    colour_of: dict[int, int] = {}
    for cand, target in zip(candidates, targets, strict=True):
        if cand.shape != target.shape:
            return None
        drawn = cand != background_colour(cand)
        if not np.array_equal(cand[drawn], target[drawn]):
            return None  # only (enclosed) background cells may change
        labels, count = enclosed_regions(cand)
        if np.any((labels == 0) & (cand != target)):
            return None
        for label in range(1, count + 1):
            painted = np.unique(target[labels == label])
            size = int(np.count_nonzero(labels == label))
            if painted.size != 1 or colour_of.setdefault(size, int(painted[0])) != painted[0]:
                return None
    for test in tests:
        labels, _ = enclosed_regions(test)
        if any(int(size) not in colour_of for size in np.bincount(labels.ravel())[1:]):
            return None
    if not colour_of:
        return None
    sizes, colours = tuple(sorted(colour_of)), tuple(colour_of[s] for s in sorted(colour_of))
    fn = partial(fill_enclosed_by_size, sizes=sizes, colours=colours)
    return Op("fill_enclosed_by_size", FAMILY, fn, (("sizes", sizes), ("colours", colours)))


FITTERS = (fit_enclosed_by_size,)
