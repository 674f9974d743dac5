"""Token encoding of one grid on a C x C canvas, and the rule for a valid decoded grid."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from naive import decode_naive, encode_naive

from arcsolve.augment import check_placement, decode_grid, encode_grid
from arcsolve.constants import EOS_TOKEN, PAD_TOKEN
from arcsolve.errors import BadInputError

FEW = settings(max_examples=60, deadline=None)


@st.composite
def placed_grids(draw):
    """(grid, canvas, offset) with the grid fitting the canvas at the offset."""
    canvas = draw(st.sampled_from([1, 2, 5, 12, 30, 31]))
    h = draw(st.integers(1, min(canvas, 30)))
    w = draw(st.integers(1, min(canvas, 30)))
    offset = (draw(st.integers(0, canvas - h)), draw(st.integers(0, canvas - w)))
    grid = np.random.default_rng(draw(st.integers(0, 2**32 - 1))).integers(0, 10, (h, w)).astype(np.uint8)
    return grid, canvas, offset


@FEW
@given(placed_grids())
def test_encode_matches_the_naive_definition(case):
    grid, canvas, offset = case
    tokens = encode_grid(grid, canvas, offset)
    assert tokens.dtype == np.uint8 and tokens.shape == (canvas * canvas,)
    assert np.array_equal(tokens, encode_naive(grid, canvas, offset))


@FEW
@given(placed_grids())
def test_decode_inverts_encode(case):
    grid, canvas, offset = case
    assert np.array_equal(decode_grid(encode_grid(grid, canvas, offset), canvas, offset), grid)


@pytest.mark.parametrize("shape", [(1, 1), (1, 30), (30, 1), (30, 30), (29, 29)])
def test_edge_shapes_round_trip_on_the_paper_canvas(shape):
    grid = np.random.default_rng(0).integers(0, 10, shape).astype(np.uint8)
    tokens = encode_grid(grid, 30)
    assert np.array_equal(decode_grid(tokens, 30), grid)
    board = tokens.reshape(30, 30)
    h, w = shape
    assert (board[h, :w] == EOS_TOKEN).all() if h < 30 else True
    assert (board[:h, w] == EOS_TOKEN).all() if w < 30 else True
    if h < 30 and w < 30:
        assert board[h, w] == PAD_TOKEN  # the corner is not marked


@st.composite
def noisy_boards(draw):
    """Encoded grids with a few cells overwritten, and pure noise: mostly invalid, sometimes not."""
    grid, canvas, offset = draw(placed_grids())
    tokens = encode_grid(grid, canvas, offset)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.booleans()):
        cells = rng.integers(0, tokens.size, size=draw(st.integers(1, 4)))
        tokens[cells] = rng.integers(0, 12, size=cells.size)
    else:
        tokens = rng.choice(
            np.array([0, 1, 2, 5, 11], np.uint8), size=tokens.size, p=[0.1, 0.1, 0.4, 0.3, 0.1]
        )
    return tokens, canvas, offset


@settings(max_examples=150, deadline=None)
@given(noisy_boards())
def test_decode_matches_the_naive_rule_and_is_sound(case):
    tokens, canvas, offset = case
    got, want = decode_grid(tokens, canvas, offset), decode_naive(tokens, canvas, offset)
    assert (got is None) == (want is None)
    if got is None:
        return
    assert np.array_equal(got, want)
    # Soundness: the rectangle and its EOS border are exactly what encode_grid would write.
    h, w = got.shape
    r, c = offset
    again = encode_grid(got, canvas, offset).reshape(canvas, canvas)
    board = tokens.reshape(canvas, canvas)
    rows, cols = slice(r, min(r + h + 1, canvas)), slice(c, min(c + w + 1, canvas))
    region_again, region = again[rows, cols].copy(), board[rows, cols].copy()
    if r + h < canvas and c + w < canvas:
        region_again[-1, -1] = region[-1, -1] = 0  # the corner is not part of the pattern
    assert np.array_equal(region_again, region)


def _board(rows: list[str], canvas: int) -> np.ndarray:
    """Tokens from strings: '.' PAD, '|' EOS, digits colours; missing cells PAD."""
    board = np.zeros((canvas, canvas), np.uint8)
    for r, row in enumerate(rows):
        for c, ch in enumerate(row):
            board[r, c] = 0 if ch == "." else 1 if ch == "|" else 2 + int(ch)
    return board.reshape(-1)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (["12|", "34|", "||."], [[1, 2], [3, 4]]),
        (["12|9", "34|9", "||.9", "9999"], [[1, 2], [3, 4]]),  # cells outside are ignored
        (["12|", "34|", "||1"], [[1, 2], [3, 4]]),  # whatever sits in the corner
        (["12|", "34.", "||."], None),  # a row without its EOS
        (["12|", "345", "||."], None),  # a longer row
        (["12|", "3|.", "||."], None),  # a shorter row
        (["12|", "34|", "|.."], None),  # a gap in the EOS row
        (["12|", "34|", "56."], None),  # colours below where EOS belongs
        (["12.", "34|", "||."], None),  # PAD where the first row's EOS belongs
        (["|12"], None),  # nothing at the top-left
        ([], None),  # all PAD
        (["1234", "5678", "||||"], [[1, 2, 3, 4], [5, 6, 7, 8]]),  # width bounded by the canvas edge
        (["12|", "34|", "56|", "78|"], [[1, 2], [3, 4], [5, 6], [7, 8]]),  # height bounded by the edge
        (["1234"] * 4, [[1, 2, 3, 4]] * 4),  # the whole canvas, no EOS at all
    ],
)
def test_decode_rule_examples(rows, expected):
    got = decode_grid(_board(rows, 4), 4)
    if expected is None:
        assert got is None
    else:
        assert np.array_equal(got, np.array(expected, np.uint8))


def test_decode_at_an_offset():
    board = _board(["....", ".12|", ".34|", ".||."], 4)
    assert np.array_equal(decode_grid(board, 4, (1, 1)), [[1, 2], [3, 4]])
    assert decode_grid(board, 4) is None


def test_decoded_grids_larger_than_arc_allows_are_invalid():
    assert decode_grid(encode_grid(np.zeros((30, 30), np.uint8), 31), 31) is not None
    assert decode_grid(np.full(31 * 31, 2, np.uint8), 31) is None  # 31 x 31 colours


def test_encode_rejects_grids_that_do_not_fit():
    grid = np.zeros((3, 3), np.uint8)
    for canvas, offset in [(2, (0, 0)), (5, (3, 0)), (5, (0, 3)), (5, (-1, 0))]:
        with pytest.raises(BadInputError, match="does not fit"):
            encode_grid(grid, canvas, offset)
    with pytest.raises(BadInputError):
        encode_grid(np.array([[10]]), 5)
    with pytest.raises(BadInputError):
        check_placement(0, 3, 5)
    with pytest.raises(BadInputError):
        decode_grid(np.zeros(24, np.uint8), 5)
