"""Recipe datasets: the rows of an ARC dataset kept as what defines them, encoded when they are read.

A row is a pure function of its puzzle id (through the augmentation table: task index, dihedral id,
colour map), its example index (which of the task's pairs in this split) and its offset, so a recipe
dataset stores the original grids once and encodes a batch's rows with the builder's own numba
encoder (`encode_views`) when they are indexed. Files, beside a materialized dataset's:

    grid_cells.npy         uint8 [cells]     every original grid, row-major, one after another
    grid_shapes.npy        uint8 [G, 2]      (height, width) of each grid
    train/, test/
        pairs.npy          int32 [P, 2]      (input grid, output grid or -1 when unknown) of each pair
        pair_index.npy     int64 [T + 1]     the pairs of task t in this split: pair_index[t]:[t + 1]
        puzzles.npy        int32 [puzzles]   the puzzle id of each puzzle (its rows share it)
        offsets.npy        uint8 [N, 2]      where row n's grids sit on the canvas
        puzzle_index.npy, group_index.npy    as in a materialized split

A row's example index (which of its task's pairs it is) is its position inside its puzzle: every
puzzle holds all of its task's pairs in this split, in order (the writer checks it), so it is not
stored. Nor are per-row puzzle ids: both come from `puzzle_index` when rows are encoded.

Every file's sha256 is checked when a recipe dataset is opened (they are small), so an altered or
truncated file is refused there, naming it, instead of encoding wrong rows later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from arcsolve.augment.kernels import PackedGrids, encode_views
from arcsolve.constants import MAX_GRID, NUM_COLORS, NUM_DIHEDRAL

GRID_CELLS_FILE = "grid_cells.npy"
GRID_SHAPES_FILE = "grid_shapes.npy"
RECIPE_SPLIT_ARRAYS = ("pairs", "pair_index", "puzzles")
RECIPE_ROW_ARRAYS = {"offsets": (np.uint8, (2,))}  # the only per-row array of a recipe split
UNKNOWN_GRID = -1  # the output grid of a pair whose output is hidden: its label row is all PAD


@dataclass(frozen=True)
class RecipeTable:
    """What every split's rows are encoded from: the grids and the augmentation table, unpacked."""

    packed: PackedGrids
    task_of: np.ndarray  # int64 [num_puzzle_ids]
    dihedrals: np.ndarray  # int64 [num_puzzle_ids]
    colour_maps: np.ndarray  # uint8 [num_puzzle_ids, 10]
    canvas: int


def recipe_table(
    cells: np.ndarray, shapes: np.ndarray, augmentations: np.ndarray, canvas: int
) -> RecipeTable:
    shapes = np.asarray(shapes, dtype=np.int64)
    sizes = shapes[:, 0] * shapes[:, 1]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    packed = PackedGrids(np.asarray(cells), starts, shapes[:, 0].copy(), shapes[:, 1].copy())
    table = np.asarray(augmentations)
    return RecipeTable(
        packed=packed,
        task_of=table[:, 0].astype(np.int64),
        dihedrals=table[:, 1].astype(np.int64),
        colour_maps=table[:, 2:].astype(np.uint8),
        canvas=canvas,
    )


def recipe_problem(
    table: RecipeTable, num_tasks: int, splits: dict[str, dict[str, np.ndarray]]
) -> str | None:
    """What makes these arrays no recipe a build writes (they passed their sha256 check), or None."""
    packed = table.packed
    sides = np.concatenate([packed.heights, packed.widths])
    if sides.size and (sides.min() < 1 or sides.max() > MAX_GRID):
        return "grid_shapes.npy: a grid side lies outside 1..30"
    if int((packed.heights * packed.widths).sum()) != packed.flat.shape[0]:
        return "grid_cells.npy does not hold exactly the cells grid_shapes.npy describes"
    if packed.flat.size and packed.flat.max() >= NUM_COLORS:
        return "grid_cells.npy holds a value outside 0..9"
    real = slice(1, None)  # row 0 is the blank id
    if table.task_of[real].size and (table.task_of[real].min() < 0 or table.task_of[real].max() >= num_tasks):
        return f"augmentations.npy: a task index lies outside 0..{num_tasks - 1}"
    if table.dihedrals.size and (table.dihedrals.min() < 0 or table.dihedrals.max() >= NUM_DIHEDRAL):
        return "augmentations.npy: a dihedral id lies outside 0..7"
    if not (np.sort(table.colour_maps, axis=1) == np.arange(NUM_COLORS)).all():
        return "augmentations.npy: a colour map is not a permutation of 0..9"
    for name, arrays in splits.items():
        pairs, pair_index = arrays["pairs"], arrays["pair_index"]
        if pairs.ndim != 2 or pairs.shape[1] != 2:
            return f"{name}/pairs.npy must be [P, 2]: the input and output grid of each pair"
        if pair_index.shape != (num_tasks + 1,) or pair_index[0] != 0 or pair_index[-1] != pairs.shape[0]:
            return f"{name}/pair_index.npy must run from 0 to {pairs.shape[0]} over {num_tasks} tasks"
        if pairs.size and (pairs[:, 0].min() < 0 or pairs.max() >= len(packed) or pairs.min() < UNKNOWN_GRID):
            return f"{name}/pairs.npy points outside the grids"
    return None


