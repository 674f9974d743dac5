"""Ranking by answer invariants (plausible.py): the rules learned from the train pairs against a
plain-Python twin, and the engine preferring a costlier program whose answer keeps them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from search_naive_core import answer_faults_naive

from arcsolve.search import colours, geometry
from arcsolve.search.engine import SearchLimits, search_task
from arcsolve.search.ops import Op, TaskView
from arcsolve.search.plausible import answer_faults, learn_rules

EDGE_SHAPES = [(1, 1), (1, 30), (30, 1), (30, 30)]


@st.composite
def grid(draw, shapes=None, colours_=4):
    if shapes:
        h, w = draw(st.sampled_from(shapes))
    else:
        h, w = draw(st.integers(1, 30)), draw(st.integers(1, 30))
    seed = draw(st.integers(0, 2**31))
    return np.random.default_rng(seed).integers(0, colours_, (h, w), dtype=np.uint8)


@st.composite
def train_pairs(draw):
    shapes = draw(st.sampled_from([EDGE_SHAPES, [(3, 3), (6, 6)], None]))
    n = draw(st.integers(1, 3))
    return [(draw(grid(shapes)), draw(grid(shapes, draw(st.integers(1, 6))))) for _ in range(n)]


@settings(max_examples=80, deadline=None)
@given(train_pairs(), grid(EDGE_SHAPES), grid(EDGE_SHAPES, 6))
def test_answer_faults_match_twin(pairs, grid_in, answer):
    rules = learn_rules([i for i, _ in pairs], [o for _, o in pairs])
    assert answer_faults(rules, grid_in, answer) == answer_faults_naive(pairs, grid_in, answer)
    for i, o in pairs:  # every train pair keeps the rules learned from it
        assert answer_faults(rules, i, o) == 0


@pytest.mark.parametrize("shape", EDGE_SHAPES)
def test_rules_on_edge_shapes(shape):
    """Train pairs repaint colour 1 as 5: an answer doing that keeps the rules, the input unchanged
    (nothing changed) or another shape breaks them."""
    rng = np.random.default_rng(1)
    inputs = [rng.integers(1, 3, shape, dtype=np.uint8) for _ in range(3)]
    for grid_ in inputs:
        grid_[0, 0] = 1
    rules = learn_rules(inputs, [np.where(g == 1, 5, g).astype(np.uint8) for g in inputs])
    grid_in = inputs[0][::-1, ::-1].copy()
    assert answer_faults(rules, grid_in, np.where(grid_in == 1, 5, grid_in).astype(np.uint8)) == 0
    assert answer_faults(rules, grid_in, grid_in) == 1  # changes nothing
    assert answer_faults(rules, grid_in, np.full((2, 2), 7, np.uint8)) >= 1  # another shape


def test_engine_prefers_the_answer_that_keeps_the_invariants():
    """A cheap program that fits the train pairs but leaves the test input unchanged (no train output
    equals its input) ranks below a costlier one that changes it; without the rule it ranked first."""
    rng = np.random.default_rng(7)
    train = [rng.integers(1, 5, (4, 5), dtype=np.uint8) for _ in range(3)]
    test = rng.integers(1, 5, (4, 5), dtype=np.uint8)

    def flip_except_test(grid):
        return grid.copy() if np.array_equal(grid, test) else geometry.flip_horizontal(grid)

    view = TaskView("rank", tuple(train), tuple(geometry.flip_horizontal(g) for g in train), (test,))
    ops = [
        Op("flip_except_test", "test", flip_except_test, cost=1.0),
        Op("flip_horizontal", "geometry", geometry.flip_horizontal, cost=2.0),
    ]
    outcome = search_task(view, ops, [], SearchLimits(depth=2, seconds=60))
    assert [s.program.text() for s in outcome.solutions[:2]] == [
        "flip_horizontal(x)",
        "flip_except_test(x)",
    ]
    assert [s.faults for s in outcome.solutions[:2]] == [0, 1]


def test_search_goes_deeper_while_answers_break_invariants():
    """Two implausible answers at depth 1 do not stop the search: the plausible one at depth 2 is found."""
    rng = np.random.default_rng(8)
    train = [rng.integers(1, 5, (4, 4), dtype=np.uint8) for _ in range(3)]
    test = rng.integers(1, 5, (4, 4), dtype=np.uint8)
    wanted = geometry.rotate_180  # = flip_horizontal then flip_vertical

    def cheat(k):
        return lambda g: np.full(g.shape, k, np.uint8) if np.array_equal(g, test) else wanted(g)

    view = TaskView("deeper", tuple(train), tuple(wanted(g) for g in train), (test,))
    ops = [
        Op("cheat_a", "test", cheat(1)),
        Op("cheat_b", "test", cheat(2)),
        Op("flip_horizontal", "geometry", geometry.flip_horizontal),
        Op("flip_vertical", "geometry", geometry.flip_vertical),
    ]
    outcome = search_task(view, ops, [], SearchLimits(depth=2, seconds=60))
    best = outcome.solutions[0]
    assert best.faults == 0 and best.program.depth == 2
    assert np.array_equal(best.test_outputs[0], wanted(test))


def test_answer_more_programs_give_ranks_first_among_equals():
    """Three equally deep and costly programs fit the train pairs; two of them agree on the test
    answer and rank before the first-found one (which ranked first before support counted)."""
    rng = np.random.default_rng(10)
    grids_ = [rng.integers(0, 4, (5, 5), dtype=np.uint8) for _ in range(4)]
    test = grids_[3]

    def target(g):
        return colours.recolor(geometry.flip_horizontal(g), {1: 7})

    def paint(mapping, on_test=None):
        def fn(g):
            chosen = on_test if on_test is not None and np.array_equal(g, test) else mapping
            return colours.recolor(geometry.flip_horizontal(g), chosen)

        return fn

    view = TaskView("support", tuple(grids_[:3]), tuple(target(g) for g in grids_[:3]), (test,))
    ops = [
        Op("odd_one", "test", paint({1: 5}, on_test={1: 5, 2: 3})),
        Op("paint_8", "test", paint({1: 8})),
        Op("paint_9", "test", paint({1: 9})),
    ]
    outcome = search_task(view, ops, colours.FITTERS, SearchLimits(depth=1, seconds=60))
    assert [s.support for s in outcome.solutions] == [2, 1]
    assert np.array_equal(outcome.solutions[0].test_outputs[0], target(test))
    assert outcome.solutions[0].faults == outcome.solutions[1].faults == 0
