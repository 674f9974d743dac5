"""Small grid helpers every search family shares. A grid is a C-contiguous uint8 (h, w) array with
1 <= h, w <= 30 and colours 0..9."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from arcsolve.constants import MAX_GRID, NUM_COLORS

Grid = np.ndarray


def as_grid(value) -> Grid:
    return np.ascontiguousarray(np.asarray(value, dtype=np.uint8))


def is_valid_grid(grid: object) -> bool:
    """True for a 2-D uint8 array of 1..30 x 1..30 colours 0..9 (what an op must return)."""
    return (
        isinstance(grid, np.ndarray)
        and grid.ndim == 2
        and grid.dtype == np.uint8
        and 1 <= grid.shape[0] <= MAX_GRID
        and 1 <= grid.shape[1] <= MAX_GRID
        and int(grid.max()) < NUM_COLORS
    )


def grid_key(grid: Grid) -> bytes:
    """An exact identity of a grid: its two sides, then its row-major bytes."""
    return bytes(grid.shape) + grid.tobytes()


def colour_counts(grid: Grid) -> np.ndarray:
    """How many cells hold each colour 0..9."""
    return np.bincount(grid.ravel(), minlength=NUM_COLORS)[:NUM_COLORS]


def commonest_colour_of(grids: Sequence[Grid]) -> int:
    """The commonest colour over all of `grids` together (the lowest on ties): a task's background."""
    return int(np.argmax(sum(colour_counts(g) for g in grids)))


def vanishing_colours(inputs: Sequence[Grid], outputs: Sequence[Grid]) -> list[int]:
    """Colours every input shows and no output does (markers, noise or a mask a program removes)."""
    in_all = np.logical_and.reduce([colour_counts(g) > 0 for g in inputs])
    in_any_output = np.logical_or.reduce([colour_counts(g) > 0 for g in outputs])
    return [int(c) for c in np.flatnonzero(in_all & ~in_any_output)]


def static_colours(inputs: Sequence[Grid], outputs: Sequence[Grid]) -> list[int]:
    """Up to two colours (fewest cells first) that every input shows, other than its background, and
    whose cells every output of the input's shape keeps (obstacles, anchors); none unless every
    output has its input's shape."""
    pairs = list(zip(inputs, outputs, strict=True))
    if any(i.shape != o.shape for i, o in pairs):
        return []
    kept = [
        c
        for c in range(NUM_COLORS)
        if all((i == c).any() and c != background_colour(i) and (o[i == c] == c).all() for i, o in pairs)
    ]
    kept.sort(key=lambda c: sum(int(np.count_nonzero(i == c)) for i in inputs))
    return kept[:2]


def remember(cache: dict, key, value, limit: int):
    """`cache[key] = value`, the cache emptied first when it holds `limit` entries (the search's
    per-process caches: a bounded memory, cheap to refill); returns `value`."""
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value
    return value


BACKGROUND_CACHE_LIMIT = 20_000
_backgrounds: dict[tuple[tuple[int, ...], bytes], int] = {}


def background_colour(grid: Grid) -> int:
    """The commonest colour (the lowest one on ties): ARC's background is 0 in most tasks but not all.
    Cached by the grid's shape and bytes (ops and fitters ask it of the same grids many times)."""
    if grid.dtype != np.uint8:
        return int(np.argmax(colour_counts(grid)))
    key = (grid.shape, grid.tobytes())
    found = _backgrounds.get(key)
    if found is None:
        found = remember(_backgrounds, key, int(np.argmax(colour_counts(grid))), BACKGROUND_CACHE_LIMIT)
    return found


def colours_present(grid: Grid) -> tuple[int, ...]:
    return tuple(int(c) for c in np.flatnonzero(colour_counts(grid)))


def bounding_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, left, bottom, right), exclusive ends, of the True cells; None when there are none."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1
