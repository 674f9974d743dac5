"""Block arrangements and overlay composition: primitives against plain-Python twins, fitters on
planted layouts, the composer's refusals, and a composition the engine must find."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from search_naive_core import flip_horizontal_naive, rotate_90_naive, transpose_naive

from arcsolve.search import colours, fill, geometry, local_rule, object_paint, patterns, symmetry
from arcsolve.search.compose import MAX_LAYERS_USED, Composer, stack_layers
from arcsolve.search.engine import SearchLimits, search_task
from arcsolve.search.ops import Op, TaskView
from arcsolve.search.program import Program

NAIVE_MAPS = {
    "x": lambda g: g.copy(),
    "rotate_90": rotate_90_naive,
    "rotate_180": lambda g: rotate_90_naive(rotate_90_naive(g)),
    "rotate_270": lambda g: rotate_90_naive(rotate_90_naive(rotate_90_naive(g))),
    "flip_horizontal": flip_horizontal_naive,
    "flip_vertical": lambda g: transpose_naive(flip_horizontal_naive(transpose_naive(g))),
    "transpose": transpose_naive,
    "anti_transpose": lambda g: transpose_naive(rotate_90_naive(rotate_90_naive(g))),
}


def arrange_blocks_naive(grid, layout):
    """Cell by cell: the cell of block (r, c) is that block's image of the grid, or its colour."""
    h, w = grid.shape
    out = np.zeros((h * len(layout), w * len(layout[0])), dtype=np.uint8)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            fill = layout[i // h][j // w]
            out[i][j] = fill if isinstance(fill, int) else NAIVE_MAPS[fill](grid)[i % h][j % w]
    return out


def stack_layers_naive(grids, bg):
    """Each cell: the first layer's colour there that is not `bg`, else `bg`."""
    out = np.full(grids[0].shape, bg, dtype=np.uint8)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i][j] = next((int(g[i][j]) for g in grids if g[i][j] != bg), bg)
    return out


FILLS = st.sampled_from([*NAIVE_MAPS, 0, 5])


@st.composite
def layouts(draw, square):
    rows, cols = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    fills = st.sampled_from(["x", "flip_horizontal", "flip_vertical", "rotate_180", 0, 5])
    return tuple(tuple(draw(FILLS if square else fills) for _ in range(cols)) for _ in range(rows))


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 10), st.integers(0, 2**31), st.booleans(), st.data())
def test_arrange_blocks_matches_twin(side, seed, square, data):
    rng = np.random.default_rng(seed)
    shape = (side, side) if square else (side, int(rng.integers(1, 11)))
    grid = rng.integers(0, 10, shape, dtype=np.uint8)
    layout = data.draw(layouts(square or shape[0] == shape[1]))
    made = geometry.arrange_blocks(grid, layout)
    if shape[0] * len(layout) > 30 or shape[1] * len(layout[0]) > 30:
        assert made is None
    else:
        assert np.array_equal(made, arrange_blocks_naive(grid, layout))


def test_arrange_blocks_refuses_a_turn_of_a_non_square_grid():
    assert geometry.arrange_blocks(np.zeros((2, 3), np.uint8), (("x", "rotate_90"),)) is None


def asymmetric_grid(rng, side):
    while True:  # no dihedral image equals another: the planted layout is the only one that fits
        grid = rng.integers(1, 10, (side, side), dtype=np.uint8)
        if len({NAIVE_MAPS[name](grid).tobytes() for name in NAIVE_MAPS}) == 8:
            return grid


def test_block_arrangement_fitter_learns_a_planted_pinwheel():
    rng = np.random.default_rng(0)
    layout = (("x", "rotate_90", 0), ("rotate_270", "rotate_180", "transpose"))
    inputs = [asymmetric_grid(rng, side) for side in (3, 4, 2)]
    targets = [arrange_blocks_naive(g, layout) for g in inputs]
    test = asymmetric_grid(rng, 5)
    op = geometry.fit_block_arrangement(inputs, targets, [test])
    assert op is not None and op.name == "arrange_blocks" and dict(op.args)["layout"] == layout
    assert np.array_equal(op(test), arrange_blocks_naive(test, layout))
    broken = [t.copy() for t in targets]
    broken[1][0, -1] = (broken[1][0, -1] + 1) % 10  # one wrong cell in the blank block of one pair
    assert geometry.fit_block_arrangement(inputs, broken, [test]) is None


