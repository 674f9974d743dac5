"""Objects of a grid and the rules that pick one of them.

An object is a connected component of non-background cells, read from a grid as a `Reading` says:
4- or 8-connected, of one colour or of any colours, over the commonest colour or over 0. A rule
returns the index of the one object it picks, or None when no single object fits (a tie for
largest, two objects with a unique colour), so a program that relies on a rule only applies where
the rule is decisive.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from arcsolve.constants import NUM_COLORS
from arcsolve.search import object_kernels as kernels
from arcsolve.search.grid import Grid, background_colour, grid_key, remember
from arcsolve.search.object_kernels import BORDER, BOTTOM, COLOUR, LEFT, MIXED, RIGHT, SIZE, TOP

CACHE_LIMIT = 4096  # labellings kept per process; the engine asks for the same grid many times


@dataclass(frozen=True)
class Reading:
    """How a grid is read into objects: 8-connected (`diagonal`) or 4-connected; neighbours of any
    non-background colours joined (`multicolour`) or only equal colours; background 0 (when the
    grid has a 0, `zero_background`) or the grid's commonest colour."""

    diagonal: bool
    multicolour: bool
    zero_background: bool

    def background(self, grid: Grid) -> int:
        return 0 if self.zero_background and not grid.all() else background_colour(grid)

    def args(self) -> tuple[tuple[str, object], ...]:
        """How an op prints this reading: `conn=8, multicolour=False, background=zero`."""
        background = "zero" if self.zero_background else "commonest"
        return (
            ("conn", 8 if self.diagonal else 4),
            ("multicolour", self.multicolour),
            ("background", background),
        )


READINGS = tuple(
    Reading(diagonal, multicolour, zero)
    for zero in (False, True)
    for multicolour in (False, True)
    for diagonal in (False, True)
)
"""Every reading, the commonest-colour background first."""


def readings_for(grids: Sequence[Grid]) -> tuple[Reading, ...]:
    """The readings worth trying on these grids: those over 0 only if some grid has a 0 that is not
    its commonest colour (elsewhere they read the grids exactly as the others do)."""
    if any(READINGS[0].background(g) != READINGS[-1].background(g) for g in grids):
        return READINGS
    return tuple(r for r in READINGS if not r.zero_background)


