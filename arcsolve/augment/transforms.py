"""Invertible grid transforms: the 8 dihedral maps, colour permutations and translation.

An augmented *view* of a grid is `colour_map[dihedral(grid)]` placed at `offset` on the canvas.
The colour map acts cell by cell and the dihedral map moves cells, so the two commute and the order
in which they are applied does not matter. Translation only says where the grid sits on the canvas
(see `arcsolve.augment.encoding`); it never changes the grid itself.

Dihedral ids follow `arcsolve.constants`: 0 identity, 1 rot90 (counter-clockwise, as `np.rot90`),
2 rot180, 3 rot270, 4 fliplr, 5 flipud, 6 transpose, 7 anti-transpose (= fliplr(rot90)).
An unknown id always raises; it never falls back to the identity.

Every random function takes an explicit `np.random.Generator`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from arcsolve.constants import DIHEDRAL_INVERSE, NUM_COLORS, NUM_DIHEDRAL
from arcsolve.errors import BadInputError

IDENTITY_COLOURS: tuple[int, ...] = tuple(range(NUM_COLORS))

# Dihedral ids that swap height and width.
SWAPS_SIDES = (False, True, False, True, False, False, True, True)


def check_dihedral(dihedral: int) -> int:
    """Return `dihedral` as an int if it is a known id 0..7, else raise BadInputError."""
    if isinstance(dihedral, (bool, np.bool_)) or not isinstance(dihedral, (int, np.integer)):
        raise BadInputError("augmentation", f"dihedral id {dihedral!r} is not an integer")
    if not 0 <= int(dihedral) < NUM_DIHEDRAL:
        raise BadInputError(
            "augmentation", f"unknown dihedral id {dihedral} (expected 0..{NUM_DIHEDRAL - 1})"
        )
    return int(dihedral)


def dihedral_transform(grid: np.ndarray, dihedral: int) -> np.ndarray:
    """Apply dihedral map `dihedral` to a 2-D grid (returns a new contiguous array)."""
    d = check_dihedral(dihedral)
    if d == 0:
        out = grid
    elif d == 1:
        out = np.rot90(grid, 1)
    elif d == 2:
        out = np.rot90(grid, 2)
    elif d == 3:
        out = np.rot90(grid, 3)
    elif d == 4:
        out = np.fliplr(grid)
    elif d == 5:
        out = np.flipud(grid)
    elif d == 6:
        out = grid.T
    else:
        out = np.fliplr(np.rot90(grid, 1))
    return np.ascontiguousarray(out)


def inverse_dihedral(dihedral: int) -> int:
    return DIHEDRAL_INVERSE[check_dihedral(dihedral)]


def dihedral_shape(height: int, width: int, dihedral: int) -> tuple[int, int]:
    """The (h, w) of an (height, width) grid after dihedral map `dihedral`."""
    return (width, height) if SWAPS_SIDES[check_dihedral(dihedral)] else (height, width)


def _compose_table() -> tuple[tuple[int, ...], ...]:
    # Derived from the definitions on a grid with all-distinct cells, so it cannot drift from them.
    probe = np.arange(6).reshape(2, 3)
    images = [dihedral_transform(probe, d) for d in range(NUM_DIHEDRAL)]
    table = []
    for a in range(NUM_DIHEDRAL):
        row = []
        for b in range(NUM_DIHEDRAL):
            both = dihedral_transform(images[b], a)
            row.append(next(d for d in range(NUM_DIHEDRAL) if np.array_equal(images[d], both)))
        table.append(tuple(row))
    return tuple(table)


# DIHEDRAL_COMPOSE[a][b] is the id of "apply b, then a".
DIHEDRAL_COMPOSE = _compose_table()


def compose_dihedral(a: int, b: int) -> int:
    """The dihedral id equal to applying `b` first and then `a`."""
    return DIHEDRAL_COMPOSE[check_dihedral(a)][check_dihedral(b)]


def check_colour_map(colour_map: Sequence[int] | np.ndarray, permute_black: bool = True) -> tuple[int, ...]:
    """Validate a colour map (a permutation of 0..9, `colour_map[c]` = new colour of c) as a tuple."""
    values = tuple(int(c) for c in np.asarray(colour_map).reshape(-1))
    if sorted(values) != list(IDENTITY_COLOURS):
        raise BadInputError(
            "augmentation", f"colour map {values} is not a permutation of 0..{NUM_COLORS - 1}"
        )
    if not permute_black and values[0] != 0:
        raise BadInputError("augmentation", f"colour map {values} moves colour 0, which must stay fixed")
    return values


def inverse_colour_map(colour_map: Sequence[int] | np.ndarray) -> tuple[int, ...]:
    values = check_colour_map(colour_map)
    inverse = [0] * NUM_COLORS
    for colour, image in enumerate(values):
        inverse[image] = colour
    return tuple(inverse)


@dataclass(frozen=True)
class Augmentation:
    """One view of a task: dihedral id, colour map (`colours[c]` = new colour of c), canvas offset.

    `apply` and `invert` act on grids; `offset` is where `encode_grid` puts the transformed grid.
    Augmentations form a group (dihedral x colour permutation x translation of the plane):
    `a.compose(b)` applies b first, then a, and adds the offsets. An inverse can hold a negative
    offset, which is a valid group element but cannot be placed on a canvas.
    """

    dihedral: int = 0
    colours: tuple[int, ...] = IDENTITY_COLOURS
    offset: tuple[int, int] = (0, 0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "dihedral", check_dihedral(self.dihedral))
        object.__setattr__(self, "colours", check_colour_map(self.colours))
        offset = tuple(int(x) for x in self.offset)
        if len(offset) != 2:
            raise BadInputError("augmentation", f"offset {self.offset!r} must be (row, col)")
        object.__setattr__(self, "offset", offset)

    @property
    def colour_array(self) -> np.ndarray:
        return np.asarray(self.colours, dtype=np.uint8)

    @property
    def is_identity(self) -> bool:
        return self.dihedral == 0 and self.colours == IDENTITY_COLOURS and self.offset == (0, 0)

    def apply(self, grid: np.ndarray) -> np.ndarray:
        """The transformed grid (uint8): colours mapped, then the dihedral map."""
        return self.colour_array[dihedral_transform(np.asarray(grid), self.dihedral)]

    def invert(self, grid: np.ndarray) -> np.ndarray:
        """Undo `apply`: `aug.invert(aug.apply(g))` equals `g`."""
        back = np.asarray(inverse_colour_map(self.colours), dtype=np.uint8)
        return back[dihedral_transform(np.asarray(grid), DIHEDRAL_INVERSE[self.dihedral])]

    def compose(self, inner: Augmentation) -> Augmentation:
        """The augmentation equal to applying `inner` first and then `self`."""
        return Augmentation(
            dihedral=compose_dihedral(self.dihedral, inner.dihedral),
            colours=tuple(self.colours[c] for c in inner.colours),
            offset=(self.offset[0] + inner.offset[0], self.offset[1] + inner.offset[1]),
        )

    def inverse(self) -> Augmentation:
        return Augmentation(
            dihedral=DIHEDRAL_INVERSE[self.dihedral],
            colours=inverse_colour_map(self.colours),
            offset=(-self.offset[0], -self.offset[1]),
        )

    def table_row(self, task_index: int) -> np.ndarray:
        """This augmentation as a row of the dataset's augmentations table (offset not included)."""
        return np.array([task_index, self.dihedral, *self.colours], dtype=np.int32)

    @classmethod
    def from_table_row(
        cls, row: Sequence[int] | np.ndarray, offset: tuple[int, int] = (0, 0)
    ) -> Augmentation:
        """Read a row `[task index, dihedral, colour map 0..9]` of `augmentations.npy`."""
        values = np.asarray(row).reshape(-1)
        if values.shape[0] != 2 + NUM_COLORS:
            raise BadInputError(
                "augmentation", f"table row has {values.shape[0]} entries, expected {2 + NUM_COLORS}"
            )
        return cls(dihedral=int(values[1]), colours=tuple(int(c) for c in values[2:]), offset=offset)