def test_block_arrangement_of_plain_copies_is_named_tile():
    grid = asymmetric_grid(np.random.default_rng(1), 3)
    op = geometry.fit_block_arrangement([grid], [np.tile(grid, (2, 3))], [grid])
    assert op.text("x") == "tile(x, rows=2, cols=3)"


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 4))
def test_stack_layers_matches_twin(seed, count):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 8)), int(rng.integers(1, 8)))
    grids = [rng.integers(0, 3, shape, dtype=np.uint8) for _ in range(count)]
    bg = int(rng.integers(0, 3))
    assert np.array_equal(stack_layers(grids, bg), stack_layers_naive(grids, bg))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31))
def test_a_composition_reproduces_every_train_target(seed):
    """Layers right where they draw (pieces of the targets) and layers with a wrong cell: whatever
    the composer stacks reproduces every train target, and no wrong layer is ever kept."""
    rng = np.random.default_rng(seed)
    targets = [
        rng.choice([0, 0, 0, 1, 2, 3], (int(rng.integers(2, 7)), 5)).astype(np.uint8) for _ in range(3)
    ]
    composer = Composer(targets)
    offered = {}
    for index in range(8):
        keep = [rng.random(t.shape) < 0.5 for t in targets]
        layer = [np.where(k, t, composer.bg).astype(np.uint8) for k, t in zip(keep, targets, strict=True)]
        wrong = bool(rng.random() < 0.3)
        if wrong:
            layer[0][0, 0] = 9  # drawn (targets use 0..3), and wrong
        before = len(composer.layers)
        offered[f"layer{index}"] = layer
        composer.offer(Program((Op(f"layer{index}", "test", lambda g: g),)), layer, [])
        assert not (wrong and len(composer.layers) > before)
    chosen = composer.cover()
    if chosen is not None:
        assert 2 <= len(chosen) <= MAX_LAYERS_USED
        names = [composer.layers[i].program.steps[0].name for i in chosen]
        for pair, target in enumerate(targets):
            stacked = stack_layers([offered[name][pair] for name in names], composer.bg)
            assert np.array_equal(stacked, target)


def ring_around(colour):
    """Every background cell next to (8-neighbours with) a `colour` cell painted `colour`."""

    def fn(grid):
        padded = np.pad(grid == colour, 1)
        h, w = grid.shape
        near = np.zeros((h, w), bool)
        for dr in (0, 1, 2):
            for dc in (0, 1, 2):
                near |= padded[dr : dr + h, dc : dc + w]
        return np.where(near & (grid == 0), colour, grid).astype(np.uint8)

    return fn


def marked_grid(rng):
    """A 1 cell and a 2 cell far enough apart that their rings never meet."""
    grid = np.zeros((int(rng.integers(7, 10)), int(rng.integers(7, 10))), np.uint8)
    while True:
        a, b = (divmod(int(i), grid.shape[1]) for i in rng.choice(grid.size, 2, replace=False))
        if max(abs(a[0] - b[0]), abs(a[1] - b[1])) > 2:
            grid[a], grid[b] = 1, 2
            return grid


def test_search_composes_two_depth_one_programs():
    """Output: a ring of 1 around the 1 cell and a ring of 2 around the 2 cell. At depth 1 no single
    op makes it; the overlay of the two ops' outputs does, and its program runs to the same answers."""
    rng = np.random.default_rng(7)
    inputs = [marked_grid(rng) for _ in range(4)]
    expected = [ring_around(2)(ring_around(1)(g)) for g in inputs]
    view = TaskView("compose", tuple(inputs[:3]), tuple(expected[:3]), (inputs[3],))
    ops = [Op("ring_of_1", "test", ring_around(1)), Op("ring_of_2", "test", ring_around(2))]
    outcome = search_task(view, ops, [], SearchLimits(depth=1, seconds=60))
    assert outcome.solutions, "the composition was not found"
    best = outcome.solutions[0]
    assert best.program.text().startswith("overlay(x, layers=(") and best.program.depth == 2
    assert "compose" in best.program.families and "test" in best.program.families
    assert np.array_equal(best.test_outputs[0], expected[3])
    for grid, target in zip(inputs, expected, strict=True):
        assert np.array_equal(best.program.run(grid), target)


def test_composer_refuses_what_one_layer_covers_or_too_many_would():
    target = np.array([[1, 0, 2, 0, 3, 0, 4, 0, 5]], np.uint8)
    one = Composer([target])
    one.offer(Program(), [target.copy()], [])
    one.offer(Program(), [np.where(target == 1, 1, 0).astype(np.uint8)], [])
    assert one.cover() is None  # the first layer alone covers it: that is a plain match, not a stack
    many = Composer([target])
    for colour in range(1, 6):
        many.offer(Program(), [np.where(target == colour, colour, 0).astype(np.uint8)], [])
    assert len(many.layers) == 5 and many.cover() is None  # five layers needed, four allowed


