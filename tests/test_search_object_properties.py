"""The object properties a recolouring table may be keyed by (hole count, shape up to rotation and
reflection, how many objects share a shape, solid boxes, largest/smallest) against plain-Python
twins, and the recolouring fitter's choice among properties that all fit the train pairs."""

from __future__ import annotations

from collections import Counter

import numpy as np
import search_naive_objects as naive
from hypothesis import given, settings
from hypothesis import strategies as st
from test_search_objects import grids, planted_view, readings, sparse

from arcsolve.search.object_fitters import (
    PROPERTIES,
    fit_recolour_objects_by,
    fit_recolour_regions_by,
    recolour_regions_by,
)
from arcsolve.search.object_paint import stamp_template_at_markers
from arcsolve.search.object_select import Reading, find_objects


def shape_class_naive(obj):
    """The object's cells up to the 8 rotations and reflections: a frozenset of normalised images."""
    cells = [(r, c) for r, c in obj["cells"]]
    images = []
    for flip in (False, True):
        pts = [(c, r) for r, c in cells] if flip else cells
        for _ in range(4):
            pts = [(c, -r) for r, c in pts]  # a quarter turn
            top, left = min(r for r, _ in pts), min(c for _, c in pts)
            images.append(frozenset((r - top, c - left) for r, c in pts))
    return frozenset(images)


@settings(max_examples=40, deadline=None)
@given(grids(), readings)
def test_object_properties_match_the_twin(grid, reading):
    found = find_objects(grid, reading)
    objs = naive.objects_naive(grid, reading)
    assert PROPERTIES["holes"](found) == [naive.hole_count(o) for o in objs]
    assert PROPERTIES["hole"](found) == [naive.hole_count(o) > 0 for o in objs]
    # Two objects share a shape class exactly when the twin's image sets are equal.
    classes, twins = PROPERTIES["shape_class"](found), [shape_class_naive(o) for o in objs]
    for i in range(len(objs)):
        for j in range(len(objs)):
            assert (classes[i] == classes[j]) == (twins[i] == twins[j])
    shapes = Counter(o["shape"] for o in objs)
    assert PROPERTIES["shape_count"](found) == [shapes[o["shape"]] for o in objs]
    boxes = [(o["box"][2] - o["box"][0]) * (o["box"][3] - o["box"][1]) for o in objs]
    assert PROPERTIES["solid_box"](found) == [len(o["cells"]) == b for o, b in zip(objs, boxes, strict=True)]
    sizes = [len(o["cells"]) for o in objs]
    assert PROPERTIES["size_extreme"](found) == [
        "largest" if s == max(sizes) else "smallest" if s == min(sizes) else "between" for s in sizes
    ]


EIGHT = Reading(True, False, False)


def recolour_planted(key_of):
    """A step painting every 8-connected object by a rule of its naive description."""

    def step(grid):
        out = grid.copy()
        objs = naive.objects_naive(grid, EIGHT)
        for obj, colour in zip(objs, key_of(objs), strict=True):
            for r, c in obj["cells"]:
                out[r, c] = colour
        return out

    return step


def test_the_fitter_prefers_the_property_that_covers_the_test_and_says_least():
    """Objects painted 2 when their shape occurs once in the grid, else 1: the shortest table that
    also knows every test object's value is the shape count's, not the size's or the shape's, which
    fit the few train pairs too but need many entries."""
    unique_shape = recolour_planted(
        lambda objs: [2 if Counter(o["shape"] for o in objs)[o["shape"]] == 1 else 1 for o in objs]
    )
    for seed in range(5):
        view = planted_view(unique_shape, lambda rng: sparse(rng, 10, 10), seed=seed, pairs=4)
        op = fit_recolour_objects_by(view.train_inputs, view.train_outputs, view.test_inputs)
        assert op is not None and dict(op.args)["key"] == "shape_count"
        assert np.array_equal(op(view.test_inputs[0]), unique_shape(view.test_inputs[0]))

    extremes = recolour_planted(
        lambda objs: [
            4
            if len(o["cells"]) == max(len(p["cells"]) for p in objs)
            else 0
            if len(o["cells"]) != min(len(p["cells"]) for p in objs)
            else 7
            for o in objs
        ]
    )
    view = planted_view(extremes, lambda rng: sparse(rng, 10, 10), seed=5, pairs=3)
    op = fit_recolour_objects_by(view.train_inputs, view.train_outputs, view.test_inputs)
    assert op is not None and dict(op.args)["key"] == "size_extreme"
    test_out = extremes(view.test_inputs[0])
    assert np.array_equal(op(view.test_inputs[0]), test_out)


