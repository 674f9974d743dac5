"""Maze generator, BFS kernel, text helpers and dihedral augmentation, checked against a plain BFS."""

from __future__ import annotations

from functools import cache

import numba
import numpy as np
import pytest
from bench_naive import maze_bfs, maze_shortest_path_counts
from hypothesis import given, settings
from hypothesis import strategies as st

from arcsolve.data import maze_kernels as kernels
from arcsolve.data.maze import (
    MAZE_GOAL,
    MAZE_OPEN,
    MAZE_PATH,
    MAZE_START,
    MAZE_WALL,
    augment_maze_dihedral,
    generate_maze,
    maze_to_text,
    text_to_maze,
)


@cache
def generated(size: int, min_path: int, n: int = 40, seed: int = 1):
    return generate_maze(n, size, min_path, seed)


def check_maze(inputs: np.ndarray, labels: np.ndarray, size: int) -> int:
    """Assert one S, one G, and a label path that is a unique shortest S-G path; return its moves."""
    grid_in, grid_out = inputs.reshape(size, size), labels.reshape(size, size)
    assert set(np.unique(grid_in)) <= {MAZE_WALL, MAZE_OPEN, MAZE_START, MAZE_GOAL}  # no path in inputs
    assert (grid_in == MAZE_START).sum() == 1 and (grid_in == MAZE_GOAL).sum() == 1
    on_path = grid_out == MAZE_PATH
    np.testing.assert_array_equal(np.where(on_path, MAZE_OPEN, grid_out), grid_in)  # labels = inputs + path
    start = tuple(int(v) for v in np.argwhere(grid_in == MAZE_START)[0])
    goal = tuple(int(v) for v in np.argwhere(grid_in == MAZE_GOAL)[0])
    cells = grid_in.tolist()
    # Walk the 'o' cells from S: each step has exactly one unvisited path (or goal) neighbour.
    path_cells = {tuple(int(v) for v in rc) for rc in np.argwhere(on_path)}
    here, seen, moves = start, {start}, 0
    while here != goal:
        r, c = here
        steps = [
            nb
            for nb in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1))
            if nb not in seen and (nb in path_cells or nb == goal)
        ]
        assert len(steps) == 1 or goal in steps, f"path branches or breaks at {here}"
        here = goal if goal in steps else steps[0]
        assert cells[here[0]][here[1]] != MAZE_WALL
        seen.add(here)
        moves += 1
    assert len(seen) == len(path_cells) + 2  # every 'o' cell is on the walk
    assert maze_bfs(cells, start)[goal] == moves  # shortest
    assert maze_shortest_path_counts(cells, start)[goal] == 1  # and the only shortest one
    return moves


@pytest.mark.parametrize(("size", "min_path"), [(30, 110), (15, 20), (8, 6), (3, 2)])
def test_generated_mazes_have_a_unique_shortest_labelled_path(size, min_path):
    inputs, labels, lengths = generated(size, min_path)
    assert inputs.dtype == labels.dtype == np.uint8 and lengths.dtype == np.int32
    assert inputs.shape == labels.shape == (40, size * size)
    assert lengths.min() >= min_path
    for i in range(len(inputs)):
        assert check_maze(inputs[i], labels[i], size) == lengths[i]


def test_thirty_by_thirty_mazes_are_long_and_varied():
    inputs, _, lengths = generated(30, 110)
    assert len({x.tobytes() for x in inputs}) == len(inputs)
    assert np.median(lengths) > 115 and lengths.max() > 150
    walls = (inputs == MAZE_WALL).mean(axis=1)
    assert 0.35 < walls.mean() < 0.6  # a corridor maze, neither empty nor solid


def test_generation_is_deterministic_and_a_prefix_for_smaller_n():
    first = generate_maze(8, 30, 110, seed=4)
    again = generate_maze(8, 30, 110, seed=4)
    prefix = generate_maze(5, 30, 110, seed=4)
    other = generate_maze(8, 30, 110, seed=5)
    for a, b, p in zip(first, again, prefix, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a[:5], p)
    assert not np.array_equal(first[0], other[0])


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 numba threads")
def test_generation_does_not_depend_on_the_thread_count():
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        single = generate_maze(16, 30, 110, seed=9)
        numba.set_num_threads(2)
        double = generate_maze(16, 30, 110, seed=9)
    finally:
        numba.set_num_threads(previous)
    for a, b in zip(single, double, strict=True):
        np.testing.assert_array_equal(a, b)