def smallest_period_naive(rows):
    n = len(rows)
    return next(p for p in range(1, n + 1) if all(rows[i] == rows[i - p] for i in range(p, n)))


def extend_pattern_naive(grid, rows, cols):
    as_rows = [list(r) for r in grid.tolist()]
    as_cols = [list(c) for c in grid.T.tolist()]
    pr, pc = smallest_period_naive(as_rows), smallest_period_naive(as_cols)
    return np.array([[grid[i % pr][j % pc] for j in range(cols)] for i in range(rows)], np.uint8)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**31))
def test_extend_pattern_matches_twin(seed):
    rng = np.random.default_rng(seed)
    cell = rng.integers(0, 3, (int(rng.integers(1, 4)), int(rng.integers(1, 4))), dtype=np.uint8)
    grid = np.tile(cell, (3, 3))[: int(rng.integers(1, 8)), : int(rng.integers(1, 8))].copy()
    rows, cols = int(rng.integers(grid.shape[0], 31)), int(rng.integers(grid.shape[1], 31))
    assert np.array_equal(patterns.extend_pattern(grid, rows, cols), extend_pattern_naive(grid, rows, cols))
    assert patterns.extend_pattern(grid, 31, cols) is None


def test_extend_pattern_fitter_continues_a_planted_stripe():
    rng = np.random.default_rng(2)
    inputs = []
    for _ in range(4):
        period = rng.integers(1, 10, (1, int(rng.integers(2, 4))), dtype=np.uint8)
        inputs.append(np.tile(period, (3, 3)))
    targets = [extend_pattern_naive(g, g.shape[0], 2 * g.shape[1]) for g in inputs]
    op = patterns.fit_extend_pattern(inputs[:3], targets[:3], inputs[3:])
    assert op is not None and dict(op.args) == {"scale": (1, 2)}
    assert np.array_equal(op(inputs[3]), targets[3])
    targets[1][0, -1] = (targets[1][0, -1] + 1) % 10
    assert patterns.fit_extend_pattern(inputs[:3], targets[:3], inputs[3:]) is None


def test_output_by_class_needs_a_repeated_class_and_a_known_test_class():
    def blob(colour, side=5):
        grid = np.zeros((side, side), np.uint8)
        grid[1:3, 1:3] = colour
        return grid

    yes, no = np.ones((1, 1), np.uint8), np.zeros((1, 1), np.uint8)
    inputs = [blob(1), blob(2), blob(1, 6), blob(3)]
    targets = [yes, no, yes, no]
    op = patterns.fit_output_by_class(inputs, targets, [blob(2, 4)])
    assert op is not None and dict(op.args)["by"] == "drawn_colours"
    assert np.array_equal(op(blob(2, 4)), no) and np.array_equal(op(blob(1, 7)), yes)
    assert patterns.fit_output_by_class(inputs, targets, [blob(4)]) is None  # class never seen
    assert patterns.fit_output_by_class(inputs[:2], targets[:2], [blob(1)]) is None  # nothing repeats
    assert patterns.fit_output_by_class(inputs, [yes, no, no, no], [blob(2)]) is None  # inconsistent


def tile_self_similar_naive(grid, where, blank=None):
    h, w = grid.shape
    flat = grid.ravel().tolist()
    bg = max(sorted(set(flat)), key=flat.count) if blank is None else blank
    out = np.full((h * h, w * w), bg, np.uint8)
    for i in range(h * h):
        for j in range(w * w):
            cell = int(grid[i // h][j // w])
            commonest = max(sorted(set(flat)), key=flat.count)
            shown = {"drawn": cell != bg, "background": cell == bg, "commonest": cell == commonest}.get(
                where, cell == where
            )
            if shown:
                out[i][j] = grid[i % h][j % w]
    return out


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**31),
    st.sampled_from(["drawn", "background", "commonest", 1, 2]),
    st.sampled_from([None, 0, 2]),
)
def test_tile_self_similar_matches_twin(seed, where, blank):
    rng = np.random.default_rng(seed)
    grid = rng.integers(0, 3, (int(rng.integers(1, 6)), int(rng.integers(1, 6))), dtype=np.uint8)
    made = geometry.tile_self_similar(grid, where, blank)
    assert np.array_equal(made, tile_self_similar_naive(grid, where, blank))


