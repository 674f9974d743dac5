"""`copy_into(dst, src, n)`, `dst[:n] = src[:n]` for the generator kernels (sudoku, maze).

Run as plain Python (NUMBA_DISABLE_JIT) it is that slice assignment. Compiled, it is an element loop:
a compiled array-to-array assignment checks the shapes and builds a formatted message for a mismatch,
which costs seconds of compile time on a fresh checkout (the sudoku batch kernels: 16 s -> 11 s) for
shapes that always agree in these kernels.
"""

from __future__ import annotations

from numba.extending import overload


def copy_into(dst, src, n):
    dst[:n] = src[:n]


@overload(copy_into)
def _copy_into_compiled(dst, src, n):
    def copy_loop(dst, src, n):
        for k in range(n):
            dst[k] = src[k]

    return copy_loop