def sample_colour_maps(rng: np.random.Generator, n: int, permute_black: bool = False) -> np.ndarray:
    """`n` random colour maps, uint8 [n, 10]; colour 0 stays fixed unless `permute_black`."""
    if permute_black:
        return np.argsort(rng.random((n, NUM_COLORS)), axis=1).astype(np.uint8)
    maps = np.zeros((n, NUM_COLORS), dtype=np.uint8)
    maps[:, 1:] = np.argsort(rng.random((n, NUM_COLORS - 1)), axis=1) + 1
    return maps


def sample_augmentation_arrays(
    rng: np.random.Generator, n: int, permute_black: bool = False, dihedral: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """`n` random (dihedral ids int64 [n], colour maps uint8 [n, 10]), as arrays for the kernels."""
    if n < 0:
        raise BadInputError("augmentation", f"cannot sample {n} augmentations")
    dihedrals = rng.integers(0, NUM_DIHEDRAL, size=n) if dihedral else np.zeros(n, dtype=np.int64)
    return dihedrals.astype(np.int64), sample_colour_maps(rng, n, permute_black)


def sample_augmentations(
    rng: np.random.Generator, n: int, permute_black: bool = False, dihedral: bool = True
) -> list[Augmentation]:
    """`n` random augmentations (offset (0, 0)); use `sample_offsets` for translation."""
    dihedrals, maps = sample_augmentation_arrays(rng, n, permute_black, dihedral)
    return [Augmentation(int(d), tuple(int(c) for c in m)) for d, m in zip(dihedrals, maps, strict=True)]


def offset_room(heights: np.ndarray, widths: np.ndarray, canvas: int) -> np.ndarray:
    """int64 [n, 2]: how many top-left rows and columns an (h, w) grid can start at on the canvas."""
    heights = np.asarray(heights, dtype=np.int64)
    widths = np.asarray(widths, dtype=np.int64)
    if heights.size and (
        heights.max() > canvas or widths.max() > canvas or min(heights.min(), widths.min()) < 1
    ):
        raise BadInputError("augmentation", f"a grid side lies outside 1..{canvas}, so it cannot be placed")
    return np.stack([canvas - heights, canvas - widths], axis=1) + 1


def sample_offsets(
    rng: np.random.Generator, heights: np.ndarray, widths: np.ndarray, canvas: int
) -> np.ndarray:
    """Random top-left offsets, int64 [n, 2], uniform over the places where an (h, w) grid fits."""
    return rng.integers(0, offset_room(heights, widths, canvas), dtype=np.int64)
