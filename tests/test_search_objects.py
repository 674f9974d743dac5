"""The object, gravity and denoise families against their plain-Python twins (search_naive_objects),
on random grids including the edge shapes; planted tasks that `ops(view)` and the fitters must
recover; and the contract every op keeps (no mutation, a valid grid or None)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arcsolve.search import denoise, gravity, object_kernels, objects
from arcsolve.search.grid import is_valid_grid
from arcsolve.search.object_fitters import (
    drop_small_objects,
    fit_drop_small_objects,
    fit_recolour_objects_by,
    recolour_objects_by,
)
from arcsolve.search.object_paint import fill_enclosed, paint_inner_cells, surround_cells
from arcsolve.search.object_select import READINGS, RULES, Reading, find_objects
from arcsolve.search.ops import TaskView
from tests import search_naive_objects as naive

EDGE_SHAPES = [(1, 1), (1, 30), (30, 1), (30, 30)]
FEW = settings(max_examples=25, deadline=None)


def random_grid(rng: np.random.Generator, h: int, w: int, max_colours: int = 4) -> np.ndarray:
    """A grid of a few colours with random weights, so that objects of many sizes appear."""
    palette = rng.choice(10, size=int(rng.integers(1, max_colours + 1)), replace=False)
    weights = rng.dirichlet(np.ones(len(palette)))
    return np.ascontiguousarray(rng.choice(palette, size=(h, w), p=weights).astype(np.uint8))


@st.composite
def grids(draw, max_side: int = 12):
    h, w = draw(
        st.one_of(st.sampled_from(EDGE_SHAPES), st.tuples(st.integers(1, max_side), st.integers(1, max_side)))
    )
    return random_grid(np.random.default_rng(draw(st.integers(0, 2**32 - 1))), h, w)


readings = st.sampled_from(READINGS)


@FEW
@given(grids(), readings)
def test_labelling_and_stats_match_the_bfs_twin(grid, reading):
    background = naive.background_naive(grid, reading)
    labels, count = object_kernels.label_components(grid, background, reading.diagonal, reading.multicolour)
    expected_labels, expected_count = naive.label_naive(
        grid, background, reading.diagonal, reading.multicolour
    )
    assert count == expected_count
    np.testing.assert_array_equal(labels, expected_labels)
    stats = object_kernels.component_stats(grid, labels, count)
    np.testing.assert_array_equal(stats, naive.stats_naive(grid, reading))
    found = find_objects(grid, reading)
    assert found.background == background
    np.testing.assert_array_equal(found.labels, expected_labels)


@FEW
@given(grids(), readings)
def test_every_rule_picks_what_the_twin_picks(grid, reading):
    found = find_objects(grid, reading)
    objs = naive.objects_naive(grid, reading)
    for name, rule in RULES.items():
        assert rule(found) == naive.select_naive(objs, name), name


ACTIONS = {
    "crop": objects.crop_object,
    "crop_alone": objects.crop_object_alone,
    "crop_inside": objects.crop_inside_object,
    "keep": objects.keep_object,
    "erase": objects.erase_object,
}


@FEW
@given(grids(), readings, st.sampled_from(sorted(RULES)), st.integers(0, 9))
def test_object_actions_match_the_twin(grid, reading, select, colour):
    for action, fn in ACTIONS.items():
        got = fn(grid, reading, select)
        expected = naive.object_action_naive(grid, reading, select, action)
        assert (got is None) == (expected is None)
        if got is not None:
            np.testing.assert_array_equal(got, expected)
    picked = naive.select_naive(naive.objects_naive(grid, reading), select)
    one_colour = picked is not None and len(naive.objects_naive(grid, reading)[picked]["colours"]) == 1
    got = objects.object_colour(grid, reading, select, 2, 3)
    assert (got is None) == (not one_colour)
    if got is not None:
        assert (
            got.shape == (2, 3)
            and {int(v) for v in got.ravel()} == naive.objects_naive(grid, reading)[picked]["colours"]
        )
    got = objects.recolour_object(grid, reading, select, colour)
    expected = naive.object_action_naive(grid, reading, select, "recolour", colour)
    assert (got is None and expected is None) or np.array_equal(got, expected)


@FEW
@given(grids(), readings, st.integers(1, 6), st.sampled_from(["size", "hole"]))
def test_whole_grid_object_ops_match_the_twin(grid, reading, min_size, key):
    def same(got, expected):
        return (got is None and expected is None) or np.array_equal(got, expected)

    assert same(
        objects.recolour_by_size_rank(grid, reading),
        naive.paint_naive(grid, reading, naive.size_rank_naive),
    )
    assert same(
        objects.recolour_by_size(grid, reading),
        naive.paint_naive(grid, reading, lambda o, _: len(o["cells"])),
    )
    np.testing.assert_array_equal(
        drop_small_objects(grid, reading, min_size), naive.drop_small_naive(grid, reading, min_size)
    )
    table = {1: 4, 2: 5}
    expected = grid.copy()
    for obj in naive.objects_naive(grid, reading):
        for r, c in obj["cells"]:
            expected[r, c] = (
                table.get(len(obj["cells"]), 6) if key == "size" else table.get(int(naive.has_hole(obj)), 6)
            )
    got = recolour_objects_by(grid, reading, key, table, 6)
    np.testing.assert_array_equal(got, expected)
    n = len(naive.objects_naive(grid, reading))
    row = objects.count_objects(grid, reading, "row")
    assert (row is None) == (n == 0 or n > 30) and (row is None or (row.shape == (1, n) and row.all()))
    fixed = objects.count_objects(grid, reading, "3x3")
    assert (fixed is None) == (n == 0 or n > 9)
    if fixed is not None:
        assert fixed.ravel().tolist() == [1] * n + [0] * (9 - n)


@FEW
@given(grids(), st.integers(0, 9), st.booleans(), st.booleans())
def test_painting_around_objects_matches_the_twin(grid, colour, diagonal, zero):
    def same(got, expected):
        return (got is None and expected is None) or np.array_equal(got, expected)

    reading = Reading(diagonal, False, zero)
    assert same(fill_enclosed(grid, colour, zero), naive.fill_enclosed_naive(grid, colour, reading))
    assert same(paint_inner_cells(grid, colour, diagonal, zero), naive.inner_naive(grid, colour, reading))
    assert same(surround_cells(grid, colour, diagonal, zero), naive.surround_naive(grid, colour, reading))


@FEW
@given(grids(), readings, st.sampled_from(objects.ORDERS), st.sampled_from(["row", "column"]))
def test_list_object_colours_matches_the_twin(grid, reading, order, layout):
    objs = naive.objects_naive(grid, reading)
    keys = [{"size": -len(o["cells"]), "left": o["box"][1], "top": o["box"][0]}[order] for o in objs]
    got = objects.list_object_colours(grid, reading, order, layout)
    if not objs or len(objs) > 30 or len(set(keys)) < len(keys) or any(len(o["colours"]) > 1 for o in objs):
        assert got is None
        return
    colours = [min(objs[k]["colours"]) for _, k in sorted(zip(keys, range(len(objs)), strict=True))]
    assert got.shape == ((1, len(objs)) if layout == "row" else (len(objs), 1))
    assert got.ravel().tolist() == colours


@FEW
@given(grids(), st.integers(-3, 3), st.integers(-3, 3))
def test_shift_content_matches_the_twin(grid, rows, cols):
    background = naive.commonest(grid)
    h, w = grid.shape
    cells = [(r, c) for r in range(h) for c in range(w) if grid[r, c] != background]
    got = gravity.shift_content(grid, rows, cols)
    if not cells or any(not (0 <= r + rows < h and 0 <= c + cols < w) for r, c in cells):
        assert got is None
        return
    expected = np.full(grid.shape, background, np.uint8)
    for r, c in cells:
        expected[r + rows, c + cols] = grid[r, c]
    np.testing.assert_array_equal(got, expected)


def turn(grid, side):
    """The grid seen with `side` at the bottom, written independently of gravity's own helper."""
    return {"down": grid, "up": np.flipud(grid), "right": np.rot90(np.fliplr(grid)), "left": np.rot90(grid)}[
        side
    ]


