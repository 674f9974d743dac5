"""The region search families (partition, symmetry, fill, rays, local rule) against their plain-Python
twins in search_naive_regions, on random grids including the edge shapes; planted tasks whose outputs
one primitive made, which `ops(view)` or a fitter must recover."""

from __future__ import annotations

import numpy as np
import pytest
import search_naive_regions as naive
from hypothesis import given, settings
from hypothesis import strategies as st

from arcsolve.search import fill, local_rule, partition, rays, symmetry
from arcsolve.search.grid import background_colour, is_valid_grid
from arcsolve.search.ops import TaskView
from arcsolve.search.region_kernels import (
    draw_rays,
    label_components,
    mirror_sum,
    reachable_from_border,
    smallest_period,
)

FEW = settings(max_examples=15, deadline=None)
EDGE_SHAPES = ((1, 1), (1, 30), (30, 1), (30, 30))
FAMILIES = (partition, symmetry, fill, rays, local_rule)
shapes = st.sampled_from(EDGE_SHAPES) | st.tuples(st.integers(1, 9), st.integers(1, 9))


def random_grid(seed: int, shape: tuple[int, int], n_colours: int = 3) -> np.ndarray:
    """Mostly background 0 with a few other colours, so regions, holes and lines occur."""
    rng = np.random.default_rng(seed)
    weights = np.array([4.0] + [1.0] * (n_colours - 1))
    return rng.choice(n_colours, size=shape, p=weights / weights.sum()).astype(np.uint8)


def assert_same(got, want):
    assert (got is None) == (want is None)
    if got is not None:
        assert is_valid_grid(got) and got.flags.c_contiguous
        np.testing.assert_array_equal(got, want)


def planted(inputs, outputs) -> tuple[TaskView, np.ndarray]:
    """The last pair held out as the test: (view, its expected output)."""
    return TaskView("planted", tuple(inputs[:-1]), tuple(outputs[:-1]), (inputs[-1],)), outputs[-1]


def recovers(view: TaskView, test_target: np.ndarray, family) -> bool:
    """Some op of the family maps every train input to its output and the test input to test_target."""
    targets = [*view.train_outputs, test_target]
    for op in family.ops(view):
        got = [op(g) for g in view.inputs]
        if all(
            g is not None and g.shape == t.shape and np.array_equal(g, t)
            for g, t in zip(got, targets, strict=True)
        ):
            return True
    return False


@FEW
@given(seed=st.integers(0, 2**32 - 1), shape=shapes, conn8=st.booleans())
def test_kernels_match_twins(seed, shape, conn8):
    grid = random_grid(seed, shape)
    mask = grid == 0
    np.testing.assert_array_equal(reachable_from_border(mask, conn8), naive.reachable_naive(mask, conn8))
    labels, count = label_components(mask, conn8)
    want_labels, want_count = naive.label_naive(mask, conn8)
    assert count == want_count
    np.testing.assert_array_equal(labels, want_labels)
    for name in ("up", "horizontal", "diagonals", "star"):
        steps = rays.STEPS[name]
        through = name in rays.THROUGH_DIRECTIONS
        got = draw_rays(grid, grid == 1, steps, 0, through)
        np.testing.assert_array_equal(
            got, naive.rays_naive(grid, grid == 1, rays.DIRECTIONS[name], 0, through)
        )


@FEW
@given(seed=st.integers(0, 2**32 - 1), shape=shapes)
def test_fill_and_rays_match_twins(seed, shape):
    grid = random_grid(seed, shape)
    before = grid.copy()
    assert_same(fill.fill_enclosed(grid, 7), naive.fill_enclosed_naive(grid, 7))
    assert_same(fill.fill_holes_with_own_colour(grid), naive.fill_holes_with_own_colour_naive(grid))
    for conn8, paint in ((False, None), (True, None), (True, 6)):
        got = fill.fill_bounding_boxes(grid, conn8, paint)
        assert_same(got, naive.fill_bounding_boxes_naive(grid, conn8, paint))
    for colour in (1, 2):
        assert_same(fill.fill_regions_touching(grid, colour), naive.fill_regions_touching_naive(grid, colour))
    for axis in ("rows", "columns", "rows_on_top", "columns_on_top"):
        for paint in (None, 7):
            assert_same(rays.connect_pixels(grid, axis, paint), naive.connect_pixels_naive(grid, axis, paint))
    bg = background_colour(grid)
    for source, paint in ((None, None), (1, None), (None, 8)):
        is_source = grid != bg if source is None else grid == source
        got = rays.shoot_rays(grid, "star", source, False, paint)
        if source == bg or not is_source.any():
            assert got is None
        else:
            assert_same(got, naive.rays_naive(grid, is_source, rays.DIRECTIONS["star"], bg, False, paint))
    np.testing.assert_array_equal(grid, before)


