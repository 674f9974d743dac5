"""Colours: a colour map learned from the train pairs (the last step of most programs), palette
rules (keep one colour, the commonest or rarest colour as a 1x1 answer, swap the two commonest), counts
as lines (a cell per drawn cell; the drawn colours ranked by count), and the cells of a marker colour
recoloured by the nearest other drawn cell."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np

from arcsolve.constants import NUM_COLORS
from arcsolve.search.grid import (
    Grid,
    background_colour,
    bounding_box,
    colour_counts,
    commonest_colour_of,
    vanishing_colours,
)
from arcsolve.search.ops import Op, TaskView, keeps_shape

FAMILY = "colours"


def recolor(grid: Grid, mapping: dict[int, int]) -> Grid:
    """Every cell of a colour in `mapping` becomes the colour it maps to; others stay."""
    table = np.arange(NUM_COLORS, dtype=np.uint8)
    for source, target in mapping.items():
        table[source] = target
    return table[grid]


def keep_colour(grid: Grid, colour: int) -> Grid | None:
    """Cells of `colour` stay, every other cell becomes background."""
    bg = background_colour(grid)
    if colour == bg or not (grid == colour).any():
        return None
    return np.where(grid == colour, grid, bg).astype(np.uint8)


def _ranked_colours(grid: Grid) -> list[int]:
    """The non-background colours present, commonest first (lower colour first on ties)."""
    counts = colour_counts(grid)
    bg = background_colour(grid)
    present = [c for c in range(NUM_COLORS) if counts[c] and c != bg]
    return sorted(present, key=lambda c: (-counts[c], c))


def commonest_colour(grid: Grid) -> Grid | None:
    """A 1x1 grid of the commonest non-background colour."""
    ranked = _ranked_colours(grid)
    return np.full((1, 1), ranked[0], dtype=np.uint8) if ranked else None


def rarest_colour(grid: Grid) -> Grid | None:
    """A 1x1 grid of the rarest colour present (background excluded)."""
    ranked = _ranked_colours(grid)
    return np.full((1, 1), ranked[-1], dtype=np.uint8) if ranked else None


def swap_two_commonest(grid: Grid) -> Grid | None:
    """The two commonest non-background colours trade places."""
    ranked = _ranked_colours(grid)
    if len(ranked) < 2:
        return None
    a, b = ranked[0], ranked[1]
    return recolor(grid, {a: b, b: a})


def taxicab_distance(sources: np.ndarray) -> np.ndarray:
    """Each cell's taxicab distance to the nearest True cell of `sources` (h + w + 1 when there is
    none): the 1-D transform along rows, then along columns (the L1 distance separates), each as
    min over k of d[k] + |c - k| = running minima of d[k] - k forward and d[k] + k backward."""
    h, w = sources.shape
    d = np.where(sources, 0, h + w + 1).astype(np.int64)
    for axis, n in ((1, w), (0, h)):
        index = np.arange(n) if axis == 1 else np.arange(n)[:, None]
        forward = np.minimum.accumulate(d - index, axis=axis) + index
        backward = np.flip(np.minimum.accumulate(np.flip(d + index, axis=axis), axis=axis), axis=axis) - index
        d = np.minimum(forward, backward)
    return d


def recolour_by_nearest(grid: Grid, colour: int) -> Grid | None:
    """Every cell of `colour` takes the colour of the nearest cell (taxicab distance) that is neither
    `colour` nor background; on a tie, the lower colour."""
    bg = background_colour(grid)
    marked = grid == colour
    sources = [c for c in np.unique(grid).tolist() if c not in (colour, bg)]
    if colour == bg or not marked.any() or not sources:
        return None
    distances = np.stack([taxicab_distance(grid == c) for c in sources])
    nearest = np.asarray(sources, dtype=np.uint8)[np.argmin(distances, axis=0)]
    return np.where(marked, nearest, grid).astype(np.uint8)


def drawn_cells_as_line(grid: Grid, axis: str, bg: int) -> Grid | None:
    """One row (or column) with a cell per cell of the grid not of colour `bg` (the task's
    background), in the commonest of those colours (counting as a picture)."""
    counts = colour_counts(grid)
    counts[bg] = 0
    count = int(counts.sum())
    if count == 0 or count > 30:
        return None
    return np.full((1, count) if axis == "row" else (count, 1), int(np.argmax(counts)), dtype=np.uint8)


def colours_by_count(grid: Grid, axis: str, drop: int) -> Grid | None:
    """The drawn colours, commonest first (lower colour first on ties), as one row or column, less
    the first `drop` of them."""
    ranked = _ranked_colours(grid)[drop:]
    if not ranked:
        return None
    line = np.array(ranked, dtype=np.uint8)
    return line[None, :] if axis == "row" else line[:, None]


def colours_in_order(grid: Grid, axis: str) -> Grid | None:
    """Every colour of the grid once, ordered by the mean column of its cells as one row ("row"), by
    the mean row as one column ("column"), or ("auto") along whichever way the colours spread more
    (bands of colour read off left to right or top to bottom). None for one colour, or a tie."""
    present = np.flatnonzero(colour_counts(grid))
    if len(present) < 2:
        return None
    rows, cols = np.indices(grid.shape)
    mean_rows = np.array([rows[grid == c].mean() for c in present])
    mean_cols = np.array([cols[grid == c].mean() for c in present])
    if axis == "auto":
        axis = "row" if np.ptp(mean_cols) >= np.ptp(mean_rows) else "column"
    means = mean_cols if axis == "row" else mean_rows
    if len(np.unique(means)) < len(means):
        return None
    line = present[np.argsort(means)].astype(np.uint8)
    return line[None, :] if axis == "row" else line[:, None]


def reverse_rings(grid: Grid) -> Grid | None:
    """Concentric rings (cells at the same distance from the border), each of one colour, repainted
    in the reverse order: the outermost ring takes the innermost ring's colour and so on. None
    unless every ring is one colour and there are at least two rings."""
    h, w = grid.shape
    rows, cols = np.indices((h, w))
    ring = np.minimum(np.minimum(rows, h - 1 - rows), np.minimum(cols, w - 1 - cols))
    rings = int(ring.max()) + 1
    colours = np.array([grid[ring == k][0] for k in range(rings)], dtype=np.uint8)
    if rings < 2 or any((grid[ring == k] != colours[k]).any() for k in range(rings)):
        return None
    return colours[::-1][ring]


def _line_outputs(view: TaskView) -> str | None:
    """ "row" when every train output is one row, "column" when every one is one column (not both),
    "auto" when each is one or the other."""
    if all(o.shape[0] == 1 for o in view.train_outputs):
        return "row"
    if all(o.shape[1] == 1 for o in view.train_outputs):
        return "column"
    if all(1 in o.shape for o in view.train_outputs):
        return "auto"
    return None


def ops(view: TaskView) -> list[Op]:
    steps = [
        Op("commonest_colour", FAMILY, commonest_colour),
        Op("rarest_colour", FAMILY, rarest_colour),
        Op("swap_two_commonest", FAMILY, swap_two_commonest),
        Op("reverse_rings", FAMILY, reverse_rings),
    ]
    in_colours = set().union(*(np.unique(g).tolist() for g in view.inputs))
    for colour in sorted(in_colours):
        steps.append(
            Op("keep_colour", FAMILY, partial(keep_colour, colour=colour), (("colour", colour),), 1.5)
        )
    axis = _line_outputs(view)
    if axis is not None:
        fn = partial(colours_in_order, axis=axis)
        steps.append(Op("colours_in_order", FAMILY, fn, (("axis", axis),)))
    if axis in ("row", "column"):
        bg = commonest_colour_of(view.train_inputs)
        fn = partial(drawn_cells_as_line, axis=axis, bg=bg)
        steps.append(Op("drawn_cells_as_line", FAMILY, fn, (("axis", axis), ("bg", bg))))
        for drop in (0, 1):
            fn = partial(colours_by_count, axis=axis, drop=drop)
            steps.append(Op("colours_by_count", FAMILY, fn, (("axis", axis), ("drop", drop))))
    for colour in vanishing_colours(view.train_inputs, view.train_outputs):
        fn = partial(recolour_by_nearest, colour=colour)
        steps.append(Op("recolour_by_nearest", FAMILY, fn, (("colour", colour),)))
    return steps


def learn_colour_map(candidates: Sequence[Grid], targets: Sequence[Grid]) -> dict[int, int] | None:
    """The one colour -> colour map taking every candidate to its target, or None.

    Only colours that change are kept. Shapes must match pair by pair; a colour seen going to two
    different colours anywhere rules the map out."""
    table = np.full(NUM_COLORS, -1, dtype=np.int16)
    for cand, target in zip(candidates, targets, strict=True):
        if cand.shape != target.shape:
            return None
        pairs = np.unique(cand.ravel().astype(np.int16) * NUM_COLORS + target.ravel())
        sources, dests = np.divmod(pairs, NUM_COLORS)
        if np.unique(sources).size != sources.size:
            return None
        known = table[sources]
        if ((known >= 0) & (known != dests)).any():
            return None
        table[sources] = dests
    return {int(c): int(table[c]) for c in range(NUM_COLORS) if table[c] >= 0 and table[c] != c}


@keeps_shape
def fit_colour_map(candidates: Sequence[Grid], targets: Sequence[Grid], tests: Sequence[Grid]) -> Op | None:
    """Recolour by the map the train pairs imply. Colours the train pairs never showed keep their
    colour, unless the map sends every seen colour somewhere else (then they are unknown: None)."""
    mapping = learn_colour_map(candidates, targets)
    if not mapping:
        return None
    seen = set().union(*(np.unique(c).tolist() for c in candidates))
    unseen = set().union(*(np.unique(t).tolist() for t in tests)) - seen
    if unseen and all(c in mapping for c in seen):
        return None
    return Op("recolor", FAMILY, partial(recolor, mapping=mapping), (("map", mapping),))


VARIABLE = "own"  # the role of a grid's one colour outside the fixed palette, in a role map


def recolor_by_role(
    grid: Grid, fixed: tuple[int, ...], roles: tuple[tuple[int | str, int | str], ...]
) -> Grid | None:
    """Recolour by a map between roles: a colour of `fixed` (seen in every grid) is itself, VARIABLE
    is the grid's one colour outside `fixed`; None unless the grid has exactly one such colour."""
    own = [c for c in np.unique(grid).tolist() if c not in fixed]
    if len(own) != 1:
        return None
    name = {VARIABLE: own[0]}
    return recolor(grid, {name.get(a, a): name.get(b, b) for a, b in roles})