@dataclass(frozen=True)
class Objects:
    """The objects of one grid: `labels` (-1 for background, else the object's index, objects
    numbered in row-major order of their first cell), `stats` (a row per object, columns named
    in `object_kernels`) and the grid's `colours`. The arrays are shared between callers and
    read-only."""

    background: int
    labels: np.ndarray
    stats: np.ndarray
    colours: np.ndarray

    @property
    def count(self) -> int:
        return len(self.stats)

    def mask(self, index: int) -> np.ndarray:
        return self.labels == index

    def box(self, index: int) -> tuple[int, int, int, int]:
        """(top, left, bottom, right), exclusive ends."""
        row = self.stats[index]
        return int(row[TOP]), int(row[LEFT]), int(row[BOTTOM]), int(row[RIGHT])

    @cached_property
    def shape_keys(self) -> tuple[bytes, ...]:
        """Per object an exact identity of its shape: its box's height and width, then the sorted
        offsets of its cells from the box's top-left corner."""
        rows, cols = np.nonzero(self.labels >= 0)
        owners = self.labels[rows, cols]
        offsets = (rows - self.stats[owners, TOP]) * 32 + (cols - self.stats[owners, LEFT])
        packed = offsets[np.lexsort((offsets, owners))].astype(np.uint16).tobytes()
        ends = 2 * np.cumsum(self.stats[:, SIZE])
        starts = ends - 2 * self.stats[:, SIZE]
        heights = self.stats[:, BOTTOM] - self.stats[:, TOP]
        widths = self.stats[:, RIGHT] - self.stats[:, LEFT]
        return tuple(
            bytes((h, w)) + packed[a:b]
            for h, w, a, b in zip(
                heights.tolist(), widths.tolist(), starts.tolist(), ends.tolist(), strict=True
            )
        )

    @cached_property
    def mirror_symmetric(self) -> np.ndarray:
        """bool per object: its cells and colours equal their left-right mirror in its box."""
        rows, cols = np.nonzero(self.labels >= 0)
        owners = self.labels[rows, cols]
        mirrored = self.stats[owners, LEFT] + self.stats[owners, RIGHT] - 1 - cols
        kept = (self.labels[rows, mirrored] == owners) & (
            self.colours[rows, mirrored] == self.colours[rows, cols]
        )
        return np.bincount(owners[~kept], minlength=self.count) == 0

    @cached_property
    def hole_counts(self) -> np.ndarray:
        """int per object: the regions of its box's cells that are not its own and cannot reach the
        box's edge through such cells (4-connected)."""
        counts = np.zeros(self.count, dtype=np.int64)
        rows = self.stats[:, BOTTOM] - self.stats[:, TOP]
        cols = self.stats[:, RIGHT] - self.stats[:, LEFT]
        # An object needs a box of 3 x 3 and 4 cells (a diamond) to enclose anything.
        for index in np.flatnonzero((rows >= 3) & (cols >= 3) & (self.stats[:, SIZE] >= 4)):
            top, left, bottom, right = self.box(index)
            outside = np.pad(self.labels[top:bottom, left:right] != index, 1, constant_values=True)
            _, regions = kernels.label_components(outside.astype(np.uint8), 0, False, False)
            counts[index] = regions - 1
        return counts

    @property
    def has_hole(self) -> np.ndarray:
        return self.hole_counts > 0

    @cached_property
    def shape_classes(self) -> tuple[bytes, ...]:
        """Per object its shape up to rotation and reflection: the least of the 8 dihedral images'
        (height, width, cell mask) keys."""
        classes = []
        for index in range(self.count):
            top, left, bottom, right = self.box(index)
            mask = self.labels[top:bottom, left:right] == index
            images = [np.rot90(m, k) for m in (mask, mask.T) for k in range(4)]
            classes.append(min(bytes(i.shape) + np.packbits(i).tobytes() for i in images))
        return tuple(classes)

    @cached_property
    def touches_marker(self) -> np.ndarray:
        """bool per object: one of its cells has an 8-neighbour that is another, one-cell object."""
        h, w = self.labels.shape
        single = np.concatenate([[False], self.stats[:, SIZE] == 1])
        padded = np.pad(self.labels, 1, constant_values=-1)
        owned = self.labels >= 0
        touching = np.zeros(self.labels.shape, dtype=bool)
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                near = padded[1 + dr : 1 + dr + h, 1 + dc : 1 + dc + w]
                touching |= owned & single[near + 1] & (near != self.labels)
        return np.bincount(self.labels[touching], minlength=self.count) > 0

    @cached_property
    def colour_counts(self) -> np.ndarray:
        """How many distinct colours each object holds."""
        owned = self.labels >= 0
        pairs = np.unique(self.labels[owned] * 16 + self.colours[owned])
        return np.bincount(pairs // 16, minlength=self.count)

    @cached_property
    def spot_counts(self) -> np.ndarray:
        """How many of each object's cells are not of its commonest colour (spots on a patch)."""
        owned = self.labels >= 0
        per_colour = np.zeros((self.count, NUM_COLORS), dtype=np.int64)
        np.add.at(per_colour, (self.labels[owned], self.colours[owned]), 1)
        return per_colour.sum(axis=1) - per_colour.max(axis=1)


_cache: dict[tuple[bytes, Reading], Objects] = {}


def find_objects(grid: Grid, reading: Reading) -> Objects:
    """The grid's objects as `reading` says, cached by the grid's contents."""
    key = (grid_key(grid), reading)
    found = _cache.get(key)
    if found is None:
        objects = _label_objects(grid, reading.background(grid), reading.diagonal, reading.multicolour)
        found = remember(_cache, key, objects, CACHE_LIMIT)
    return found


_regions: dict[bytes, Objects] = {}


def find_regions(grid: Grid) -> Objects:
    """The 4-connected regions of the grid's background colour, as objects of colour 1 (a uniform
    grid is one region), cached by the grid's contents."""
    key = grid_key(grid)
    found = _regions.get(key)
    if found is None:
        mask = (grid == background_colour(grid)).astype(np.uint8)
        found = remember(_regions, key, _label_objects(mask, 0, False, False), CACHE_LIMIT)
    return found


def _label_objects(grid: Grid, background: int, diagonal: bool, multicolour: bool) -> Objects:
    """The components of the cells not `background`, with their stats, as read-only arrays."""
    labels, count = kernels.label_components(grid, background, diagonal, multicolour)
    stats = kernels.component_stats(grid, labels, count)
    colours = grid.copy()
    for array in (labels, stats, colours):
        array.flags.writeable = False
    return Objects(background, labels, stats, colours)


def _only(indices: np.ndarray) -> int | None:
    return int(indices[0]) if len(indices) == 1 else None


def _unique_max(values: np.ndarray) -> int | None:
    if len(values) == 0:
        return None
    return _only(np.flatnonzero(values == values.max()))


def largest(objects: Objects) -> int | None:
    return _unique_max(objects.stats[:, SIZE])


def smallest(objects: Objects) -> int | None:
    return _unique_max(-objects.stats[:, SIZE])


def unique_colour(objects: Objects) -> int | None:
    """The one object whose colour no other object has."""
    colours = objects.stats[:, COLOUR]
    counts = Counter(colours.tolist())
    return _only(np.flatnonzero([counts[c] == 1 and c != MIXED for c in colours.tolist()]))


def unique_size(objects: Objects) -> int | None:
    """The one object whose cell count no other object has."""
    sizes = objects.stats[:, SIZE].tolist()
    counts = Counter(sizes)
    return _only(np.flatnonzero([counts[s] == 1 for s in sizes]))


def unique_shape(objects: Objects) -> int | None:
    """The one object whose shape (cells up to translation) no other object has."""
    keys = objects.shape_keys
    counts = Counter(keys)
    return _only(np.flatnonzero([counts[key] == 1 for key in keys]))


def commonest_shape(objects: Objects) -> int | None:
    """The first object of the shape that occurs most often (that count must be unique and >= 2)."""
    keys = objects.shape_keys
    ranked = Counter(keys).most_common(2)
    if not ranked or ranked[0][1] < 2 or (len(ranked) > 1 and ranked[1][1] == ranked[0][1]):
        return None
    return keys.index(ranked[0][0])


def touching_border(objects: Objects) -> int | None:
    return _only(np.flatnonzero(objects.stats[:, BORDER] == 1))


def inside(objects: Objects) -> int | None:
    """The one object not touching the grid's border."""
    return _only(np.flatnonzero(objects.stats[:, BORDER] == 0))


def topmost(objects: Objects) -> int | None:
    return _unique_max(-objects.stats[:, TOP])


def bottommost(objects: Objects) -> int | None:
    return _unique_max(objects.stats[:, BOTTOM])


def leftmost(objects: Objects) -> int | None:
    return _unique_max(-objects.stats[:, LEFT])


def rightmost(objects: Objects) -> int | None:
    return _unique_max(objects.stats[:, RIGHT])


def largest_box(objects: Objects) -> int | None:
    """The object with the largest bounding-box area."""
    rows = objects.stats
    return _unique_max((rows[:, BOTTOM] - rows[:, TOP]) * (rows[:, RIGHT] - rows[:, LEFT]))


def symmetric(objects: Objects) -> int | None:
    """The one object that is its own left-right mirror image (cells and colours)."""
    return _only(np.flatnonzero(objects.mirror_symmetric))


def asymmetric(objects: Objects) -> int | None:
    """The one object that is not its own left-right mirror image."""
    return _only(np.flatnonzero(~objects.mirror_symmetric))


def marked(objects: Objects) -> int | None:
    """The one object of several cells next to (8-neighbours with) a one-cell object: a marker."""
    return _only(np.flatnonzero(objects.touches_marker & (objects.stats[:, SIZE] > 1)))


def with_hole(objects: Objects) -> int | None:
    """The one object that encloses some cells not its own (a ring, a frame)."""
    return _only(np.flatnonzero(objects.has_hole))


def most_colours(objects: Objects) -> int | None:
    """The object with the most distinct colours."""
    return _unique_max(objects.colour_counts)


def fewest_colours(objects: Objects) -> int | None:
    return _unique_max(-objects.colour_counts)


def most_spots(objects: Objects) -> int | None:
    """The object with the most cells not of its own commonest colour."""
    spots = objects.spot_counts
    return _unique_max(spots) if spots.size and spots.max() > 0 else None


RULES = {
    rule.__name__: rule
    for rule in (
        largest,
        smallest,
        unique_colour,
        unique_size,
        unique_shape,
        commonest_shape,
        touching_border,
        inside,
        topmost,
        bottommost,
        leftmost,
        rightmost,
        largest_box,
        symmetric,
        asymmetric,
        most_colours,
        fewest_colours,
        with_hole,
        marked,
        most_spots,
    )
}
"""Every selection rule by name; the ops print the name (`crop_object(x, select=largest, ...)`)."""
