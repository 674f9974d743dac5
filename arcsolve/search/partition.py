"""Partition: cut the grid into parts along separator lines (full rows or columns of one colour) or
into equal blocks, then combine the parts cell by cell (a boolean op on their non-background masks,
output 1 on 0 for the final colour map to rename, an overlay, or two halves folded), select one part
by a rule (cut out, or kept in place with the others cleared), summarise each part as one cell,
copy the one drawn part into all others, or fill each part with its drawing's colour.

A splitter is ("lines", colour), ("blocks", rows, cols) or ("tiles", height, width); the task
proposes separator colours (a colour drawing a full line in every train input; "any" when each
input has its own), block counts (the ratio of input to output shapes) and tile shapes (the output
shape, when the ratio varies)."""

from __future__ import annotations

from collections import Counter
from functools import partial

import numpy as np

from arcsolve.constants import NUM_COLORS
from arcsolve.search.grid import Grid, colour_counts, commonest_colour_of, grid_key, remember
from arcsolve.search.ops import Op, TaskView

FAMILY = "partition"
MAX_SEPARATOR_COLOURS = 2
SEPARATOR_CACHE = 4096  # grids whose own separator colour is remembered
Splitter = tuple

MASK_RULES = ("and", "or", "xor", "nor", "first_only", "last_only")
SELECT_RULES = (
    "first",
    "odd_one_out",
    "odd_mask_out",
    "odd_colours_out",
    "odd_symmetry_out",
    "most_cells",
    "fewest_cells",
    "most_colours",
    "fewest_colours",
)