def unturn(grid, side):
    return {
        "down": grid,
        "up": np.flipud(grid),
        "right": np.fliplr(np.rot90(grid, -1)),
        "left": np.rot90(grid, -1),
    }[side]


@FEW
@given(grids(), st.sampled_from(gravity.SIDES), st.booleans(), st.booleans())
def test_gravity_matches_the_twin(grid, side, diagonal, multicolour):
    np.testing.assert_array_equal(gravity.fall(grid, side), naive.fall_naive(grid, side))
    turned = np.ascontiguousarray(turn(grid, side))
    expected = unturn(naive.drop_down_naive(turned, diagonal, multicolour), side)
    np.testing.assert_array_equal(gravity.drop_objects(grid, side, diagonal, multicolour), expected)


@FEW
@given(grids(), st.lists(st.integers(0, 9), min_size=1, max_size=2, unique=True))
def test_slide_to_anchor_and_gaps_match_the_twin(grid, anchors):
    anchor = anchors[0]
    np.testing.assert_array_equal(gravity.gaps_to_mask(grid == anchor), naive.gaps_naive(grid == anchor))
    got, expected = gravity.slide_to_anchor(grid, tuple(anchors)), naive.slide_to_anchor_naive(grid, anchors)
    assert (got is None and expected is None) or np.array_equal(got, expected)


