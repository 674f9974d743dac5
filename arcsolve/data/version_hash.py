"""The reference builder's duplicate test on a task's versions, by a 128-bit hash of its pair multiset.

The reference keeps a candidate version (dihedral x colour map) of a task unless the multiset of its
(input, output) pairs equals a kept version's. Transforming every grid for each of ~5,000 candidates
per task is what made that test slow, so the key of a version is computed without transforming:

- a grid's hash under dihedral d and colour map m is `sum over cells p of R[p] * (m[colour(p)] + 1)`
  with random 64-bit weights R by position in the transformed grid; grouped by colour it is
  `sum over c of (m[c] + 1) * W[d, g, c]`, where W (the weights of grid g's cells of colour c under
  d) is computed once per task for the 8 dihedrals; a candidate then costs 10 products per grid;
- a pair's value mixes both grids' hashes and transformed shapes; a version's key is the wrapping
  sum of a 64-bit finalizer over its pairs, so equal multisets give equal keys, in any order.

Two independent weight sets make the key 128 bits: different multisets collide with probability
about 2^-120 per comparison (the reference compares hashes of its pairs too). Everything is fixed
(the weights come from a constant seed), so builds stay reproducible.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from arcsolve.augment.kernels import PackedGrids, dihedral_coefficients
from arcsolve.augment.transforms import SWAPS_SIDES
from arcsolve.constants import JIT_FLAGS, MAX_GRID, NUM_COLORS, NUM_DIHEDRAL

KEY_WORDS = 2
_WEIGHTS = np.random.default_rng(0x7A5B).integers(
    0, 2**63, size=(KEY_WORDS, MAX_GRID * MAX_GRID + 4), dtype=np.uint64
)
_SWAPS = np.array(SWAPS_SIDES, dtype=np.bool_)


@njit(**JIT_FLAGS)
def _colour_weights(flat, starts, heights, widths, swaps, weights, out):
    """out[k, d, g, c] = sum of weights[k, p] over the cells of grid g, under dihedral d, of colour c,
    p being the cell's position in the transformed grid (row-major)."""
    out[:] = 0
    for d in range(NUM_DIHEDRAL):
        for g in range(starts.shape[0]):
            h, w = heights[g], widths[g]
            ww = h if swaps[d] else w
            i0, iy, ix, j0, jy, jx = dihedral_coefficients(d, h, w)
            for y in range(h):
                for x in range(w):
                    p = (i0 + iy * y + ix * x) * ww + j0 + jy * y + jx * x
                    c = flat[starts[g] + y * w + x]
                    for k in range(weights.shape[0]):
                        out[k, d, g, c] += weights[k, p]


@njit(**JIT_FLAGS)
def _fmix(z):
    z = (z ^ (z >> np.uint64(33))) * np.uint64(0xFF51AFD7ED558CCD)
    z = (z ^ (z >> np.uint64(33))) * np.uint64(0xC4CEB9FE1A85EC53)
    return z ^ (z >> np.uint64(33))


@njit(**JIT_FLAGS)
def _candidate_keys(colour_weights, heights, widths, swaps, shape_weights, pairs, dihedrals, maps, out):
    """out[a, k] = key word k of candidate a (dihedral id, colour map) over the task's pairs."""
    for a in range(dihedrals.shape[0]):
        d = dihedrals[a]
        for k in range(colour_weights.shape[0]):
            total = np.uint64(0)
            for q in range(pairs.shape[0]):
                value = np.uint64(0)
                for side in range(2):
                    g = pairs[q, side]
                    grid_hash = np.uint64(0)
                    for c in range(NUM_COLORS):
                        grid_hash += np.uint64(maps[a, c] + 1) * colour_weights[k, d, g, c]
                    hh, ww = (widths[g], heights[g]) if swaps[d] else (heights[g], widths[g])
                    shape = np.uint64(hh * (MAX_GRID + 1) + ww)
                    value = _fmix(value + grid_hash + shape * shape_weights[k, side])
                total += _fmix(value)
            out[a, k] = total


def task_colour_weights(packed: PackedGrids) -> np.ndarray:
    """W (uint64 [2, 8, grids, 10]) of one task, for `version_keys`."""
    out = np.empty((KEY_WORDS, NUM_DIHEDRAL, len(packed), NUM_COLORS), dtype=np.uint64)
    _colour_weights(packed.flat, packed.starts, packed.heights, packed.widths, _SWAPS, _WEIGHTS, out)
    return out


def version_keys(
    weights: np.ndarray, packed: PackedGrids, pairs: np.ndarray, dihedrals: np.ndarray, maps: np.ndarray
) -> np.ndarray:
    """The 128-bit keys (uint64 [A, 2]) of augmentations (arcsolve dihedral ids, colour maps) of a task
    whose pairs are `pairs` (int64 [n, 2] grid ids); equal keys <=> equal multisets of pairs."""
    out = np.empty((dihedrals.shape[0], KEY_WORDS), dtype=np.uint64)
    shape_weights = _WEIGHTS[:, -2:]
    _candidate_keys(
        weights, packed.heights, packed.widths, _SWAPS, shape_weights, pairs,
        np.ascontiguousarray(dihedrals, dtype=np.int64), np.ascontiguousarray(maps, dtype=np.uint8), out,
    )  # fmt: skip
    return out


@njit(**JIT_FLAGS)
def _add_new(keys, slots, filled, out):
    """out[a] = keys[a] is in no slot yet, and then it takes one (open addressing on word 0)."""
    mask = np.uint64(slots.shape[0] - 1)
    for a in range(keys.shape[0]):
        i = keys[a, 0] & mask
        out[a] = True
        while filled[i]:
            if slots[i, 0] == keys[a, 0] and slots[i, 1] == keys[a, 1]:
                out[a] = False
                break
            i = (i + np.uint64(1)) & mask
        if out[a]:
            slots[i, 0], slots[i, 1] = keys[a, 0], keys[a, 1]
            filled[i] = True


class SeenKeys:
    """The keys seen so far of one task: a hash set of up to `capacity` 128-bit keys."""

    def __init__(self, capacity: int) -> None:
        size = 1 << max(4, int(2 * capacity).bit_length())
        self._slots = np.zeros((size, KEY_WORDS), dtype=np.uint64)
        self._filled = np.zeros(size, dtype=np.bool_)

    def add_new(self, keys: np.ndarray) -> np.ndarray:
        """bool [A]: key a is in neither the set nor an earlier row (what a sequential seen-set keeps);
        every key is in the set afterwards."""
        out = np.empty(keys.shape[0], dtype=np.bool_)
        _add_new(keys, self._slots, self._filled, out)
        return out
