"""Slow, obvious reference versions of the per-grid functions, written cell by cell from the spec.

They share no code with arcsolve.augment, so a test comparing the two checks the definitions,
not one implementation against itself.
"""

from __future__ import annotations

import numpy as np

PAD, EOS, COLOUR0 = 0, 1, 2


def dihedral_naive(grid: np.ndarray, d: int) -> np.ndarray:
    """out[i, j] from the definitions: rot90 is counter-clockwise, 7 = fliplr(rot90)."""
    h, w = grid.shape
    swapped = d in (1, 3, 6, 7)
    out = np.zeros((w, h) if swapped else (h, w), dtype=grid.dtype)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            source = {
                0: (i, j),
                1: (j, w - 1 - i),
                2: (h - 1 - i, w - 1 - j),
                3: (h - 1 - j, i),
                4: (i, w - 1 - j),
                5: (h - 1 - i, j),
                6: (j, i),
                7: (h - 1 - j, w - 1 - i),
            }[d]
            out[i, j] = grid[source]
    return out


def encode_naive(grid: np.ndarray, canvas: int, offset: tuple[int, int]) -> np.ndarray:
    h, w = grid.shape
    r0, c0 = offset
    board = [[PAD] * canvas for _ in range(canvas)]
    for y in range(h):
        for x in range(w):
            board[r0 + y][c0 + x] = COLOUR0 + int(grid[y, x])
    for x in range(w):
        if r0 + h < canvas:
            board[r0 + h][c0 + x] = EOS
    for y in range(h):
        if c0 + w < canvas:
            board[r0 + y][c0 + w] = EOS
    return np.array(board, dtype=np.uint8).reshape(-1)


def decode_naive(tokens: np.ndarray, canvas: int, offset: tuple[int, int] = (0, 0)) -> np.ndarray | None:
    """The decoding rule of arcsolve.augment.encoding, step by step."""
    board = np.asarray(tokens).reshape(canvas, canvas).tolist()
    r0, c0 = offset

    def colour(t: int) -> bool:
        return COLOUR0 <= t <= COLOUR0 + 9

    width = 0
    while c0 + width < canvas and colour(board[r0][c0 + width]):
        width += 1
    if width == 0:
        return None
    rows = []
    r = r0
    while r < canvas:
        cells = board[r][c0 : c0 + width]
        closed = c0 + width == canvas or board[r][c0 + width] == EOS
        if not (all(colour(t) for t in cells) and closed):
            break
        rows.append([t - COLOUR0 for t in cells])
        r += 1
    if not rows:
        return None
    if r < canvas and any(t != EOS for t in board[r][c0 : c0 + width]):
        return None
    if len(rows) > 30 or width > 30:
        return None
    return np.array(rows, dtype=np.uint8)