@FEW
@given(grids(), st.booleans())
def test_denoise_matches_the_twin(grid, diagonal):
    np.testing.assert_array_equal(
        denoise.remove_specks(grid, diagonal), naive.specks_naive(grid, diagonal, False)
    )
    np.testing.assert_array_equal(
        denoise.fill_specks(grid, diagonal), naive.specks_naive(grid, diagonal, True)
    )
    np.testing.assert_array_equal(denoise.keep_blocks(grid), naive.keep_blocks_naive(grid))
    settled = grid.copy()
    for obj in naive.objects_naive(grid, naive.commonest_reading(False, True)):
        colours = [int(grid[r, c]) for r, c in obj["cells"]]
        for r, c in obj["cells"]:
            settled[r, c] = min(set(colours), key=lambda v: (-colours.count(v), v))
    np.testing.assert_array_equal(denoise.settle_objects(grid), settled)


@FEW
@given(grids(), st.integers(1, 3), st.integers(1, 3))
def test_majority_downscale_matches_the_twin(grid, rows, cols):
    got = denoise.downscale_majority(grid, rows, cols)
    h, w = grid.shape
    if h % rows or w % cols:
        assert got is None
        return
    for r in range(h // rows):
        for c in range(w // cols):
            block = grid[r * rows : (r + 1) * rows, c * cols : (c + 1) * cols].ravel().tolist()
            assert got[r, c] == min(set(block), key=lambda v: (-block.count(v), v))


@FEW
@given(
    st.integers(0, 2**32 - 1),
    st.integers(1, 4),
    st.integers(1, 4),
    st.sampled_from([(1, 1), (1, 30), (30, 1), (6, 9), (12, 12)]),
)
def test_restore_pattern_matches_the_twin(seed, rows, cols, shape):
    rng = np.random.default_rng(seed)
    tile = random_grid(rng, rows, cols, max_colours=3) + 1
    grid = np.tile(tile, (shape[0] // rows + 1, shape[1] // cols + 1))[: shape[0], : shape[1]].copy()
    grid[rng.random(shape) < 0.2] = 0
    got = denoise.restore_pattern(grid, 0)
    expected = naive.restore_pattern_naive(grid, 0) if (grid == 0).any() else None
    assert (got is None and expected is None) or np.array_equal(got, expected)


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([(1, 1), (1, 30), (30, 1), (7, 7), (6, 9), (30, 30)]))
def test_restore_symmetry_and_patch_match_the_twin(seed, shape):
    rng = np.random.default_rng(seed)
    grid = random_grid(rng, *shape) + 1
    grid = np.maximum(grid, grid[:, ::-1]) if rng.random() < 0.5 else np.maximum(grid, grid[::-1])
    if shape[0] == shape[1] and rng.random() < 0.5:
        grid = np.maximum(grid, grid.T)
    grid[rng.random(shape) < 0.1] = 0
    got, expected = denoise.restore_symmetry(grid, 0), naive.restore_symmetry_naive(grid, 0)
    assert (got is None and expected is None) or np.array_equal(got, expected)
    patch = denoise.restored_patch(grid, 0, True)
    if expected is None:
        assert patch is None
    else:
        rows, cols = np.nonzero(grid == 0)
        np.testing.assert_array_equal(
            patch, expected[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
        )


def planted_view(step, make_grid, seed: int = 0, pairs: int = 3) -> TaskView:
    """A task whose train outputs are `step` applied to random inputs it changes (and applies to)."""
    rng = np.random.default_rng(seed)
    inputs, outputs = [], []
    for _ in range(1000):
        grid = make_grid(rng)
        out = step(grid)
        if out is not None and (out.shape != grid.shape or not np.array_equal(out, grid)):
            inputs.append(grid)
            outputs.append(out)
        if len(inputs) == pairs + 1:
            break
    assert len(inputs) == pairs + 1, "the planted step never applied"
    return TaskView("planted", tuple(inputs[:pairs]), tuple(outputs[:pairs]), (inputs[pairs],))


def sparse(rng, h=8, w=8):
    """Mostly background 0 with a few colours, so that objects are small and separate."""
    grid = random_grid(rng, h, w, max_colours=3)
    grid[rng.random((h, w)) < 0.6] = 0
    return grid


def periodic(rng):
    tile = random_grid(rng, int(rng.integers(2, 4)), int(rng.integers(2, 4)), max_colours=3) + 1
    grid = np.tile(tile, (5, 5))[:10, :10].copy()
    grid[rng.random((10, 10)) < 0.1] = 0
    return grid


def dense(rng):
    """Mostly colour 3 with some 0s: the commonest colour is not 0, so zero-background readings differ."""
    grid = np.where(rng.random((8, 8)) < 0.3, 0, 3).astype(np.uint8)
    grid[rng.random((8, 8)) < 0.1] = 5
    return grid


FOUR, EIGHT = Reading(False, False, False), Reading(True, False, False)


def mirrored(rng):
    grid = random_grid(rng, 9, 6, max_colours=3) + 1
    grid = np.maximum(grid, grid[:, ::-1])
    grid[rng.random((9, 6)) < 0.1] = 0
    return grid


PLANTED = [
    (objects, lambda g: objects.crop_object(g, EIGHT, "largest"), sparse),
    (objects, lambda g: objects.crop_object_alone(g, Reading(False, True, False), "unique_shape"), sparse),
    (objects, lambda g: objects.crop_object(g, Reading(False, True, True), "largest"), dense),
    (objects, lambda g: objects.crop_inside_object(g, Reading(True, True, False), "largest"), sparse),
    (objects, lambda g: objects.keep_object(g, FOUR, "topmost"), sparse),
    (objects, lambda g: objects.object_colour(g, EIGHT, "with_hole", 1, 1), sparse),
    (objects, lambda g: objects.erase_object(g, Reading(True, True, False), "smallest"), sparse),
    (objects, lambda g: objects.recolour_object(g, FOUR, "largest", 7), sparse),
    (objects, lambda g: objects.recolour_by_size_rank(g, EIGHT), sparse),
    (objects, lambda g: objects.count_objects(g, FOUR, "column"), sparse),
    (objects, lambda g: objects.list_object_colours(g, EIGHT, "left", "row"), sparse),
    (objects, lambda g: objects.count_objects(g, Reading(True, True, False), "5x5"), sparse),
    (objects, lambda g: fill_enclosed(g, 6, False), lambda rng: (rng.random((8, 8)) < 0.45).astype(np.uint8)),
    (objects, lambda g: paint_inner_cells(g, 6, True, True), dense),
    (objects, lambda g: surround_cells(g, 6, False, False), sparse),
    (gravity, lambda g: gravity.fall(g, "left"), sparse),
    (gravity, lambda g: gravity.drop_objects(g, "up", True, True), sparse),
    (
        gravity,
        lambda g: gravity.slide_to_anchor(g, (9,)),
        lambda rng: np.where(rng.random((8, 8)) < 0.05, 9, sparse(rng)).astype(np.uint8),
    ),
    (denoise, lambda g: denoise.remove_specks(g, True), sparse),
    (denoise, denoise.keep_blocks, sparse),
    (denoise, denoise.settle_objects, lambda rng: random_grid(rng, 9, 9, max_colours=4)),
    (denoise, lambda g: denoise.downscale_majority(g, 3, 2), lambda rng: random_grid(rng, 9, 8)),
    (denoise, lambda g: denoise.restore_pattern(g, 0), periodic),
    (denoise, lambda g: denoise.restored_patch(g, 0, False), periodic),
    (denoise, lambda g: denoise.restore_symmetry(g, 0), mirrored),
]


@pytest.mark.parametrize("family, step, make_grid", PLANTED)
def test_ops_recover_a_planted_step(family, step, make_grid):
    view = planted_view(step, make_grid)
    pairs = list(zip(view.train_inputs, view.train_outputs, strict=True))
    found = [op for op in family.ops(view) if all(np.array_equal(op(i), o) for i, o in pairs)]
    assert found, [op.text("x") for op in family.ops(view)]


def test_fitters_recover_planted_parameters():
    view = planted_view(lambda g: drop_small_objects(g, FOUR, 3), sparse)
    op = fit_drop_small_objects(view.train_inputs, view.train_outputs, view.test_inputs)
    assert op is not None and op.name == "drop_small_objects"
    assert all(np.array_equal(op(i), o) for i, o in zip(view.train_inputs, view.train_outputs, strict=True))

    view = planted_view(lambda g: gravity.shift_content(g, 2, -1), sparse)
    op = gravity.fit_shift_content(view.train_inputs, view.train_outputs, view.test_inputs)
    assert op is not None and dict(op.args) == {"rows": 2, "cols": -1}

    def by_size(grid):
        found = find_objects(grid, Reading(True, False, False))
        sizes = found.stats[:, object_kernels.SIZE]
        colours = np.concatenate([[0], np.where(sizes == 1, 4, np.where(sizes == 2, 5, 6))]).astype(np.uint8)
        return np.where(found.labels >= 0, colours[found.labels + 1], grid)

    view = planted_view(by_size, lambda rng: sparse(rng, 10, 10))
    op = fit_recolour_objects_by(view.train_inputs, view.train_outputs, view.test_inputs)
    assert op is not None
    assert all(np.array_equal(op(i), o) for i, o in zip(view.train_inputs, view.train_outputs, strict=True))
    assert dict(op.args)["table"].get(1) == 4 and dict(op.args)["table"].get(2) == 5


@FEW
@given(
    st.lists(grids(max_side=10), min_size=3, max_size=3), st.lists(grids(max_side=10), min_size=2, max_size=2)
)
def test_ops_never_mutate_and_return_valid_grids_or_none(inputs, outputs):
    view = TaskView("random", tuple(inputs[:2]), tuple(outputs), (inputs[2],))
    same_shape = TaskView("random", tuple(inputs[:2]), tuple(inputs[:2]), (inputs[2],))
    for family in (objects, gravity, denoise):
        for op in family.ops(view) + family.ops(same_shape):
            for grid in inputs:
                before = grid.copy()
                out = op(grid)
                np.testing.assert_array_equal(grid, before)
                assert out is None or (is_valid_grid(out) and out.flags.c_contiguous), op.text("x")
