"""Local rule: every output cell a function of its input cell's neighbourhood (the cell alone, the
cell and its four side neighbours, or the 3x3 square; exactly, or as the cell's colour and how many
neighbours are drawn), learned as a lookup table from the train pairs; and stamps, the pattern each
colour paints around itself.

An exact neighbourhood's key is the base-11 number of its colours, out-of-grid cells counting as 10,
read in a fixed offset order; one vectorised pass over shifted views of a padded grid computes every
cell's key. A table is used only when no key meets two outputs in the train pairs and every key of
the test grids was seen, coarsest keying first."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np

from arcsolve.search.grid import Grid, remember
from arcsolve.search.ops import Op, TaskView, keeps_shape

FAMILY = "local_rule"
OUTSIDE = 10
BASE = 11
SQUARE = ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))
NEIGHBOURHOODS: dict[str, tuple[tuple[int, int], ...]] = {
    "cell": SQUARE[:1],
    "cross": SQUARE[:5],
    "square": SQUARE,
}
# Keyings, coarsest first: exact neighbourhoods, or the cell's colour with how many of its cross /
# square neighbours are drawn (not background, not outside). A keying refines those listed for it, so
# where they miss a test key it misses one too.
KEYINGS: dict[str, tuple[str, ...]] = {
    "cell": (),
    "cross_count": ("cell",),
    "square_count": ("cell",),
    "cross": ("cell", "cross_count"),
    "square": ("cell", "cross_count", "square_count", "cross"),
}


def neighbourhood_colours(grid: Grid, offsets: tuple[tuple[int, int], ...]) -> np.ndarray:
    """(len(offsets), h * w) int64: the colour at each offset from each cell, 10 outside the grid."""
    h, w = grid.shape
    padded = np.full((h + 2, w + 2), OUTSIDE, dtype=np.int64)
    padded[1:-1, 1:-1] = grid
    return np.stack([padded[1 + dr : 1 + dr + h, 1 + dc : 1 + dc + w].ravel() for dr, dc in offsets])


def keys_from_colours(colours: np.ndarray, keying: str, bg: int) -> np.ndarray:
    """Each cell's key under `keying`, from its neighbourhood colours in SQUARE order."""
    size = len(NEIGHBOURHOODS[keying.removesuffix("_count")])
    if keying.endswith("_count"):
        around = colours[1:size]
        return colours[0] * BASE + ((around != bg) & (around != OUTSIDE)).sum(axis=0)
    keys = np.zeros(colours.shape[1], np.int64)
    for row in colours[:size]:
        keys = keys * BASE + row
    return keys


def neighbourhood_keys(grid: Grid, keying: str, bg: int) -> np.ndarray:
    """(h * w,) int64: each cell's key; exact keyings read the neighbourhood's colours (row-major
    offsets) as one base-11 number."""
    size = len(NEIGHBOURHOODS[keying.removesuffix("_count")])
    return keys_from_colours(neighbourhood_colours(grid, SQUARE[:size]), keying, bg)


SQUARE_CACHE_LIMIT = 4_000
_square_keys: dict[tuple[tuple[int, ...], bytes], np.ndarray] = {}


def square_keys(grid: Grid) -> np.ndarray:
    """neighbourhood_keys(grid, "square", any bg), without the stacked colours, cached by the grid's
    shape and bytes (read-only): the fitter's cheap first rejection, asked of the same grids often."""
    key = (grid.shape, grid.tobytes())
    found = _square_keys.get(key)
    if found is None:
        h, w = grid.shape
        padded = np.full((h + 2, w + 2), OUTSIDE, dtype=np.int64)
        padded[1:-1, 1:-1] = grid
        found = padded[1:-1, 1:-1].copy()
        for dr, dc in SQUARE[1:]:
            found *= BASE
            found += padded[1 + dr : 1 + dr + h, 1 + dc : 1 + dc + w]
        found = found.ravel()
        found.flags.writeable = False
        remember(_square_keys, key, found, SQUARE_CACHE_LIMIT)
    return found


def table_rows(keys: np.ndarray, grid_keys: np.ndarray) -> np.ndarray | None:
    """Where each of grid_keys sits in the sorted `keys`; None if one is missing."""
    at = np.minimum(np.searchsorted(keys, grid_keys), keys.size - 1)
    return at if np.array_equal(keys[at], grid_keys) else None


def apply_table(grid: Grid, keying: str, bg: int, keys: np.ndarray, values: np.ndarray) -> Grid | None:
    """Each cell replaced by the table's value for its key; None if one is not in the table."""
    at = table_rows(keys, neighbourhood_keys(grid, keying, bg))
    return None if at is None else np.ascontiguousarray(values[at].reshape(grid.shape))