def test_self_similar_fitter_reads_the_shapes_of_any_state():
    """Grids whose commonest colour is not the blank one (0): the fitter finds the blank colour from
    the targets; shapes that are not squares of the candidates' get no fit."""
    rng = np.random.default_rng(3)
    grids = [np.where(rng.random((3, 3)) < 0.7, c, 0).astype(np.uint8) for c in (4, 7, 2, 6)]
    targets = [tile_self_similar_naive(g, "drawn", blank=0) for g in grids]
    op = geometry.fit_self_similar(grids[:3], targets[:3], grids[3:])
    assert op is not None and dict(op.args) == {"where": "drawn", "blank": 0}
    assert np.array_equal(op(grids[3]), targets[3])
    assert geometry.fit_self_similar(grids[:3], [t[:-1] for t in targets[:3]], grids[3:]) is None


def test_rescale_fitter_takes_the_factor_from_the_state():
    rng = np.random.default_rng(4)
    grids = [
        rng.integers(0, 4, (int(rng.integers(1, 5)), int(rng.integers(1, 5))), dtype=np.uint8)
        for _ in range(4)
    ]
    big = [np.kron(g, np.ones((2, 3), np.uint8)) for g in grids]
    up = geometry.fit_rescale(grids[:3], big[:3], grids[3:])
    assert up is not None and (up.name, dict(up.args)) == ("upscale", {"rows": 2, "cols": 3})
    down = geometry.fit_rescale(big[:3], grids[:3], big[3:])
    assert down is not None and down.name == "downscale" and np.array_equal(down(big[3]), grids[3])
    mixed = [big[0], np.kron(grids[1], np.ones((3, 3), np.uint8)), big[2]]
    assert geometry.fit_rescale(grids[:3], mixed, grids[3:]) is None  # no one factor, not by colours
    drawn = [np.array([[1, 0], [0, 0]]), np.array([[1, 2], [0, 0]]), np.array([[1, 2], [3, 0]])]
    by_count = [np.kron(g, np.ones((k, k), np.uint8)) for k, g in enumerate(drawn, start=1)]
    op = geometry.fit_rescale([g.astype(np.uint8) for g in drawn], by_count, drawn[:1])
    assert op is not None and op.name == "upscale_by_colour_count"


def fill_uniform_lines_naive(grid, colour):
    h, w = grid.shape
    rows = [all(grid[i][j] == grid[i][0] for j in range(w)) for i in range(h)]
    cols = [all(grid[i][j] == grid[0][j] for i in range(h)) for j in range(w)]
    return np.array(
        [[colour if rows[i] or cols[j] else grid[i][j] for j in range(w)] for i in range(h)], np.uint8
    )


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**31))
def test_fill_uniform_lines_matches_twin(seed):
    rng = np.random.default_rng(seed)
    grid = rng.choice([0, 0, 0, 3], (int(rng.integers(1, 8)), int(rng.integers(1, 8)))).astype(np.uint8)
    made, expected = fill.fill_uniform_lines(grid, 5), fill_uniform_lines_naive(grid, 5)
    if (expected == 5).all() or not (expected == 5).any():
        assert made is None
    else:
        assert np.array_equal(made, expected)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31), st.booleans())
def test_diagonal_stripes_restore_planted_hidden_cells(seed, anti):
    rng = np.random.default_rng(seed)
    period = int(rng.integers(2, 5))
    colours = rng.permutation(np.arange(1, 10))[:period]
    h, w = int(rng.integers(5, 12)), int(rng.integers(5, 12))
    whole = np.array(
        [[colours[((i - j) if anti else (i + j)) % period] for j in range(w)] for i in range(h)], np.uint8
    )
    hidden = whole.copy()
    hide = rng.random((h, w)) < 0.3
    hide[0, :] = hide[:, 0] = False  # the first row and column show every stripe, and no shorter period
    hide[-1, -1] = True
    hidden[hide] = 0
    assert np.array_equal(symmetry.complete_diagonal_stripes(hidden, 0, anti), whole)