def regions_naive(grid):
    """The 4-connected regions of the commonest colour (lowest on ties), as naive objects."""
    h, w = grid.shape
    bg = naive.commonest(grid)
    labels, count = naive.label_naive((grid == bg).astype(np.uint8), 0, False, False)
    return [
        {
            "cells": [(r, c) for r in range(h) for c in range(w) if labels[r, c] == k],
            "border": any(
                labels[r, c] == k for r in range(h) for c in range(w) if r in (0, h - 1) or c in (0, w - 1)
            ),
        }
        for k in range(count)
    ]


@settings(max_examples=40, deadline=None)
@given(grids())
def test_recolouring_background_regions_matches_the_twin(grid):
    """Each background region painted by its size through a table (unknown sizes: the default)."""
    table = {1: 4, 2: 5, 3: 6}
    expected = grid.copy()
    for region in regions_naive(grid):
        for r, c in region["cells"]:
            expected[r, c] = table.get(len(region["cells"]), 9)
    np.testing.assert_array_equal(recolour_regions_by(grid, "size", table, 9), expected)


def test_the_region_fitter_recovers_a_planted_rule():
    """Enclosed background regions (not touching the border) painted 3, open ones left: the fitter
    must find the border key and answer the test input as the rule does."""

    def fill_enclosed(grid):
        out = grid.copy()
        for region in regions_naive(grid):
            if not region["border"]:
                for r, c in region["cells"]:
                    out[r, c] = 3
        return out

    view = planted_view(fill_enclosed, lambda rng: np.where(rng.random((9, 9)) < 0.45, 2, 0).astype(np.uint8))
    op = fit_recolour_regions_by(view.train_inputs, view.train_outputs, view.test_inputs)
    assert op is not None and dict(op.args)["key"] == "border"
    assert np.array_equal(op(view.test_inputs[0]), fill_enclosed(view.test_inputs[0]))
    # A uniform grid is one region (no background-free labelling to trip over).
    uniform = [np.zeros((3, 3), np.uint8), np.full((2, 2), 5, np.uint8)]
    recoloured = [np.full((3, 3), 4, np.uint8), np.full((2, 2), 4, np.uint8)]
    op = fit_recolour_regions_by(uniform, recoloured, [np.zeros((2, 2), np.uint8)])
    assert op is not None and all(np.array_equal(op(u), r) for u, r in zip(uniform, recoloured, strict=True))


def stamp_naive(grid, keep_template):
    objs = naive.objects_naive(grid, Reading(True, True, False))
    sizes = [len(o["cells"]) for o in objs]
    if len(objs) < 2 or max(sizes) < 2 or sizes.count(max(sizes)) != 1:
        return None
    template = objs[sizes.index(max(sizes))]
    markers = [o for o in objs if len(o["cells"]) == 1]
    top, left, bottom, right = template["box"]
    bg = naive.commonest(grid)
    out = grid.copy()
    if not keep_template:
        for r, c in template["cells"]:
            out[r, c] = bg
    if not markers:
        return None
    for marker in markers:
        (row, col), colour = marker["cells"][0], int(grid[marker["cells"][0]])
        anchors = [(r, c) for r, c in template["cells"] if grid[r, c] == colour]
        if len(anchors) == 1:
            dr, dc = anchors[0][0] - top, anchors[0][1] - left
        elif (bottom - top) % 2 and (right - left) % 2:
            dr, dc = (bottom - top) // 2, (right - left) // 2
        else:
            return None
        for r, c in template["cells"]:
            rr, cc = row + r - top - dr, col + c - left - dc
            if 0 <= rr < grid.shape[0] and 0 <= cc < grid.shape[1]:
                if out[rr, cc] == bg or (rr, cc) == (row, col):
                    out[rr, cc] = grid[r, c]
    return out


@settings(max_examples=60, deadline=None)
@given(grids(), st.booleans())
def test_stamping_the_template_at_markers_matches_the_twin(grid, keep):
    made, expected = stamp_template_at_markers(grid, keep), stamp_naive(grid, keep)
    assert (made is None) == (expected is None)
    if made is not None:
        np.testing.assert_array_equal(made, expected)


def test_a_planted_template_is_stamped_centred_on_each_marker():
    grid = np.zeros((9, 9), np.uint8)
    grid[0:3, 0:3] = [[0, 2, 0], [2, 1, 1], [0, 1, 3]]
    grid[5, 5] = grid[7, 2] = 5
    out = stamp_template_at_markers(grid, keep_template=True)
    assert (
        out is not None
        and np.array_equal(out[4:7, 4:7], grid[0:3, 0:3])
        and np.array_equal(out[6:9, 1:4], grid[0:3, 0:3])
    )