class RecipeRows:
    """The input or label rows of a recipe split, array-like: `rows[i]`, `rows[a:b]`, `rows[index_array]`
    encode exactly those rows (uint8 [k, canvas²]); `shape`, `dtype` and `len` read as a memmap's."""

    dtype = np.dtype(np.uint8)
    ndim = 2

    def __init__(
        self,
        table: RecipeTable,
        pair_grids: np.ndarray,
        pair_index: np.ndarray,
        puzzles: np.ndarray,
        puzzle_index: np.ndarray,
        offsets: np.ndarray,
    ) -> None:
        self.table = table
        self.pair_grids = np.asarray(pair_grids, dtype=np.int64)  # one side's grid of each pair
        self.pair_index = np.asarray(pair_index, dtype=np.int64)
        self.puzzles = np.asarray(puzzles, dtype=np.int64)
        self.puzzle_index = np.asarray(puzzle_index, dtype=np.int64)
        self.offsets = offsets
        self.shape = (int(offsets.shape[0]), table.canvas * table.canvas)

    def __len__(self) -> int:
        return self.shape[0]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        rows = self.encode(np.arange(self.shape[0], dtype=np.int64))
        return rows if dtype is None else rows.astype(dtype)

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, (int, np.integer)):
            index = int(key) + (self.shape[0] if key < 0 else 0)
            if not 0 <= index < self.shape[0]:
                raise IndexError(f"row {key} out of range for {self.shape[0]} rows")
            return self.encode(np.array([index], dtype=np.int64))[0]
        if isinstance(key, slice):
            return self.encode(np.arange(*key.indices(self.shape[0]), dtype=np.int64))
        rows = np.asarray(key)
        if rows.dtype == np.bool_:
            rows = np.flatnonzero(rows)
        return self.encode(np.where(rows < 0, rows + self.shape[0], rows).astype(np.int64).reshape(-1))

    def encode(self, rows: np.ndarray) -> np.ndarray:
        """Rows `rows` (int64 [k]) encoded, in that order."""
        if rows.size and (rows.min() < 0 or rows.max() >= self.shape[0]):
            raise IndexError(f"a row index lies outside 0..{self.shape[0] - 1}")
        t = self.table
        puzzle = np.searchsorted(self.puzzle_index, rows, side="right") - 1
        ids = self.puzzles[puzzle]
        pairs = self.pair_index[t.task_of[ids]] + rows - self.puzzle_index[puzzle]
        grids = self.pair_grids[pairs]
        out = np.zeros((rows.shape[0], self.shape[1]), dtype=np.uint8)
        known = grids != UNKNOWN_GRID
        if known.all():
            aug = np.arange(rows.shape[0], dtype=np.int64)
            encode_views(
                t.packed, t.dihedrals[ids], t.colour_maps[ids], grids, aug, self.offsets[rows], t.canvas, out
            )
        elif known.any():
            sel = np.flatnonzero(known)
            aug = np.arange(sel.shape[0], dtype=np.int64)
            out[sel] = encode_views(
                t.packed,
                t.dihedrals[ids[sel]],
                t.colour_maps[ids[sel]],
                grids[sel],
                aug,
                self.offsets[rows[sel]],
                t.canvas,
            )
        return out
