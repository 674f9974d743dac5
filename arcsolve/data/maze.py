"""Maze generator and helpers for the sanity benchmark (NumPy in, NumPy out).

Token code (vocab 6): 0 PAD, 1 wall '#', 2 open ' ', 3 start 'S', 4 goal 'G', 5 path 'o' (labels only).
Grids are S x S, row-major, flattened to S*S tokens.

Generation (numba kernels in arcsolve.data.maze_kernels): a randomised depth-first perfect maze on a lattice
of nodes two cells apart (long winding corridors), then up to 5% of the node count of extra walls are
knocked out so the maze has some loops. S is a random open cell; G is a random cell among those whose
shortest distance from S is >= min_path and that have exactly one shortest path from S, so the label
is unambiguous. If none qualifies, S is redrawn (4 times per maze) and then a new maze carved.

Path length = the number of moves on the shortest S-G path (the BFS distance); the label marks the
path_length - 1 cells strictly between S and G with 'o'. The paper's Maze-Hard uses 30x30 and
"shortest path > 110"; generate_maze(size=30, min_path=110) gives paths of >= 110 moves.

Randomness: as for Sudoku, `seed` draws one uint32 kernel seed per maze, so the output depends only
on (seed, n, size, min_path) and never on the thread count.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from arcsolve.constants import NUM_DIHEDRAL
from arcsolve.data import maze_kernels as kernels
from arcsolve.data.sudoku import item_seeds

MAZE_PAD = 0
MAZE_WALL, MAZE_OPEN, MAZE_START, MAZE_GOAL, MAZE_PATH = (
    kernels.MAZE_WALL,
    kernels.MAZE_OPEN,
    kernels.MAZE_START,
    kernels.MAZE_GOAL,
    kernels.MAZE_PATH,
)
MAZE_VOCAB_SIZE = 6
MAZE_CHARSET = "# SGo"  # the characters of tokens 1..5
_EXTRA_OPENINGS = 0.05  # extra knocked-out walls, as a fraction of the lattice node count
_MAX_ATTEMPTS = 100_000


def generate_maze(
    n: int, size: int = 30, min_path: int = 110, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`n` mazes: (inputs uint8 [n, S*S], labels uint8 [n, S*S], path_lengths int32 [n] in moves)."""
    if size < 3:
        raise ValueError(f"size must be >= 3, got {size}")
    if min_path < 1:
        raise ValueError(f"min_path must be >= 1 move, got {min_path}")
    if min_path > size * size // 2:
        raise ValueError(
            f"min_path {min_path} is too long for a {size}x{size} maze (at most {size * size // 2})"
        )
    inputs, labels, lengths, attempts = kernels.maze_batch(
        item_seeds(n, seed), size, min_path, _EXTRA_OPENINGS, _MAX_ATTEMPTS
    )
    if n and attempts.min() < 0:
        raise RuntimeError(
            f"no {size}x{size} maze with a path of >= {min_path} moves in {_MAX_ATTEMPTS} attempts; "
            "lower --min-path"
        )
    return inputs, labels, lengths


def place_in_canvas(tokens: npt.ArrayLike, canvas: int) -> np.ndarray:
    """Mazes uint8 [n, s*s] -> [n, canvas*canvas]: each in the top-left corner, walls elsewhere.

    For the size curriculum: a small maze keeps every cell's (row, column), so a position encoding
    learned on it means the same on the target-size canvas; the fill is walls, the one token that
    can never be on a path, so the small maze's solution is the canvas's solution (labels = inputs there)."""
    tokens = np.asarray(tokens, dtype=np.uint8)
    side = int(round(np.sqrt(tokens.shape[1]))) if tokens.ndim == 2 else -1
    if side * side != (tokens.shape[1] if tokens.ndim == 2 else 0) or side > canvas:
        raise ValueError(f"mazes of shape {tokens.shape} are not [n, s*s] with s <= {canvas}")
    out = np.full((tokens.shape[0], canvas, canvas), MAZE_WALL, np.uint8)
    out[:, :side, :side] = tokens.reshape(-1, side, side)
    return out.reshape(-1, canvas * canvas)


def _as_square(grid: npt.ArrayLike, name: str) -> np.ndarray:
    """A flat S*S or 2-D S x S token grid -> uint8 [S, S]."""
    array = np.asarray(grid)
    if array.ndim == 1:
        side = int(round(np.sqrt(array.size)))
        if side * side != array.size:
            raise ValueError(f"{name} has {array.size} tokens, not a square number")
        array = array.reshape(side, side)
    if array.ndim != 2 or array.shape[0] != array.shape[1]:
        raise ValueError(f"{name} must be a square grid, flat or 2-D, got shape {np.shape(grid)}")
    if array.size and (array.min() < MAZE_WALL or array.max() > MAZE_PATH):
        raise ValueError(f"{name} must hold tokens {MAZE_WALL}..{MAZE_PATH}")
    return array.astype(np.uint8)


def maze_to_text(grid: npt.ArrayLike) -> str:
    """One maze (flat S*S or S x S tokens) as S lines of '# SGo', joined by newlines."""
    square = _as_square(grid, "grid")
    return "\n".join("".join(MAZE_CHARSET[t - 1] for t in row) for row in square.tolist())


def text_to_maze(text: str) -> np.ndarray:
    """Lines of '# SGo' (all of one length) -> uint8 tokens [rows, cols]."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    if not lines or len({len(line) for line in lines}) != 1 or not lines[0]:
        raise ValueError("maze text must be non-empty lines of equal length")
    codes = {ch: i + 1 for i, ch in enumerate(MAZE_CHARSET)}
    bad = set("".join(lines)) - set(codes)
    if bad:
        raise ValueError(f"maze text has characters outside {MAZE_CHARSET!r}: {sorted(bad)}")
    return np.array([[codes[ch] for ch in line] for line in lines], np.uint8)


def dihedral(grid: np.ndarray, which: int) -> np.ndarray:
    """One of the 8 symmetries of the last two axes, ids as in arcsolve.constants."""
    if which == 0:
        return grid
    if which in (1, 2, 3):
        return np.rot90(grid, which, axes=(-2, -1))
    if which == 4:
        return grid[..., :, ::-1]
    if which == 5:
        return grid[..., ::-1, :]
    if which == 6:
        return np.swapaxes(grid, -1, -2)
    if which == 7:
        return np.rot90(grid, 1, axes=(-2, -1))[..., :, ::-1]
    raise ValueError(f"dihedral id must be 0..{NUM_DIHEDRAL - 1}, got {which}")


def augment_maze_dihedral(inputs: npt.ArrayLike, labels: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """All 8 dihedral versions of each maze: (inputs, labels) uint8 [n, 8, S*S]; version j is dihedral
    id j (0 = the original). Shortest paths map to shortest paths, so the labels stay correct."""
    inputs, labels = np.asarray(inputs), np.asarray(labels)
    if inputs.shape != labels.shape or inputs.ndim != 2:
        raise ValueError(f"inputs {inputs.shape} and labels {labels.shape} must both be [n, S*S]")
    side = int(round(np.sqrt(inputs.shape[1])))
    if side * side != inputs.shape[1]:
        raise ValueError(f"{inputs.shape[1]} tokens per maze is not a square number")
    out = []
    for tokens in (inputs, labels):
        grids = tokens.reshape(-1, side, side).astype(np.uint8)
        versions = [dihedral(grids, j).reshape(-1, side * side) for j in range(NUM_DIHEDRAL)]
        out.append(np.stack(versions, axis=1))
    return out[0], out[1]