def learn_table(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(sorted distinct keys, their output colours) from every train cell's key and target colour;
    None if a key meets two colours."""
    order = np.argsort(keys, kind="stable")
    keys, values = keys[order], values[order]
    same_key = keys[1:] == keys[:-1]
    if np.any(same_key & (values[1:] != values[:-1])):
        return None
    first = np.concatenate(([True], ~same_key))
    return keys[first], np.ascontiguousarray(values[first], dtype=np.uint8)


@keeps_shape
def fit_local_rule(candidates: Sequence[Grid], targets: Sequence[Grid], tests: Sequence[Grid]) -> Op | None:
    """The coarsest keying whose lookup table is consistent on the train pairs and covers every key
    of the test grids (the background: the commonest colour of all train candidates)."""
    if not candidates or any(c.shape != t.shape for c, t in zip(candidates, targets, strict=True)):
        return None
    targets_flat = np.concatenate([t.ravel() for t in targets])
    if learn_table(np.concatenate([square_keys(c) for c in candidates]), targets_flat) is None:
        return None  # the finest keying: when it meets a key twice, so does every coarser one
    colours = np.concatenate([neighbourhood_colours(c, SQUARE) for c in candidates], axis=1)
    bg = int(np.argmax(np.bincount(colours[0], minlength=BASE)))
    uncovered: set[str] = set()
    for keying, coarser in KEYINGS.items():
        if uncovered.intersection(coarser):
            continue
        table = learn_table(keys_from_colours(colours, keying, bg), targets_flat)
        if table is None:
            continue
        keys, values = table
        if any(table_rows(keys, neighbourhood_keys(t, keying, bg)) is None for t in tests):
            uncovered.add(keying)
            continue
        fn = partial(apply_table, keying=keying, bg=bg, keys=keys, values=values)
        return Op("local_rule", FAMILY, fn, (("keying", keying), ("bg", bg), ("entries", int(keys.size))))
    return None


STAMP_OFFSETS = tuple((dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if (dr, dc) != (0, 0))


def apply_stamps(grid: Grid, bg: int, stamps: tuple[tuple[int, int, int, int], ...]) -> Grid:
    """Each (colour, dr, dc, paint): every background cell at offset (dr, dc) from a `colour` cell
    painted `paint` (stamps applied in order, each reading the input)."""
    h, w = grid.shape
    out = grid.copy()
    for colour, dr, dc, paint in stamps:
        source = np.zeros((h, w), bool)
        source[max(dr, 0) : h + min(dr, 0), max(dc, 0) : w + min(dc, 0)] = (grid == colour)[
            max(-dr, 0) : h - max(dr, 0), max(-dc, 0) : w - max(dc, 0)
        ]
        out[source & (grid == bg)] = paint
    return out


def learn_stamps(
    candidates: Sequence[Grid], targets: Sequence[Grid], bg: int
) -> tuple[tuple[int, int, int, int], ...] | None:
    """What each colour paints on the background cells around it, learned from the train pairs;
    None when one colour's neighbour at one offset becomes two different colours."""
    seen: dict[tuple[int, int, int], int] = {}
    for cand, target in zip(candidates, targets, strict=True):
        h, w = cand.shape
        for dr, dc in STAMP_OFFSETS:
            # Pairs (source cell, cell at offset (dr, dc) from it), both inside the grid.
            src = cand[max(-dr, 0) : h - max(dr, 0), max(-dc, 0) : w - max(dc, 0)]
            near = cand[max(dr, 0) : h + min(dr, 0), max(dc, 0) : w + min(dc, 0)]
            near_target = target[max(dr, 0) : h + min(dr, 0), max(dc, 0) : w + min(dc, 0)]
            on_background = (src != bg) & (near == bg)
            for colour, paint in set(
                zip(src[on_background].tolist(), near_target[on_background].tolist(), strict=True)
            ):
                if seen.setdefault((colour, dr, dc), paint) != paint:
                    return None
    return tuple((c, dr, dc, p) for (c, dr, dc), p in sorted(seen.items()) if p != bg)


@keeps_shape
def fit_stamps(candidates: Sequence[Grid], targets: Sequence[Grid], tests: Sequence[Grid]) -> Op | None:
    """Each coloured pixel paints a fixed pattern, depending on its colour, on the background cells
    of its 3x3 neighbourhood (the background: the commonest colour of all train candidates). Used
    when the learned stamps reproduce every train target and every test colour was seen."""
    if not candidates or any(c.shape != t.shape for c, t in zip(candidates, targets, strict=True)):
        return None
    bg = int(np.argmax(sum(np.bincount(c.ravel(), minlength=BASE) for c in candidates)))
    if any(not np.array_equal(c[c != bg], t[c != bg]) for c, t in zip(candidates, targets, strict=True)):
        return None  # stamps paint background cells only: every other cell must already match
    stamps = learn_stamps(candidates, targets, bg)
    if not stamps:
        return None
    seen_colours = set().union(*(np.unique(c).tolist() for c in candidates))
    if any(not set(np.unique(t).tolist()) <= seen_colours for t in tests):
        return None
    if not all(
        np.array_equal(apply_stamps(c, bg, stamps), t) for c, t in zip(candidates, targets, strict=True)
    ):
        return None
    fn = partial(apply_stamps, bg=bg, stamps=stamps)
    return Op("stamp_neighbours", FAMILY, fn, (("bg", bg), ("stamps", stamps)))


# Positional keyings, coarsest first: the cell's colour with its column's and/or row's remainder
# modulo m, counted from the top-left corner or from the bottom-right one (stripes, checkerboards).
POSITIONS = tuple(
    (axes, modulus, corner)
    for modulus in (2, 3, 4)
    for axes in ("cols", "rows", "both")
    for corner in ("top_left", "bottom_right")
)


_position_parts: dict[tuple, np.ndarray] = {}


def position_part(shape: tuple[int, int], axes: str, modulus: int, corner: str) -> np.ndarray:
    """(h, w) int64: each cell's row and/or column remainder as one number in 0..modulus^2 - 1,
    cached by its arguments (a few shapes per task)."""
    key = (shape, axes, modulus, corner)
    found = _position_parts.get(key)
    if found is None:
        rows, cols = np.indices(shape)
        if corner == "bottom_right":
            rows, cols = shape[0] - 1 - rows, shape[1] - 1 - cols
        row_part = rows % modulus if axes in ("rows", "both") else 0
        col_part = cols % modulus if axes in ("cols", "both") else 0
        found = np.asarray(row_part * modulus + col_part, dtype=np.int64) + np.zeros(shape, np.int64)
        found.flags.writeable = False
        remember(_position_parts, key, found, SQUARE_CACHE_LIMIT)
    return found


def position_keys(grid: Grid, axes: str, modulus: int, corner: str) -> np.ndarray:
    """(h, w) int64: each cell's colour, row remainder and column remainder as one number."""
    return grid.astype(np.int64) * (modulus * modulus) + position_part(grid.shape, axes, modulus, corner)


def apply_position_table(
    grid: Grid, axes: str, modulus: int, corner: str, keys: np.ndarray, values: np.ndarray
) -> Grid | None:
    at = table_rows(keys, position_keys(grid, axes, modulus, corner).ravel())
    return None if at is None else np.ascontiguousarray(values[at].reshape(grid.shape))


def _position_table(candidates: Sequence[Grid], targets_flat: np.ndarray, keying: tuple[str, int, str]):
    keyed = [position_keys(c, *keying).ravel() for c in candidates]
    return learn_table(np.concatenate(keyed), targets_flat)


# For each corner, the finest keyings: (both, 4) refines every keying modulo 2 and 4, (both, 3) every
# keying modulo 3; when both are inconsistent, so is every keying from that corner.
FINEST = (("both", 4), ("both", 3))


@keeps_shape
def fit_position_rule(
    candidates: Sequence[Grid], targets: Sequence[Grid], tests: Sequence[Grid]
) -> Op | None:
    """Each output cell a function of the cell's colour and its position modulo 2, 3 or 4 (the
    coarsest keying consistent on the train pairs and covering every test cell), when the cell's
    colour alone is not enough."""
    if not candidates or any(c.shape != t.shape for c, t in zip(candidates, targets, strict=True)):
        return None
    targets_flat = np.concatenate([t.ravel() for t in targets])
    if learn_table(np.concatenate([c.ravel().astype(np.int64) for c in candidates]), targets_flat):
        return None  # the colour alone decides: a colour map, not a positional rule
    corners = [
        corner
        for corner in ("top_left", "bottom_right")
        if any(_position_table(candidates, targets_flat, (axes, m, corner)) for axes, m in FINEST)
    ]
    for axes, modulus, corner in POSITIONS:
        if corner not in corners:
            continue
        table = _position_table(candidates, targets_flat, (axes, modulus, corner))
        if table is None:
            continue
        keys, values = table
        if any(table_rows(keys, position_keys(t, axes, modulus, corner).ravel()) is None for t in tests):
            continue
        chosen = dict(axes=axes, modulus=modulus, corner=corner)
        fn = partial(apply_position_table, **chosen, keys=keys, values=values)
        return Op("position_rule", FAMILY, fn, tuple(chosen.items()) + (("entries", int(keys.size)),))
    return None


fit_position_rule.shallow_only = True  # type: ignore[attr-defined]  # see engine._fit


def ops(view: TaskView) -> list[Op]:
    """No ops of its own: this family only learns final steps."""
    return []


FITTERS = (fit_local_rule, fit_stamps, fit_position_rule)
