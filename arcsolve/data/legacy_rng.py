"""NumPy's legacy `RandomState` stream (MT19937) in numba, for the bulk draws of `trm_builder`.

The reference TRM dataset builder draws from NumPy's global legacy generator: `randint(0, 8)`,
`permutation` of 9 colours, and `randint` offsets, millions of scalar calls. Each of those consumes
32-bit MT19937 outputs by masked rejection: with `mask` the smallest all-ones number >= `max`, draw
`next32() & mask` until it is <= `max` (no draw at all when `max` is 0); `permutation`/`shuffle` of n
items swaps item i with such a draw for max = i, for i = n-1 down to 1. This module runs the same
generator (the Mersenne Twister of Matsumoto and Nishimura, 1998) on a copy of a `RandomState`'s
state, and hands the state back, so the two can take turns on one stream.
`tests/test_trm_builder.py` checks every draw kind against `RandomState` itself.
"""

from __future__ import annotations

import numpy as np
from numba import njit


class LegacyStream:
    """A `RandomState`'s MT19937 state as arrays numba can advance; `sync_back` returns it."""

    def __init__(self, state: np.random.RandomState) -> None:
        name, key, pos, _gauss_flag, _gauss = state.get_state(legacy=True)
        assert name == "MT19937"
        self.key = np.array(key, dtype=np.uint32)
        self.pos = np.array([pos], dtype=np.int64)

    def sync_back(self, state: np.random.RandomState) -> None:
        state.set_state(("MT19937", self.key, int(self.pos[0]), 0, 0.0))


@njit(cache=True, nogil=True)
def _next32(key, pos):
    if pos[0] >= 624:
        for i in range(624):
            y = (key[i] & np.uint32(0x80000000)) | (key[(i + 1) % 624] & np.uint32(0x7FFFFFFF))
            value = key[(i + 397) % 624] ^ (y >> np.uint32(1))
            if y & np.uint32(1):
                value ^= np.uint32(0x9908B0DF)
            key[i] = value
        pos[0] = 0
    y = key[pos[0]]
    pos[0] += 1
    y ^= y >> np.uint32(11)
    y ^= (y << np.uint32(7)) & np.uint32(0x9D2C5680)
    y ^= (y << np.uint32(15)) & np.uint32(0xEFC60000)
    y ^= y >> np.uint32(18)
    return y


@njit(cache=True, nogil=True)
def _bounded(key, pos, high):
    """A draw in 0..high (inclusive) by masked rejection, as the legacy generator does it."""
    if high == 0:
        return 0
    mask = np.uint32(high)
    mask |= mask >> np.uint32(1)
    mask |= mask >> np.uint32(2)
    mask |= mask >> np.uint32(4)
    mask |= mask >> np.uint32(8)
    mask |= mask >> np.uint32(16)
    while True:
        value = _next32(key, pos) & mask
        if value <= high:
            return np.int64(value)


@njit(cache=True, nogil=True)
def draw_augmentations(key, pos, count, dihedrals, colour_maps):
    """`count` times: randint(0, 8), then a permutation of colours 1..9 (colour 0 stays)."""
    for t in range(count):
        dihedrals[t] = _bounded(key, pos, 7)
        perm = colour_maps[t]
        for c in range(10):
            perm[c] = c
        for i in range(8, 0, -1):  # shuffle of the 9 items [1..9]: item index i is colour i + 1
            j = _bounded(key, pos, i)
            perm[i + 1], perm[j + 1] = perm[j + 1], perm[i + 1]


@njit(cache=True, nogil=True)
def draw_offsets(key, pos, puzzle_sizes, room_rows, room_cols, offsets):
    """Per puzzle: randint(0, n) picks the example left at (0, 0); every other example gets
    randint(0, room_rows + 1) then randint(0, room_cols + 1). Examples are consecutive."""
    row = 0
    for p in range(puzzle_sizes.shape[0]):
        n = puzzle_sizes[p]
        keep = _bounded(key, pos, n - 1)
        for e in range(n):
            if e == keep:
                offsets[row, 0] = 0
                offsets[row, 1] = 0
            else:
                offsets[row, 0] = _bounded(key, pos, room_rows[row])
                offsets[row, 1] = _bounded(key, pos, room_cols[row])
            row += 1


@njit(cache=True, nogil=True)
def draw_bounded(key, pos, highs, out):
    """out[i] = a draw in 0..highs[i] (what `randint(0, highs[i] + 1)` returns), in order."""
    for i in range(highs.shape[0]):
        out[i] = _bounded(key, pos, highs[i])