@keeps_shape
def fit_role_colour_map(
    candidates: Sequence[Grid], targets: Sequence[Grid], tests: Sequence[Grid]
) -> Op | None:
    """A colour map that names a colour by its role: each grid has one colour of its own beside a
    palette every grid shares, and the map sends colours to and from "its own colour" (swap the
    marker colour with the shape's, paint with the colour each grid brings)."""
    present = np.stack([colour_counts(g) > 0 for g in (*candidates, *tests)])
    shared = present.all(axis=0)
    if np.any((present & ~shared).sum(axis=1) != 1):
        return None
    fixed = set(np.flatnonzero(shared).tolist())
    palettes = [set(np.flatnonzero(row).tolist()) for row in present]
    roles: dict[int | str, int | str] = {}
    for cand, target, palette in zip(candidates, targets, palettes, strict=False):
        mapping = learn_colour_map([cand], [target])
        if mapping is None:
            return None
        (own,) = palette - fixed
        for a in palette:
            b = mapping.get(a, a)
            role_a, role_b = (VARIABLE if a == own else a), (VARIABLE if b == own else b)
            if roles.setdefault(role_a, role_b) != role_b:
                return None
    if all(a != VARIABLE and b != VARIABLE for a, b in roles.items()):
        return None  # no role in it: a plain colour map
    table = tuple(sorted(((a, b) for a, b in roles.items() if a != b), key=str))
    fn = partial(recolor_by_role, fixed=tuple(sorted(fixed)), roles=table)
    return Op("recolor_by_role", FAMILY, fn, (("fixed", tuple(sorted(fixed))), ("map", dict(table))))


