"""The search's core: geometry and colour primitives against plain-Python twins, the engine on
planted programs, output-equivalence pruning, and the rule that test outputs are never read."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from search_naive_core import (
    anti_transpose_naive,
    collapse_repeats_naive,
    colour_map_naive,
    commonest_colour_index,
    drop_background_lines_naive,
    flip_horizontal_naive,
    rotate_90_naive,
    tile_mirrored_naive,
    transpose_naive,
    upscale_naive,
)

from arcsolve.search import colours, geometry
from arcsolve.search.engine import SearchLimits, search_task
from arcsolve.search.grid import background_colour, is_valid_grid
from arcsolve.search.ops import Op, TaskView
from arcsolve.search.vocabulary import task_fitters, task_ops

EDGE_SHAPES = [(1, 1), (1, 30), (30, 1), (30, 30), (3, 7)]


@st.composite
def grids(draw, max_side=30, colours_=10):
    h = draw(st.integers(1, max_side))
    w = draw(st.integers(1, max_side))
    seed = draw(st.integers(0, 2**31))
    return np.random.default_rng(seed).integers(0, colours_, (h, w), dtype=np.uint8)


def random_grid(rng, shape, colours_=10):
    return rng.integers(0, colours_, shape, dtype=np.uint8)


@pytest.mark.parametrize("shape", EDGE_SHAPES)
def test_dihedral_primitives_match_twins_on_edge_shapes(shape):
    grid = random_grid(np.random.default_rng(0), shape)
    assert np.array_equal(geometry.rotate_90(grid), rotate_90_naive(grid))
    assert np.array_equal(geometry.flip_horizontal(grid), flip_horizontal_naive(grid))
    assert np.array_equal(geometry.transpose(grid), transpose_naive(grid))
    assert np.array_equal(geometry.anti_transpose(grid), anti_transpose_naive(grid))


@settings(max_examples=60, deadline=None)
@given(grids())
def test_geometry_primitives_match_twins(grid):
    before = grid.copy()
    assert np.array_equal(geometry.rotate_270(geometry.rotate_90(grid)), grid)
    assert np.array_equal(geometry.rotate_180(grid), rotate_90_naive(rotate_90_naive(grid)))
    assert np.array_equal(
        geometry.flip_vertical(grid), transpose_naive(flip_horizontal_naive(transpose_naive(grid)))
    )
    for rows, cols in ((1, 2), (2, 1), (3, 3)):
        up = geometry.upscale(grid, rows, cols)
        if grid.shape[0] * rows <= 30 and grid.shape[1] * cols <= 30:
            assert np.array_equal(up, upscale_naive(grid, rows, cols))
            assert np.array_equal(geometry.downscale(up, rows, cols), grid)
            assert np.array_equal(
                geometry.tile_mirrored(grid, rows, cols), tile_mirrored_naive(grid, rows, cols)
            )
        else:
            assert up is None
    assert np.array_equal(grid, before), "a primitive changed its input"


@settings(max_examples=80, deadline=None)
@given(grids(max_side=8, colours_=2))
def test_line_removing_primitives_match_twins(grid):
    collapsed = geometry.collapse_repeats(grid)
    expected = collapse_repeats_naive(grid)
    assert (collapsed is None and expected.shape == grid.shape) or np.array_equal(collapsed, expected)
    dropped = geometry.drop_background_lines(grid)
    expected = drop_background_lines_naive(grid, commonest_colour_index(grid))
    if dropped is None:
        assert expected.size == 0 or expected.shape == grid.shape
    else:
        assert np.array_equal(dropped, expected)


@settings(max_examples=60, deadline=None)
@given(grids(colours_=4))
def test_background_and_commonest_colour_match_twins(grid):
    assert background_colour(grid) == commonest_colour_index(grid)


@settings(max_examples=40, deadline=None)
@given(grids(colours_=4), st.integers(0, 9))
def test_background_cache_follows_the_grid_contents(grid, colour):
    """The cache is keyed by contents: a grid changed in place gets its own answer, not a stale one."""
    assert background_colour(grid) == commonest_colour_index(grid)
    grid[...] = colour
    assert background_colour(grid) == colour


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(grids(max_side=5, colours_=4), st.integers(0, 2**31)), min_size=1, max_size=4))
def test_colour_map_learning_matches_twin(pairs):
    candidates, targets = [], []
    for grid, seed in pairs:
        rng = np.random.default_rng(seed)
        candidates.append(grid)
        # Half the time a consistent map, else random noise (usually inconsistent).
        if seed % 2:
            targets.append(rng.permutation(10).astype(np.uint8)[grid])
        else:
            targets.append(random_grid(rng, grid.shape, 4))
    assert colours.learn_colour_map(candidates, targets) == colour_map_naive(candidates, targets)


def planted_view(program, rng, n_train=3, n_test=2, shape=(5, 6), colours_=5) -> tuple[TaskView, list]:
    inputs = [random_grid(rng, shape, colours_) for _ in range(n_train + n_test)]
    outputs = [program(g) for g in inputs]
    view = TaskView("planted", tuple(inputs[:n_train]), tuple(outputs[:n_train]), tuple(inputs[n_train:]))
    return view, outputs[n_train:]


def core_ops(view):
    """The geometry and colour families alone: the engine tests need no more (and stay fast)."""
    return geometry.ops(view) + colours.ops(view)


CORE_FITTERS = [*geometry.FITTERS, *colours.FITTERS]


def answers_of(outcome, k=2):
    return [tuple(g.tobytes() + bytes(g.shape) for g in s.test_outputs) for s in outcome.solutions[:k]]


PLANTED = {
    "flip_then_recolor": lambda g: colours.recolor(geometry.flip_horizontal(g), {1: 7, 2: 8}),
    "rotate_then_tile": lambda g: geometry.tile(geometry.rotate_90(g), 2, 2),
    "transpose_then_mirror_tile": lambda g: geometry.tile_mirrored(geometry.transpose(g), 2, 1),
    "keep_colour_rotate_recolor": lambda g: colours.recolor(
        geometry.rotate_180(colours.keep_colour(g, 3)), {3: 9}
    ),
}


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_search_finds_planted_programs(name):
    rng = np.random.default_rng(sorted(PLANTED).index(name))
    view, expected = planted_view(PLANTED[name], rng)
    outcome = search_task(view, core_ops(view), CORE_FITTERS, SearchLimits(depth=3, seconds=60))
    assert outcome.solutions, f"nothing found for {name}"
    wanted = tuple(g.tobytes() + bytes(g.shape) for g in expected)
    assert wanted in answers_of(outcome), outcome.solutions[0].program.text()
    best = outcome.solutions[0].program
    assert best.depth <= 3 and "x" in best.text()
    for solution in outcome.solutions:  # every kept program reproduces every train pair
        for i, o in zip(view.train_inputs, view.train_outputs, strict=True):
            assert np.array_equal(solution.program.run(i), o)


def test_equivalent_programs_are_one_state():
    """The 7 non-identity dihedral maps close under composition: whatever the depth, an asymmetric
    grid has exactly 7 new states, however many programs lead to them."""
    rng = np.random.default_rng(3)
    grid = random_grid(rng, (4, 5))
    view = TaskView("dihedral", (grid,), (np.zeros((1, 1), np.uint8),), ())
    ops = [Op(f.__name__, "geometry", f) for f in geometry.DIHEDRAL]
    for depth in (1, 2, 3):
        outcome = search_task(view, ops, [], SearchLimits(depth=depth, seconds=60))
        assert outcome.states == 7 and outcome.solutions == []


def test_search_ranks_shallow_programs_first():
    rng = np.random.default_rng(4)
    view, expected = planted_view(geometry.flip_horizontal, rng)
    outcome = search_task(view, core_ops(view), CORE_FITTERS, SearchLimits(depth=3, seconds=60))
    assert outcome.solutions[0].program.text() == "flip_horizontal(x)"
    keys = [(s.program.depth, s.program.cost) for s in outcome.solutions]
    assert keys == sorted(keys)


def test_crashing_and_invalid_ops_cost_only_their_branch():
    def crash(grid):
        raise ZeroDivisionError("planted bug")

    def too_big(grid):
        return np.zeros((31, 31), np.uint8)

    rng = np.random.default_rng(5)
    view, expected = planted_view(geometry.transpose, rng)
    ops = [
        Op("crash", "test", crash),
        Op("too_big", "test", too_big),
        Op("transpose", "geometry", geometry.transpose),
    ]
    outcome = search_task(view, ops, [], SearchLimits(depth=2, seconds=60))
    assert outcome.op_errors > 0
    assert outcome.solutions[0].program.text() == "transpose(x)"
    assert all(is_valid_grid(g) for s in outcome.solutions for g in s.test_outputs)


def test_time_budget_stops_the_search():
    rng = np.random.default_rng(6)
    view = TaskView(
        "noise",
        tuple(random_grid(rng, (30, 30)) for _ in range(3)),
        tuple(random_grid(rng, (30, 30)) for _ in range(3)),
        (random_grid(rng, (30, 30)),),
    )
    outcome = search_task(view, task_ops(view), task_fitters(), SearchLimits(depth=3, seconds=0.3))
    assert outcome.stopped_by == "time" and outcome.seconds < 2.0


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_fitting_after_the_plain_ops_finds_what_fitting_at_once_does(name, monkeypatch):
    """From depth 2 the fitters run after a depth's plain ops, nearest state first: with no budget
    reached, every state is fitted either way, so the answers, their support and their best depth
    are those of fitting each state as it is made."""
    from arcsolve.search import engine

    rng = np.random.default_rng(sorted(PLANTED).index(name))
    view, _ = planted_view(PLANTED[name], rng)
    limits = SearchLimits(depth=3, seconds=60, max_answers=10**6)

    def answers(outcome):
        return {
            tuple(g.tobytes() + bytes(g.shape) for g in s.test_outputs): (
                s.support,
                s.faults,
                s.program.depth,
            )
            for s in outcome.solutions
        }

    later = search_task(view, core_ops(view), CORE_FITTERS, limits)
    again = search_task(view, core_ops(view), CORE_FITTERS, limits)
    texts = [s.program.text() for s in later.solutions]
    assert texts == [s.program.text() for s in again.solutions]  # the same search, the same order
    monkeypatch.setattr(engine._Search, "fit_later_from", 99)
    at_once = search_task(view, core_ops(view), CORE_FITTERS, limits)
    assert later.stopped_by is None and at_once.stopped_by is None
    assert answers(later) == answers(at_once) and later.states == at_once.states


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31))
def test_fitters_marked_keeps_shape_refuse_every_other_shape(seed):
    """The engine skips a `keeps_shape` fitter on a state whose shapes differ from the targets': so
    such a fitter must never return a step there, whatever the grids (here: targets that are the
    candidates grown or cut by a row, and random ones)."""
    rng = np.random.default_rng(seed)
    marked = [fit for fit in task_fitters() if getattr(fit, "keeps_shape", False)]
    assert len(marked) >= 10
    candidates = [
        rng.integers(0, 4, size=(int(rng.integers(2, 9)), int(rng.integers(2, 9)))).astype(np.uint8)
        for _ in range(3)
    ]
    targets = [np.vstack([c, c[:1]]) if rng.random() < 0.5 else c[:-1].copy() for c in candidates]
    targets[0] = rng.integers(0, 4, size=(candidates[0].shape[0] + 1, candidates[0].shape[1])).astype(
        np.uint8
    )
    tests = [rng.integers(0, 4, size=(5, 5)).astype(np.uint8)]
    for fit in marked:
        assert fit(candidates, targets, tests) is None, fit.__name__
