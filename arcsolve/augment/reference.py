"""Plain NumPy references for the numba kernels: one grid at a time, through the public per-grid API.

Tests compare every kernel with these exactly; `benchmarks/augment_bench.py` times them against
the kernels. They take the same arguments as the kernels' wrappers and return the same arrays.
"""

from __future__ import annotations

import numpy as np

from arcsolve.augment.encoding import decode_grid, encode_grid
from arcsolve.augment.kernels import PackedGrids
from arcsolve.augment.transforms import Augmentation
from arcsolve.constants import MAX_GRID


def _augmentation(dihedral: int, colour_map: np.ndarray, offset=(0, 0)) -> Augmentation:
    return Augmentation(int(dihedral), tuple(int(c) for c in colour_map), (int(offset[0]), int(offset[1])))


def encode_views_reference(
    packed: PackedGrids,
    dihedrals: np.ndarray,
    colour_maps: np.ndarray,
    grid_index: np.ndarray,
    aug_index: np.ndarray,
    offsets: np.ndarray,
    canvas: int,
) -> np.ndarray:
    out = np.empty((len(grid_index), canvas * canvas), dtype=np.uint8)
    for k, (g, a) in enumerate(zip(grid_index, aug_index, strict=True)):
        aug = _augmentation(dihedrals[a], colour_maps[a])
        out[k] = encode_grid(aug.apply(packed.grid(int(g))), canvas, tuple(offsets[k]))
    return out


def transform_packed_reference(
    packed: PackedGrids, dihedrals: np.ndarray, colour_maps: np.ndarray
) -> np.ndarray:
    out = np.empty((len(dihedrals), packed.flat.shape[0]), dtype=np.uint8)
    for a in range(len(dihedrals)):
        aug = _augmentation(dihedrals[a], colour_maps[a])
        out[a] = np.concatenate([aug.apply(packed.grid(g)).reshape(-1) for g in range(len(packed))])
    return out


def decode_views_reference(
    tokens: np.ndarray, canvas: int, dihedrals: np.ndarray, colour_maps: np.ndarray, offsets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    grids = np.zeros((len(tokens), MAX_GRID, MAX_GRID), dtype=np.uint8)
    shapes = np.zeros((len(tokens), 2), dtype=np.int64)
    for k in range(len(tokens)):
        view = decode_grid(tokens[k], canvas, tuple(offsets[k]))
        if view is None:
            continue
        grid = _augmentation(dihedrals[k], colour_maps[k]).invert(view)
        shapes[k] = grid.shape
        grids[k, : grid.shape[0], : grid.shape[1]] = grid
    return grids, shapes
