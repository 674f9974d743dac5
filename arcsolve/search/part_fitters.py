"""Partition steps learned from the state: the parts' shape is the target's, whatever step made the
candidate (the partition ops take their splitters from the task's input and output shapes only).

- `overlay_by_priority`: the parts stacked cell by cell, each cell the highest-ranked colour any part
  has there; the ranking is learned from the train pairs as a precedence order of colours;
- `take_part`: the part at one position (a quarter of a cropped symmetric drawing);
- `paint_parts_by_position`: parts of a same-shape grid painted by their place in the layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np

from arcsolve.constants import NUM_COLORS
from arcsolve.search.grid import Grid
from arcsolve.search.ops import Op, TaskView, keeps_shape
from arcsolve.search.partition import Splitter, split, split_layout

FAMILY = "partition"


def state_splitters(candidates: Sequence[Grid], targets: Sequence[Grid]) -> list[Splitter]:
    """Splitters that cut every candidate into at least two parts, each of its target's shape."""
    found: list[Splitter] = []
    if any(
        t.shape[0] > c.shape[0] or t.shape[1] > c.shape[1] or t.shape == c.shape
        for c, t in zip(candidates, targets, strict=True)
    ):
        return found
    ratios = {
        (c.shape[0] // t.shape[0], c.shape[1] // t.shape[1])
        if c.shape[0] % t.shape[0] == 0 and c.shape[1] % t.shape[1] == 0
        else None
        for c, t in zip(candidates, targets, strict=True)
    }
    if len(ratios) == 1 and None not in ratios and ratios != {(1, 1)}:
        found.append(("blocks", *ratios.pop()))
    for c, t in zip(candidates, targets, strict=True):  # fails fast: most states have no separators
        parts = split(c, ("lines", "any"))
        if parts is None or any(p.shape != t.shape for p in parts):
            return found
    found.append(("lines", "any"))
    return found


def _stacked(grid: Grid, splitter: Splitter) -> np.ndarray | None:
    parts = split(grid, splitter)
    if parts is None or len({p.shape for p in parts}) != 1:
        return None
    return np.stack(parts)


def overlay_by_priority(grid: Grid, splitter: Splitter, order: tuple[int, ...]) -> Grid | None:
    """The parts of `grid` stacked: each cell takes, of the colours the parts have there, the one
    first in `order`; None when a part has a colour `order` does not rank."""
    stack = _stacked(grid, splitter)
    if stack is None:
        return None
    rank = np.full(NUM_COLORS, len(order), dtype=np.int64)
    rank[list(order)] = np.arange(len(order))
    ranks = rank[stack]
    if ranks.max() == len(order):
        return None
    best = ranks.min(axis=0)
    return np.asarray(order, dtype=np.uint8)[best]


def learn_priority(stacks: Sequence[np.ndarray], targets: Sequence[Grid]) -> tuple[int, ...] | None:
    """The colour order under which every cell of every target is the first-ranked colour its parts
    have there: from each cell, "the target colour beats every other colour present", sorted
    topologically (ties by colour number). None when a target colour is absent from its cell's
    parts or the precedences form a cycle."""
    beats = np.zeros((NUM_COLORS, NUM_COLORS), dtype=bool)
    used = np.zeros(NUM_COLORS, dtype=bool)
    for stack, target in zip(stacks, targets, strict=True):
        present = np.stack([(stack == c).any(axis=0) for c in range(NUM_COLORS)])  # [10, h, w]
        used |= present.any(axis=(1, 2))
        if not np.take_along_axis(present, target[None].astype(np.int64), axis=0).all():
            return None
        for c in np.unique(target).tolist():
            beats[c] |= present[:, target == c].any(axis=1)
    np.fill_diagonal(beats, False)
    order, left = [], [c for c in range(NUM_COLORS) if used[c]]
    while left:
        free = [c for c in left if not any(beats[d, c] for d in left if d != c)]
        if not free:
            return None  # a cycle: no order explains every cell
        order.append(free[0])
        left.remove(free[0])
    return tuple(order)


def _priority_overlay(splitter: Splitter, candidates: Sequence[Grid], targets: Sequence[Grid]) -> Op | None:
    """Parts of the target's shape overlaid by a learned colour precedence (`overlay_by_priority`)."""
    stacks = [_stacked(c, splitter) for c in candidates]
    if any(s is None or s.shape[0] < 2 for s in stacks):
        return None
    order = learn_priority(stacks, targets)  # type: ignore[arg-type]
    if order is None:
        return None
    fn = partial(overlay_by_priority, splitter=splitter, order=order)
    return Op("overlay_by_priority", FAMILY, fn, (("split", splitter), ("order", order)))


def take_part(grid: Grid, splitter: Splitter, index: int) -> Grid | None:
    """Part number `index` (row by row) of the grid's parts."""
    parts = split(grid, splitter)
    return None if parts is None or index >= len(parts) else np.ascontiguousarray(parts[index])


def _part_at_one_place(splitter: Splitter, candidates: Sequence[Grid], targets: Sequence[Grid]) -> Op | None:
    """The part at the same position in every pair (`take_part`)."""
    parts = [split(c, splitter) for c in candidates]
    for index in range(min(len(p) for p in parts)):  # type: ignore[arg-type]
        if all(np.array_equal(p[index], t) for p, t in zip(parts, targets, strict=True)):  # type: ignore[index]
            fn = partial(take_part, splitter=splitter, index=index)
            return Op("take_part", FAMILY, fn, (("split", splitter), ("index", index)))
    return None


def fit_parts(candidates: Sequence[Grid], targets: Sequence[Grid], tests: Sequence[Grid]) -> Op | None:
    """For each splitter the state's shapes give: one part taken as it is, else the parts overlaid by
    a learned colour precedence; the first step that applies to every test."""
    for splitter in state_splitters(candidates, targets):
        for learn in (_part_at_one_place, _priority_overlay):
            op = learn(splitter, candidates, targets)
            if op is not None and all(op(t) is not None for t in tests):
                return op
    return None


def paint_parts_by_position(
    grid: Grid, splitter: Splitter, table: tuple[tuple[int, ...], ...]
) -> Grid | None:
    """Each part painted all over with the colour `table` holds at its place in the layout of parts
    (-1: left as it is); None unless the layout has the table's rows and columns."""
    out = grid.copy()
    layout = split_layout(out, splitter)  # views into `out`
    if layout is None or (len(layout), len(layout[0])) != (len(table), len(table[0])):
        return None
    for parts, colours in zip(layout, table, strict=True):
        for part, colour in zip(parts, colours, strict=True):
            if colour >= 0:
                part[...] = colour
    return out


def _position_table(layout: list[list[Grid]], target_layout: list[list[Grid]]) -> np.ndarray | None:
    """Per part, the one colour the target paints it all over with, -1 when the target leaves it as
    it is; None when a part is changed otherwise."""
    table = np.full((len(layout), len(layout[0])), -1, dtype=np.int64)
    for r, c in np.ndindex(*table.shape):
        source, target = layout[r][c], target_layout[r][c]
        if np.array_equal(source, target):
            continue
        if (target != target.flat[0]).any():
            return None
        table[r, c] = target.flat[0]
    return table


@keeps_shape
def fit_paint_parts_by_position(
    candidates: Sequence[Grid], targets: Sequence[Grid], tests: Sequence[Grid]
) -> Op | None:
    """Parts (cut by each grid's own separator colour) painted by their place in the layout, the same
    colour at the same place in every pair (a part the target leaves alone must be left alone in
    every pair, unless it already has the colour)."""
    splitter: Splitter = ("lines", "any")
    if any(c.shape != t.shape for c, t in zip(candidates, targets, strict=True)):
        return None
    tables = []
    for c, t in zip(candidates, targets, strict=True):
        layout, target_layout = split_layout(c, splitter), split_layout(t, splitter)
        if layout is None or target_layout is None or len(layout) * len(layout[0]) < 2:
            return None
        if [len(row) for row in layout] != [len(row) for row in target_layout]:
            return None
        table = _position_table(layout, target_layout)
        if table is None or (tables and table.shape != tables[0].shape):
            return None
        tables.append(table)
    stacked = np.stack(tables)
    painted = stacked.max(axis=0)
    if (painted < 0).all() or ((stacked >= 0) & (stacked != painted)).any():
        return None
    table = tuple(tuple(int(v) for v in row) for row in painted)
    op = Op(
        "paint_parts_by_position",
        FAMILY,
        partial(paint_parts_by_position, splitter=splitter, table=table),
        (("split", splitter), ("table", table)),
    )
    return op if all(np.array_equal(op(c), t) for c, t in zip(candidates, targets, strict=True)) else None


def ops(view: TaskView) -> list[Op]:
    return []


FITTERS = (fit_parts, fit_paint_parts_by_position)