def runs_between(is_separator: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) of each maximal run of False entries."""
    runs, start = [], None
    for k, sep in enumerate(is_separator.tolist() + [True]):
        if not sep and start is None:
            start = k
        elif sep and start is not None:
            runs.append((start, k))
            start = None
    return runs


_own_separators: dict[bytes, int | None] = {}


def own_separator_colour(grid: Grid) -> int | None:
    """The colour that cuts this grid into parts with full lines: one drawing nothing off its lines
    first, then the one with fewest cells; None if no colour cuts it (cached by the grid's contents:
    several fitters ask of every state)."""
    key = grid_key(grid)
    if key in _own_separators:
        return _own_separators[key]
    full_rows = (grid == grid[:, :1]).all(axis=1)
    full_cols = (grid == grid[:1, :]).all(axis=0)
    line_colours = set(grid[full_rows, 0].tolist()) | set(grid[0, full_cols].tolist())
    found = [
        (not only_on_lines(grid, c), int(np.count_nonzero(grid == c)), c)
        for c in sorted(line_colours)
        if _cuts(grid == c)
    ]
    return remember(_own_separators, key, min(found)[2] if found else None, SEPARATOR_CACHE)


def _cuts(is_line: np.ndarray) -> bool:
    return len(runs_between(is_line.all(axis=1))) * len(runs_between(is_line.all(axis=0))) >= 2


def split_by_lines(grid: Grid, colour: int | str) -> list[list[Grid]] | None:
    """The rectangles between full rows and full columns of `colour` ("any": the grid's own
    separator colour), as rows of parts; None unless there are at least two."""
    if colour == "any":
        found = own_separator_colour(grid)
        if found is None:
            return None
        colour = found
    is_line = grid == colour
    row_runs = runs_between(is_line.all(axis=1))
    col_runs = runs_between(is_line.all(axis=0))
    if len(row_runs) * len(col_runs) < 2:
        return None
    return [[grid[top:bottom, left:right] for left, right in col_runs] for top, bottom in row_runs]


def split_into_blocks(grid: Grid, rows: int, cols: int) -> list[list[Grid]] | None:
    """rows x cols equal blocks, as rows of blocks; None if the shape does not divide."""
    h, w = grid.shape
    if h % rows or w % cols:
        return None
    bh, bw = h // rows, w // cols
    return [[grid[r * bh : (r + 1) * bh, c * bw : (c + 1) * bw] for c in range(cols)] for r in range(rows)]


def split_layout(grid: Grid, splitter: Splitter) -> list[list[Grid]] | None:
    """The parts as rows of parts."""
    if splitter[0] == "lines":
        return split_by_lines(grid, splitter[1])
    if splitter[0] == "tiles":
        h, w = grid.shape
        if h % splitter[1] or w % splitter[2] or (h, w) == splitter[1:]:
            return None
        return split_into_blocks(grid, h // splitter[1], w // splitter[2])
    return split_into_blocks(grid, splitter[1], splitter[2])


def split(grid: Grid, splitter: Splitter) -> list[Grid] | None:
    """The parts row by row."""
    layout = split_layout(grid, splitter)
    return None if layout is None else [part for row in layout for part in row]


def combine_masks(grid: Grid, splitter: Splitter, bg: int, rule: str) -> Grid | None:
    """A 0/1 grid of the parts' shape: 1 where the parts' non-background cells obey `rule` (and: in
    every part; or: in some; xor: in exactly one; nor: in none; first_only / last_only: in the first
    / last part and no other)."""
    parts = split(grid, splitter)
    if parts is None or len({part.shape for part in parts}) != 1:
        return None
    masks = np.stack([part != bg for part in parts])
    count = masks.sum(axis=0)
    if rule == "and":
        mask = count == len(parts)
    elif rule == "or":
        mask = count > 0
    elif rule == "xor":
        mask = count == 1
    elif rule == "nor":
        mask = count == 0
    elif rule == "first_only":
        mask = masks[0] & (count == 1)
    else:
        mask = masks[-1] & (count == 1)
    return mask.astype(np.uint8)


def overlay_parts(grid: Grid, splitter: Splitter, bg: int, last_on_top: bool) -> Grid | None:
    """The parts stacked: each cell the non-background value of the topmost part showing one (the
    first part on top, or the last)."""
    parts = split(grid, splitter)
    if parts is None or len({part.shape for part in parts}) != 1:
        return None
    out = np.full(parts[0].shape, bg, dtype=np.uint8)
    for part in parts if last_on_top else parts[::-1]:
        out[part != bg] = part[part != bg]
    return out


def odd_one_out_key(part: Grid, bg: int, rule: str) -> bytes:
    """What must differ for a part to be the odd one out: its content, its non-background shape, its
    symmetries or its set of colours."""
    if rule == "odd_one_out":
        return grid_key(part)
    if rule == "odd_mask_out":
        return grid_key((part != bg).astype(np.uint8))
    if rule == "odd_symmetry_out":  # which mirror images (and for a square, the transpose) equal it
        square = part.shape[0] == part.shape[1]
        return bytes(
            (
                np.array_equal(part, part[::-1]),
                np.array_equal(part, part[:, ::-1]),
                square and np.array_equal(part, part.T),
            )
        )
    return bytes(colour_counts(part) > 0)


def fold_parts(grid: Grid, splitter: Splitter, bg: int) -> Grid | None:
    """Two parts side by side (or stacked) folded onto each other: the first part's drawing over the
    second part mirrored across the fold."""
    layout = split_layout(grid, splitter)
    if layout is None or sum(len(row) for row in layout) != 2:
        return None
    first, second = layout[0][0], layout[-1][-1]
    mirrored = second[:, ::-1] if len(layout) == 1 else second[::-1, :]
    if first.shape != mirrored.shape:
        return None
    return np.where(first != bg, first, mirrored).astype(np.uint8)


def summarise_parts(grid: Grid, splitter: Splitter, bg: int, how: str) -> Grid | None:
    """One cell per part, laid out as the parts are: its commonest colour ("commonest"), its
    commonest non-background colour ("drawn", background if none), or its number of non-background
    cells capped at 9 ("count", a code the final colour map renames)."""
    layout = split_layout(grid, splitter)
    if layout is None:
        return None
    out = np.empty((len(layout), len(layout[0])), dtype=np.uint8)
    for r, row in enumerate(layout):
        for c, part in enumerate(row):
            counts = colour_counts(part)
            if how == "count":
                out[r, c] = min(part.size - counts[bg], NUM_COLORS - 1)
            elif how == "commonest":
                out[r, c] = np.argmax(counts)
            else:
                drawn = counts.copy()
                drawn[bg] = 0
                out[r, c] = bg if drawn.max() == 0 else np.argmax(drawn)
    return out


def part_scores(parts: list[Grid], bg: int, rule: str) -> list[float]:
    """A number per part whose unique maximum the rule selects."""
    if rule == "first":
        return [1.0] + [0.0] * (len(parts) - 1)
    if rule.startswith("odd_"):
        keys = [odd_one_out_key(p, bg, rule) for p in parts]
        seen = Counter(keys)
        return [float(seen[key] == 1) for key in keys]
    if rule in ("most_cells", "fewest_cells"):
        cells = [float(np.count_nonzero(p != bg)) for p in parts]
        return cells if rule == "most_cells" else [-c for c in cells]
    colours = [float(np.count_nonzero(colour_counts(p)[:NUM_COLORS])) for p in parts]
    return colours if rule == "most_colours" else [-c for c in colours]


def select_part(grid: Grid, splitter: Splitter, bg: int, rule: str) -> Grid | None:
    """The one part with the unique highest score under `rule` (the first part; the odd one out:
    the only part unlike all others, by content, non-background shape, symmetries or colour set; most/fewest
    non-background cells; most/fewest colours); None on a tie."""
    parts = split(grid, splitter)
    if parts is None:
        return None
    scores = part_scores(parts, bg, rule)
    best = max(scores)
    if scores.count(best) != 1:
        return None
    return np.ascontiguousarray(parts[scores.index(best)])


def keep_part(grid: Grid, splitter: Splitter, bg: int, rule: str) -> Grid | None:
    """select_part in place: the parts with the highest score under `rule` stay where they are (all of
    them on a tie), every other part is cleared to `bg` (separators kept); None when all parts tie."""
    out = grid.copy()
    parts = split(out, splitter)  # views into `out`
    if parts is None:
        return None
    scores = part_scores(parts, bg, rule)
    best = max(scores)
    if min(scores) == best:
        return None
    for part, score in zip(parts, scores, strict=True):
        if score != best:
            part[...] = bg
    return out


def spread_part(grid: Grid, splitter: Splitter, bg: int) -> Grid | None:
    """The one part with a drawing (a cell not `bg`) copied into every other part, in place; None
    unless exactly one part is drawn and all parts have its shape."""
    out = grid.copy()
    parts = split(out, splitter)  # views into `out`
    if parts is None:
        return None
    drawn = [p for p in parts if (p != bg).any()]
    if len(drawn) != 1 or any(p.shape != drawn[0].shape for p in parts):
        return None
    source = drawn[0].copy()
    for part in parts:
        part[...] = source
    return out


def fill_parts(grid: Grid, splitter: Splitter, bg: int) -> Grid | None:
    """Each part painted all over with its commonest colour other than `bg` (left as it is when it
    has none), in place (a marker's colour flooding its cell, for a final colour map to rename)."""
    out = grid.copy()
    parts = split(out, splitter)  # views into `out`
    if parts is None:
        return None
    for part in parts:
        counts = colour_counts(part)
        counts[bg] = 0
        if counts.any():
            part[...] = np.argmax(counts)
    return out


def only_on_lines(grid: Grid, colour: int) -> bool:
    """True when every cell of `colour` lies on a full row or column of it (a pure separator)."""
    is_colour = grid == colour
    on_line = is_colour.all(axis=1)[:, None] | is_colour.all(axis=0)[None, :]
    return not np.any(is_colour & ~on_line)


def separator_colours(view: TaskView) -> list[int | str]:
    """Colours that cut every train input into at least two parts with full lines, pure separators
    (no cell off a line) first."""
    colours = [
        c for c in range(NUM_COLORS) if all(split_by_lines(g, c) is not None for g in view.train_inputs)
    ]
    colours.sort(key=lambda c: not all(only_on_lines(g, c) for g in view.train_inputs))
    if not colours and all(own_separator_colour(g) is not None for g in view.train_inputs):
        return ["any"]  # every input is cut, each by a colour of its own
    return colours[:MAX_SEPARATOR_COLOURS]


def task_background(view: TaskView) -> int:
    """The commonest colour over all train inputs: the parts' background (one part alone may be
    mostly drawing)."""
    return commonest_colour_of(view.train_inputs)


def block_counts(view: TaskView) -> list[tuple[int, int]]:
    """(rows, cols) of blocks when every train input is the same whole multiple of its output."""
    ratios = set()
    for i, o in zip(view.train_inputs, view.train_outputs, strict=True):
        if i.shape[0] % o.shape[0] or i.shape[1] % o.shape[1]:
            return []
        ratios.add((i.shape[0] // o.shape[0], i.shape[1] // o.shape[1]))
    return sorted(ratios - {(1, 1)}) if len(ratios) == 1 else []


def tile_shapes(view: TaskView) -> list[tuple[int, int]]:
    """The one shape of all train outputs, when it tiles every train input but in varying numbers
    (a single number of blocks is block_counts' case)."""
    shapes = {o.shape for o in view.train_outputs}
    if len(shapes) != 1:
        return []
    rows, cols = shapes.pop()
    if rows * cols == 1:
        return []
    ratios = {(i.shape[0] / rows, i.shape[1] / cols) for i in view.train_inputs}
    whole = all(r.is_integer() and c.is_integer() and r * c > 1 for r, c in ratios)
    return [(rows, cols)] if whole and len(ratios) > 1 else []


def summary_splitters(view: TaskView, separators: list[int]) -> list[Splitter]:
    """Splitters whose layout has the shape of every train output (one cell per part)."""
    out_shapes = {o.shape for o in view.train_outputs}
    if len(out_shapes) != 1:
        return []
    rows, cols = out_shapes.pop()
    splitters: list[Splitter] = [("lines", c) for c in separators]
    if all(
        i.shape[0] % rows == 0 and i.shape[1] % cols == 0 and i.shape != (rows, cols)
        for i in view.train_inputs
    ):
        splitters.append(("blocks", rows, cols))
    return [
        s
        for s in splitters
        if all(
            (lay := split_layout(i, s)) and (len(lay), len(lay[0])) == (rows, cols) for i in view.train_inputs
        )
    ]


def ops(view: TaskView) -> list[Op]:
    separators = separator_colours(view)
    splitters: list[Splitter] = [("lines", c) for c in separators]
    splitters += [("blocks", rows, cols) for rows, cols in block_counts(view)]
    splitters += [("tiles", rows, cols) for rows, cols in tile_shapes(view)]
    bg = task_background(view)
    steps = []
    for splitter in summary_splitters(view, separators):
        for how in ("commonest", "drawn", "count"):
            fn = partial(summarise_parts, splitter=splitter, bg=bg, how=how)
            steps.append(Op("summarise_parts", FAMILY, fn, (("split", splitter), ("bg", bg), ("how", how))))
    same_shape = all(i.shape == o.shape for i, o in zip(view.train_inputs, view.train_outputs, strict=True))
    # Lines of the background cut most sparse grids, and mostly to cut out a part: only select_part
    # reads them (the other part ops would add ~20 steps to every such task).
    blank = ("lines", bg)
    for splitter in [s for s in splitters if s != blank] if same_shape else ():
        for paint in (spread_part, fill_parts):
            fn = partial(paint, splitter=splitter, bg=bg)
            steps.append(Op(paint.__name__, FAMILY, fn, (("split", splitter), ("bg", bg))))
        for rule in SELECT_RULES[1:]:  # "first" kept in place is rarely a rule
            fn = partial(keep_part, splitter=splitter, bg=bg, rule=rule)
            steps.append(Op("keep_part", FAMILY, fn, (("split", splitter), ("bg", bg), ("rule", rule))))
    for splitter in splitters:
        parts = {"split": splitter, "bg": bg}
        if splitter != blank:
            steps.append(
                Op("fold_parts", FAMILY, partial(fold_parts, splitter=splitter, bg=bg), tuple(parts.items()))
            )
            for name, fn, key, values in (
                ("combine_masks", combine_masks, "rule", MASK_RULES),
                ("overlay_parts", overlay_parts, "last_on_top", (False, True)),
            ):
                for value in values:
                    step = partial(fn, splitter=splitter, bg=bg, **{key: value})
                    steps.append(Op(name, FAMILY, step, (*parts.items(), (key, value))))
        for rule in SELECT_RULES:
            fn = partial(select_part, splitter=splitter, bg=bg, rule=rule)
            steps.append(Op("select_part", FAMILY, fn, (*parts.items(), ("rule", rule))))
    return steps


FITTERS = ()