@FEW
@given(seed=st.integers(0, 2**32 - 1), shape=shapes, sep=st.booleans())
def test_partition_matches_twins(seed, shape, sep):
    grid = random_grid(seed, shape)
    if sep:
        grid[:, grid.shape[1] // 2] = 5
    splitters = [
        ("lines", 5),
        ("lines", 0),
        ("lines", "any"),
        ("blocks", 1, 2),
        ("blocks", 2, 1),
        ("blocks", 3, 3),
        ("tiles", 2, 3),
    ]
    for splitter in splitters:
        for rule in partition.MASK_RULES:
            assert_same(
                partition.combine_masks(grid, splitter, 0, rule),
                naive.combine_masks_naive(grid, splitter, 0, rule),
            )
        for rule in partition.SELECT_RULES:
            assert_same(
                partition.select_part(grid, splitter, 0, rule),
                naive.select_part_naive(grid, splitter, 0, rule),
            )
        assert_same(partition.fold_parts(grid, splitter, 0), naive.fold_parts_naive(grid, splitter, 0))
        for how in ("commonest", "drawn", "count"):
            got = partition.summarise_parts(grid, splitter, 0, how)
            assert_same(got, naive.summarise_parts_naive(grid, splitter, 0, how))
        for last in (False, True):
            assert_same(
                partition.overlay_parts(grid, splitter, 0, last),
                naive.overlay_parts_naive(grid, splitter, 0, last),
            )


@FEW
@given(seed=st.integers(0, 2**32 - 1), shape=shapes, patch_only=st.booleans())
def test_symmetry_matches_twins(seed, shape, patch_only):
    rng = np.random.default_rng(seed)
    period = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    tile = random_grid(seed, period, 4)
    grid = np.tile(tile, (30, 30))[: shape[0], : shape[1]].copy()
    grid[rng.random(shape) < 0.15] = 9
    for side in ("left", "right", "top", "bottom"):
        assert_same(symmetry.mirror_half(grid, side), naive.mirror_half_naive(grid, side))
    for group in symmetry.GROUPS:
        want = naive.overlay_mirror_images_naive(grid, group)
        assert_same(symmetry.overlay_mirror_images(grid, group), want)
    hidden = grid == 9
    assert mirror_sum(grid, hidden) == naive.mirror_sum_naive(grid, hidden)
    assert mirror_sum(grid, grid == 0) == naive.mirror_sum_naive(grid, grid == 0)
    assert smallest_period(grid, hidden) == naive.smallest_period_naive(grid, hidden)
    assert smallest_period(grid.T, hidden.T) == naive.smallest_period_naive(grid.T, hidden.T)
    want = naive.complete_tiling_naive(grid, 9, patch_only)
    assert_same(symmetry.complete_tiling(grid, 9, patch_only), want)


@FEW
@given(seed=st.integers(0, 2**32 - 1), shape=shapes, group=st.sampled_from(symmetry.GROUPS))
def test_complete_symmetry_restores_a_hidden_symmetric_pattern(seed, shape, group):
    """Any cell it restores gets the value the symmetric pattern had there."""
    rng = np.random.default_rng(seed)
    if group in ("rot90", "transpose", "dihedral"):
        shape = (min(shape), min(shape))
    grid = random_grid(seed, shape, 5)
    for _ in range(3):
        for rows, cols in symmetry.symmetry_mappings(shape, group, shape[1] - 1, shape[0] - 1) or []:
            grid = np.maximum(grid, grid[rows, cols])
    hidden = grid.copy()
    hidden[rng.random(shape) < 0.1] = 9
    restored = symmetry.complete_symmetry(hidden, 9, group, patch_only=False)
    if restored is not None and group not in ("lr", "ud", "lr_ud"):
        np.testing.assert_array_equal(restored, grid)
    if restored is not None:
        assert is_valid_grid(restored) and not np.any(restored == 9)


@FEW
@given(seed=st.integers(0, 2**32 - 1), shape=shapes)
def test_local_rule_keys_and_planted_table(seed, shape):
    grid = random_grid(seed, shape)
    for keying in local_rule.KEYINGS:
        keys = local_rule.neighbourhood_keys(grid, keying, 1)
        np.testing.assert_array_equal(keys, naive.neighbourhood_keys_naive(grid, keying, 1))
    for g in (grid, grid, np.ascontiguousarray(grid.reshape(1, -1))):  # cached; same bytes, new shape
        np.testing.assert_array_equal(
            local_rule.square_keys(g), naive.neighbourhood_keys_naive(g, "square", 1)
        )
    # A planted cross rule: a cell turns 4 when it is background with exactly two coloured neighbours.
    padded = np.pad(grid != 0, 1)
    around = padded[:-2, 1:-1].astype(int) + padded[2:, 1:-1] + padded[1:-1, :-2] + padded[1:-1, 2:]
    target = np.where((grid == 0) & (around == 2), 4, grid).astype(np.uint8)
    op = local_rule.fit_local_rule([grid], [target], [grid])
    assert op is not None
    np.testing.assert_array_equal(op(grid), target)
    # The target is a function of the cross, so no square neighbourhood is needed.
    assert dict(op.args)["keying"] != "square"


@FEW
@given(seed=st.integers(0, 2**32 - 1), shape=shapes)
def test_stamps_match_twin_and_a_planted_stamp_is_learned(seed, shape):
    rng = np.random.default_rng(seed)
    grid = random_grid(seed, shape, 4)
    offsets = [local_rule.STAMP_OFFSETS[k] for k in rng.choice(8, size=3, replace=False)]
    stamps = tuple((int(rng.integers(1, 4)), dr, dc, int(rng.integers(5, 10))) for dr, dc in offsets)
    target = local_rule.apply_stamps(grid, 0, stamps)
    np.testing.assert_array_equal(target, naive.apply_stamps_naive(grid, 0, stamps))
    op = local_rule.fit_stamps([grid], [target], [grid])
    if op is not None:
        np.testing.assert_array_equal(op(grid), target)
    # A lone pixel shows its whole stamp, so it must be learned exactly.
    lone = np.zeros((5, 5), np.uint8)
    lone[2, 2] = stamps[0][0]
    own = tuple(s for s in stamps if s[0] == stamps[0][0])
    op = local_rule.fit_stamps([lone], [local_rule.apply_stamps(lone, 0, own)], [lone])
    assert op is not None and set(dict(op.args)["stamps"]) == set(own)


def test_local_rule_refuses_conflicts_and_unseen_neighbourhoods():
    grid = np.zeros((3, 3), np.uint8)
    assert local_rule.fit_local_rule([grid, grid], [grid, grid + 1], [grid]) is None
    unseen = grid.copy()
    unseen[1, 1] = 5
    assert local_rule.fit_local_rule([grid], [grid + 1], [unseen]) is None
    op = local_rule.fit_local_rule([grid], [grid + 1], [grid])
    assert op is not None and dict(op.args)["keying"] == "cell"
    assert op(unseen) is None


def with_ring(grid: np.ndarray, seed: int) -> np.ndarray:
    """The grid with a hollow square of colour 2 drawn on it (something to fill)."""
    rng = np.random.default_rng(seed)
    top, left = int(rng.integers(0, grid.shape[0] - 3)), int(rng.integers(0, grid.shape[1] - 3))
    out = grid.copy()
    out[top : top + 4, left : left + 4] = 2
    out[top + 1 : top + 3, left + 1 : left + 3] = 0
    return out


def test_planted_tasks_are_recovered():
    inputs = [random_grid(seed, (7, 9)) for seed in range(4)]
    with_separator = [np.hstack([g[:, :4], np.full((7, 1), 5, np.uint8), g[:, 5:]]) for g in inputs]
    ringed = [with_ring(g, seed) for seed, g in enumerate(inputs)]
    cases = {
        partition: (with_separator, lambda g: partition.combine_masks(g, ("lines", 5), 0, "xor")),
        fill: (ringed, lambda g: fill.fill_enclosed(g, 6)),
        rays: (inputs, lambda g: rays.shoot_rays(g, "diagonals", None, False)),
        symmetry: (inputs, lambda g: symmetry.mirror_half(g, "right")),
    }
    for family, (grids, fn) in cases.items():
        assert recovers(*planted(grids, [fn(g) for g in grids]), family), family.FAMILY


def test_planted_symmetry_mask_and_fill_colour_are_inferred():
    rng = np.random.default_rng(0)
    grids, targets = [], []
    for seed in range(4):
        half = random_grid(seed, (8, 4), 4)
        whole = np.hstack([half, half[:, ::-1]])
        hidden = whole.copy()
        hidden[rng.integers(0, 8), rng.integers(0, 4) : 4] = 8
        grids.append(hidden)
        targets.append(whole)
    view, test_target = planted(grids, targets)
    assert 8 in symmetry.mask_colours(view)
    assert recovers(view, test_target, symmetry)
    ring = with_ring(np.zeros((6, 6), np.uint8), 0)
    filled = fill.fill_enclosed(ring, 6)
    assert fill.fill_colours(TaskView("planted", (ring,), (filled,), (ring,))) == [6]
    op = fill.fit_enclosed_by_size([ring], [filled], [ring])
    assert op is not None and dict(op.args)["sizes"] == (4,)
    np.testing.assert_array_equal(op(ring), filled)


@FEW
@given(seed=st.integers(0, 2**32 - 1), shape=shapes)
def test_every_op_returns_a_valid_grid_or_none_and_keeps_its_input(seed, shape):
    inputs = [random_grid(seed + k, shape, 4) for k in range(3)]
    outputs = [random_grid(seed + 10 + k, shape, 5) for k in range(2)]
    view = TaskView("random", tuple(inputs[:2]), tuple(outputs), (inputs[2],))
    for family in FAMILIES:
        for op in family.ops(view):
            for grid in inputs:
                before = grid.copy()
                out = op(grid)
                assert out is None or (is_valid_grid(out) and out.flags.c_contiguous), op.text("x")
                np.testing.assert_array_equal(grid, before)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.FAMILY)
def test_ops_are_named_by_family(family):
    grids = [random_grid(k, (6, 6)) for k in range(3)]
    view, _ = planted(grids, grids)
    for op in family.ops(view):
        assert op.family == family.FAMILY and op.name
