"""ARC grids <-> token sequences on a C x C canvas (plain NumPy, one grid at a time).

Token code (`arcsolve.constants`): 0 PAD, 1 EOS, 2..11 colours 0..9. A grid of shape (h, w) placed
at offset (r, c) fills rows r..r+h-1 and columns c..c+w-1 of the canvas. EOS marks the row just
below the grid (row r+h, columns c..c+w-1) and the column just right of it (column c+w, rows
r..r+h-1), each only where it falls inside the canvas; the corner (r+h, c+w) stays PAD and so does
everything else. The canvas is flattened row-major into C*C tokens.

Decoding (what counts as a valid prediction). Starting at the offset:
1. the width w is the length of the run of colour tokens in the first row (w >= 1);
2. the grid's rows are the consecutive rows whose cells c..c+w-1 are all colours and whose cell
   c+w is EOS (or lies past the canvas edge);
3. the row below the last grid row must be EOS over columns c..c+w-1 (or lie past the edge);
4. h and w must be at most 30 (an ARC grid).
Anything else decodes to None (an invalid prediction gets no vote). Tokens outside the rectangle and
its EOS border are not looked at. So decoding accepts exactly the token patterns that `encode_grid`
writes on the rectangle and its border, and `decode_grid(encode_grid(g, C, o), C, o)` equals g.
The batched numba versions of both directions live in `arcsolve.augment.kernels`.
"""

from __future__ import annotations

import numpy as np

from arcsolve.constants import COLOR_OFFSET, EOS_TOKEN, MAX_GRID, NUM_COLORS
from arcsolve.errors import BadInputError

DEFAULT_CANVAS = MAX_GRID


def check_placement(height: int, width: int, canvas: int, offset: tuple[int, int] = (0, 0)) -> None:
    """Raise BadInputError unless an (height, width) grid at `offset` lies inside the canvas."""
    r, c = int(offset[0]), int(offset[1])
    if canvas < 1:
        raise BadInputError("encoding", f"canvas side {canvas} must be at least 1")
    if height < 1 or width < 1:
        raise BadInputError("encoding", f"grid shape ({height}, {width}) is empty")
    if r < 0 or c < 0 or r + height > canvas or c + width > canvas:
        raise BadInputError(
            "encoding",
            f"a {height}x{width} grid at offset ({r}, {c}) does not fit a {canvas}x{canvas} canvas",
        )


def encode_grid(
    grid: np.ndarray, canvas: int = DEFAULT_CANVAS, offset: tuple[int, int] = (0, 0)
) -> np.ndarray:
    """Tokens (uint8 [canvas*canvas]) of `grid` placed at `offset`, with its EOS border."""
    grid = np.asarray(grid)
    if grid.ndim != 2:
        raise BadInputError("encoding", f"grid has {grid.ndim} dimensions, expected 2")
    h, w = grid.shape
    check_placement(h, w, canvas, offset)
    if grid.size and (grid.min() < 0 or grid.max() >= NUM_COLORS):
        raise BadInputError("encoding", f"grid holds a value outside 0..{NUM_COLORS - 1}")
    r, c = int(offset[0]), int(offset[1])
    board = np.zeros((canvas, canvas), dtype=np.uint8)
    board[r : r + h, c : c + w] = grid.astype(np.uint8) + COLOR_OFFSET
    if r + h < canvas:
        board[r + h, c : c + w] = EOS_TOKEN
    if c + w < canvas:
        board[r : r + h, c + w] = EOS_TOKEN
    return board.reshape(-1)


def as_board(tokens: np.ndarray, canvas: int) -> np.ndarray:
    """`tokens` (a flat C*C sequence or a C x C board) as a C x C board; raise on a wrong size."""
    tokens = np.asarray(tokens)
    if tokens.size != canvas * canvas:
        raise BadInputError("encoding", f"{tokens.size} tokens do not fill a {canvas}x{canvas} canvas")
    return tokens.reshape(canvas, canvas)


def decode_grid(
    tokens: np.ndarray, canvas: int = DEFAULT_CANVAS, offset: tuple[int, int] = (0, 0)
) -> np.ndarray | None:
    """The grid (uint8 [h, w]) read from `tokens` at `offset` by the rule above, or None if invalid."""
    board = as_board(tokens, canvas)
    r, c = int(offset[0]), int(offset[1])
    if not (0 <= r < canvas and 0 <= c < canvas):
        raise BadInputError("encoding", f"offset ({r}, {c}) lies outside a {canvas}x{canvas} canvas")
    view = board[r:, c:].astype(np.int64)
    colour = (view >= COLOR_OFFSET) & (view < COLOR_OFFSET + NUM_COLORS)
    first = colour[0]
    w = int(np.argmin(first)) if not first.all() else first.shape[0]
    if w == 0:
        return None
    rows_ok = colour[:, :w].all(axis=1)
    if w < view.shape[1]:
        rows_ok &= view[:, w] == EOS_TOKEN
    h = int(np.argmin(rows_ok)) if not rows_ok.all() else rows_ok.shape[0]
    if h == 0:
        return None
    if h < view.shape[0] and not (view[h, :w] == EOS_TOKEN).all():
        return None
    if h > MAX_GRID or w > MAX_GRID:
        return None
    return (view[:h, :w] - COLOR_OFFSET).astype(np.uint8)