def test_copy_template_onto_shapes_paints_every_copy_of_its_shape():
    grid = np.zeros((9, 9), np.uint8)
    grid[0:2, 0:3] = [[1, 2, 1], [3, 3, 0]]  # the template: several colours
    grid[4:6, 4:7] = [[5, 5, 5], [5, 5, 0]]  # its shape in one colour
    grid[7:9, 0:2] = 5  # another shape: left alone
    out = object_paint.copy_template_onto_shapes(grid, diagonal=False, keep_template=False)
    assert np.array_equal(out[4:6, 4:7], [[1, 2, 1], [3, 3, 0]])
    assert not out[0:2, 0:3].any() and (out[7:9, 0:2] == 5).all()
    kept = object_paint.copy_template_onto_shapes(grid, diagonal=False, keep_template=True)
    assert np.array_equal(kept[0:2, 0:3], grid[0:2, 0:3])
    grid[7, 7] = 4
    grid[7, 8] = 6  # a second template: ambiguous
    assert object_paint.copy_template_onto_shapes(grid, diagonal=False, keep_template=True) is None


def test_role_colour_map_swaps_each_grids_own_colour():
    """Each grid: 5 (every grid has it) and one colour of its own. The output paints the 5 cells in
    the grid's own colour and its own colour's cells 0: no plain colour map can say that."""
    rng = np.random.default_rng(3)

    def pair(own):
        grid = np.where(rng.random((5, 6)) < 0.5, 5, own).astype(np.uint8)
        return grid, np.where(grid == 5, own, 0).astype(np.uint8)

    train = [pair(own) for own in (2, 3, 4)]
    test_in, test_out = pair(8)
    candidates, targets = [i for i, _ in train], [o for _, o in train]
    assert colours.fit_colour_map(candidates, targets, [test_in]) is None
    op = colours.fit_role_colour_map(candidates, targets, [test_in])
    assert op.text("x") == "recolor_by_role(x, fixed=(5), map={own: 0, 5: own})"
    assert np.array_equal(op(test_in), test_out)
    two_own = test_in.copy()
    two_own[0, 0] = 7
    assert colours.fit_role_colour_map(candidates, targets, [two_own]) is None


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31), st.sampled_from(["top_left", "bottom_right"]))
def test_position_rule_learns_a_planted_checkerboard(seed, corner):
    """Background cells whose row + column (counted from `corner`) is odd become 4: no neighbourhood
    rule says which, the cell's position modulo 2 does."""
    rng = np.random.default_rng(seed)

    def pair(h, w):
        grid = np.where(rng.random((h, w)) < 0.2, 7, 0).astype(np.uint8)
        out = grid.copy()
        for i in range(h):
            for j in range(w):
                r, c = (i, j) if corner == "top_left" else (h - 1 - i, w - 1 - j)
                if grid[i][j] == 0 and (r + c) % 2:
                    out[i][j] = 4
        return grid, out

    # Sizes of both parities of h + w (else counting from either corner fits) and enough cells that
    # every (colour, row parity, column parity) class shows up.
    train = [pair(8, 9), pair(8, 8), pair(9, 9), pair(7, 10)]
    test_in, test_out = pair(9, 10)
    op = local_rule.fit_position_rule([i for i, _ in train], [o for _, o in train], [test_in])
    assert op is not None and dict(op.args)["axes"] == "both" and dict(op.args)["modulus"] == 2
    assert np.array_equal(op(test_in), test_out)


def test_paint_grid_border_paints_the_ring_only():
    grid = np.arange(20, dtype=np.uint8).reshape(4, 5) % 10
    out = fill.paint_grid_border(grid, 9)
    ring = np.ones((4, 5), bool)
    ring[1:-1, 1:-1] = False
    assert (out[ring] == 9).all() and np.array_equal(out[~ring], grid[~ring])
    assert (fill.paint_grid_border(np.zeros((1, 1), np.uint8), 3) == 3).all()


def test_shallow_only_fitters_see_states_of_depth_at_most_one():
    """A costly fitter flagged `shallow_only` is asked about the input and depth-1 states only; an
    unflagged one about every state the search fits."""
    seen = {"shallow": set(), "every": set()}

    def recorder(name, shallow):
        def fit(candidates, targets, tests):
            seen[name].add(int(candidates[0][0, 0]))  # the op chain below writes its depth there
            return None

        if shallow:
            fit.shallow_only = True
        return fit

    def deeper(grid):
        out = grid.copy()
        out[0, 0] = grid[0, 0] + 1
        return out

    grid = np.zeros((3, 3), np.uint8)
    view = TaskView("depths", (grid,), (np.full((3, 3), 9, np.uint8),), (grid,))
    fitters = [recorder("shallow", True), recorder("every", False)]
    search_task(view, [Op("deeper", "test", deeper)], fitters, SearchLimits(depth=3, seconds=60))
    assert seen == {"shallow": {0, 1}, "every": {0, 1, 2, 3}}