def kernel_bfs(grid: np.ndarray, start: int):
    cells = grid.size
    dist, ways, queue = (np.empty(cells, np.int64) for _ in range(3))
    reached = kernels._bfs(grid, start, dist, ways, queue)
    return dist, ways, reached


@st.composite
def wall_grids(draw):
    size = draw(st.sampled_from([1, 2, 3, 7, 30]))
    density = draw(st.floats(0.0, 0.5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    grid = np.where(rng.random((size, size)) < density, MAZE_WALL, MAZE_OPEN).astype(np.uint8)
    start = draw(st.integers(0, size * size - 1))
    grid.flat[start] = MAZE_OPEN
    return grid, start


@settings(max_examples=60, deadline=None)
@given(wall_grids())
def test_bfs_kernel_matches_the_naive_bfs(case):
    grid, start = case
    size = grid.shape[0]
    dist, ways, reached = kernel_bfs(grid, start)
    cells = grid.tolist()
    naive = maze_bfs(cells, divmod(start, size))
    naive_ways = maze_shortest_path_counts(cells, divmod(start, size))
    expected = np.full(size * size, -1)
    for (r, c), d in naive.items():
        expected[r * size + c] = d
    np.testing.assert_array_equal(dist, expected)
    assert reached == len(naive)
    for (r, c), w in naive_ways.items():
        assert ways[r * size + c] == min(w, 2)


def test_text_round_trip_and_charset():
    inputs, labels, _ = generated(15, 20)
    text = maze_to_text(labels[0])
    lines = text.split("\n")
    assert len(lines) == 15 and {len(line) for line in lines} == {15}
    assert set(text) <= set("# SGo\n") and text.count("S") == 1 and text.count("G") == 1
    np.testing.assert_array_equal(text_to_maze(text).reshape(-1), labels[0])
    np.testing.assert_array_equal(
        text_to_maze(maze_to_text(inputs[0].reshape(15, 15)) + "\n").reshape(-1), inputs[0]
    )
    assert maze_to_text(np.array([[1, 2], [3, 4]])) == "# \nSG"
    with pytest.raises(ValueError, match="characters outside"):
        text_to_maze("#x\n##")
    with pytest.raises(ValueError, match="equal length"):
        text_to_maze("##\n#")
    with pytest.raises(ValueError, match="square"):
        maze_to_text(np.ones(10, np.uint8))


def test_dihedral_augmentation_gives_eight_valid_versions():
    inputs, labels, lengths = generated(15, 20)
    aug_in, aug_out = augment_maze_dihedral(inputs[:3], labels[:3])
    assert aug_in.shape == aug_out.shape == (3, 8, 225)
    grid = inputs[0].reshape(15, 15)
    expected = [
        grid,
        np.rot90(grid),
        np.rot90(grid, 2),
        np.rot90(grid, 3),
        np.fliplr(grid),
        np.flipud(grid),
        grid.T,
        np.fliplr(np.rot90(grid)),
    ]
    for j, e in enumerate(expected):
        np.testing.assert_array_equal(aug_in[0, j].reshape(15, 15), e)
    for i in range(3):
        assert len({v.tobytes() for v in aug_in[i]}) == 8
        for j in range(8):
            assert check_maze(aug_in[i, j], aug_out[i, j], 15) == lengths[i]


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="size"):
        generate_maze(1, 2, 1, 0)
    with pytest.raises(ValueError, match="too long"):
        generate_maze(1, 10, 51, 0)
    with pytest.raises(RuntimeError, match="min-path"):
        generate_maze(1, 4, 8, 0)  # a 2x2-node maze has at most 6 moves
    with pytest.raises(ValueError, match="must both be"):
        augment_maze_dihedral(np.ones((2, 9)), np.ones((2, 16)))
    assert generate_maze(0, 30, 110, 0)[0].shape == (0, 900)