def recolor_in_box(grid: Grid, box_colour: int, mapping: dict[int, int]) -> Grid | None:
    """Recolour by `mapping` only inside the bounding box of the cells of `box_colour`; None when
    the grid has none."""
    box = bounding_box(grid == box_colour)
    if box is None:
        return None
    top, left, bottom, right = box
    out = grid.copy()
    out[top:bottom, left:right] = recolor(grid[top:bottom, left:right], mapping)
    return out


@keeps_shape
def fit_colour_map_in_box(
    candidates: Sequence[Grid], targets: Sequence[Grid], tests: Sequence[Grid]
) -> Op | None:
    """A colour map that holds inside the bounding box of one colour's cells (a frame, a patch),
    with every cell outside the box left as it is; the box must be less than the whole grid, and
    the map must not hold everywhere (fit_colour_map's case)."""
    pairs = list(zip(candidates, targets, strict=True))
    if any(c.shape != t.shape for c, t in pairs):
        return None
    masks = [c != t for c, t in pairs]
    moves = np.unique(
        np.concatenate(
            [c[m].astype(np.int16) * NUM_COLORS + t[m] for (c, t), m in zip(pairs, masks, strict=True)]
        )
    )
    if moves.size == 0 or np.unique(moves // NUM_COLORS).size != moves.size:
        return None  # nothing changes, or the changed cells alone already break a colour map
    sources = np.unique(moves // NUM_COLORS)
    changed = [bounding_box(m) for m in masks]
    for (c, _), m, box in zip(pairs, masks, changed, strict=True):
        if box is not None:  # the box holds the changes, so no cell the map would change stays
            top, left, bottom, right = box
            if (np.isin(c[top:bottom, left:right], sources) & ~m[top:bottom, left:right]).any():
                return None
    if learn_colour_map(candidates, targets) is not None:
        return None
    present = np.stack([colour_counts(g) > 0 for g in (*candidates, *tests)]).all(axis=0)
    for colour in np.flatnonzero(present).tolist():
        boxes = [bounding_box(c == colour) for c in candidates]
        if all(b == (0, 0, *c.shape) for b, c in zip(boxes, candidates, strict=True)) or not all(
            _holds(box, inner) for box, inner in zip(boxes, changed, strict=True)
        ):
            continue
        crops = [
            (c[t0:b0, l0:r0], t[t0:b0, l0:r0]) for (c, t), (t0, l0, b0, r0) in zip(pairs, boxes, strict=True)
        ]
        mapping = learn_colour_map(*zip(*crops, strict=True))
        if mapping:
            fn = partial(recolor_in_box, box_colour=colour, mapping=mapping)
            return Op("recolor_in_box", FAMILY, fn, (("box_colour", colour), ("map", mapping)))
    return None


def _holds(box: tuple[int, int, int, int], inner: tuple[int, int, int, int] | None) -> bool:
    """True when `inner` (None: nothing) lies within `box`."""
    return inner is None or (
        box[0] <= inner[0] and box[1] <= inner[1] and inner[2] <= box[2] and inner[3] <= box[3]
    )


FITTERS = (fit_colour_map, fit_role_colour_map, fit_colour_map_in_box)
