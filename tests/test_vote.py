"""Voting over augmented predictions: ranking, invalid grids, fallbacks, records and pass@K."""

from __future__ import annotations

import itertools

import numpy as np
import orjson
import pytest

from arcsolve.data.tasks import Task
from arcsolve.predict.vote import VoteTable, pass_at_k, vote_attempts, write_predictions_jsonl
from arcsolve.submission.attempts import (
    as_valid_grid,
    default_fallbacks,
    grid_key,
    guess_output_shape,
    pick_attempts,
)


def g(rows) -> np.ndarray:
    return np.array(rows, dtype=np.uint8)


def make_task(task_id="t", train=None, tests=(((1, 2),),), outputs=None) -> Task:
    train = train or [([[1, 2]], [[2, 1]])]
    return Task(
        task_id=task_id,
        train_pairs=tuple((g(i), g(o)) for i, o in train),
        test_inputs=tuple(g(t) for t in tests),
        test_outputs=None if outputs is None else tuple(g(o) for o in outputs),
        origin="test",
    )


A, B, C = g([[1]]), g([[2]]), g([[3, 3]])


def test_duplicates_collapse_into_one_candidate_with_summed_votes():
    table = VoteTable()
    table.add("t", 0, g([[1, 2], [3, 4]]), 0.2)
    table.add("t", 0, np.array([[1, 2], [3, 4]], dtype=np.int64), 0.4)
    table.add("t", 0, [[1, 2], [3, 4]], 0.9)
    ranked = table.ranked("t", 0)
    assert len(ranked) == 1
    grid, votes, conf = ranked[0]
    assert votes == 3 and conf == pytest.approx(0.5)
    assert grid.dtype == np.uint8 and grid.tolist() == [[1, 2], [3, 4]]


def test_votes_rank_first_then_mean_confidence():
    table = VoteTable()
    for grid, conf in [(A, 0.1), (A, 0.1), (B, 0.9), (C, 0.8), (C, 0.2), (B, 0.95)]:
        table.add("t", 0, grid, conf)
    # A: 2 votes mean 0.1; B: 2 votes mean 0.925; C: 2 votes mean 0.5 -> tie on votes, order by confidence
    table.add("t", 0, g([[7]]), 1.0)  # most confident, but only one vote
    order = [(grid.tolist(), votes) for grid, votes, _ in table.ranked("t", 0)]
    assert order == [([[2]], 2), ([[3, 3]], 2), ([[1]], 2), ([[7]], 1)]


def test_full_ties_have_one_order_whatever_the_arrival_order():
    grids = [g([[5]]), g([[0, 1]]), g([[1], [0]]), g([[0]])]
    orders = set()
    for perm in itertools.permutations(grids):
        table = VoteTable()
        for grid in perm:
            table.add("t", 0, grid, 0.5)
        orders.add(tuple(grid_key(grid) for grid, _, _ in table.ranked("t", 0)))
    assert len(orders) == 1


@pytest.mark.parametrize(
    "bad",
    [
        None,
        np.zeros((2, 2, 2), dtype=np.uint8),
        np.array([[10]]),
        np.array([[-1]]),
        np.array([[1.0]]),
        np.array([[True]]),
        np.array([[256]]),  # must not wrap around to 0
        np.zeros((31, 1), dtype=np.uint8),
        np.zeros((1, 31), dtype=np.uint8),
        np.zeros((0, 3), dtype=np.uint8),
        np.zeros(3, dtype=np.uint8),
        [[1, 2], [3]],
        "grid",
    ],
)
def test_invalid_predictions_get_no_vote_but_are_counted(bad):
    table = VoteTable()
    assert table.add("t", 0, bad, 0.9) is False
    table.add("t", 0, A, 0.1)
    assert [(grid.tolist(), votes) for grid, votes, _ in table.ranked("t", 0)] == [([[1]], 1)]
    assert table.invalid_count("t", 0) == 1
    assert table.stats() == {"cells": 1, "votes": 1, "invalid": 1, "distinct_grids": 1}


def test_edge_shapes_are_valid():
    for shape in [(1, 1), (1, 30), (30, 1), (30, 30)]:
        assert as_valid_grid(np.full(shape, 9, dtype=np.int32)) is not None


def test_nan_confidence_counts_as_zero():
    table = VoteTable()
    table.add("t", 0, A, float("nan"))
    table.add("t", 0, B, 0.1)
    table.add("t", 0, A, 0.4)
    table.add("t", 0, B, 0.1)
    (first, _, conf_a), (second, _, conf_b) = table.ranked("t", 0)
    assert first.tolist() == [[1]] and conf_a == pytest.approx(0.2)
    assert second.tolist() == [[2]] and conf_b == pytest.approx(0.1)


def test_table_keeps_its_own_read_only_copy():
    table = VoteTable()
    buffer = g([[1, 2]])
    table.add("t", 0, buffer, 0.5)
    buffer[0, 0] = 9  # a caller reusing its batch buffer must not change the stored vote
    grid = table.ranked("t", 0)[0][0]
    assert grid.tolist() == [[1, 2]]
    with pytest.raises(ValueError):
        grid[0, 0] = 3


def test_cells_are_independent_and_test_index_is_checked():
    table = VoteTable()
    table.add("t", 0, A, 0.5)
    table.add("t", 1, B, 0.5)
    table.add("u", 0, C, 0.5)
    assert table.cells() == [("t", 0), ("t", 1), ("u", 0)]
    assert table.ranked("t", 1)[0][0].tolist() == [[2]]
    assert table.ranked("nope", 0) == []
    for bad in (-1, 1.0, True, "0"):
        with pytest.raises(ValueError):
            table.add("t", bad, A, 0.5)


def test_merge_equals_one_table_fed_everything():
    votes = [("t", 0, A, 0.3), ("t", 0, B, 0.6), ("t", 1, C, 0.2), ("t", 0, A, 0.9), ("u", 0, None, 0.5)]
    whole, left, right = VoteTable(), VoteTable(), VoteTable()
    for n, vote in enumerate(votes):
        whole.add(*vote)
        (left if n % 2 else right).add(*vote)
    left.merge(right)
    for cell in whole.cells():
        mine = [(grid.tolist(), v, round(c, 12)) for grid, v, c in left.ranked(*cell)]
        theirs = [(grid.tolist(), v, round(c, 12)) for grid, v, c in whole.ranked(*cell)]
        assert mine == theirs
    assert left.stats() == whole.stats()


def test_guess_output_shape():
    same = make_task(train=[([[1, 2]], [[2, 1]]), ([[3], [4]], [[4], [3]])], tests=([[1, 2, 3]],))
    assert guess_output_shape(same, 0) == (1, 3)
    fixed = make_task(train=[([[1, 2]], [[1]]), ([[3], [4]], [[4]]), ([[5]], [[5, 5]])], tests=([[1, 2, 3]],))
    assert guess_output_shape(fixed, 0) == (1, 1)
    tie = make_task(train=[([[1, 2]], [[1, 1, 1]]), ([[3]], [[4], [4]])], tests=([[1]],))
    assert guess_output_shape(tie, 0) == (1, 3)  # the earliest on ties


def test_default_fallbacks_order():
    task = make_task(train=[([[1, 2]], [[7]]), ([[3, 4]], [[7]])], tests=([[5, 6]],))
    first = [grid.tolist() for grid in itertools.islice(default_fallbacks(task, 0), 4)]
    assert first == [[[7]], [[5, 6]], [[0]], [[0, 0]]]  # shared output, input, blanks
    varied = make_task(train=[([[1, 2]], [[2, 1]]), ([[3, 4]], [[4, 3]])], tests=([[5, 6]],))
    grids = [grid.tolist() for grid in default_fallbacks(varied, 0)]
    assert grids[:2] == [[[5, 6]], [[0, 0]]]
    assert len({orjson.dumps(x) for x in grids}) >= 10


def test_fallbacks_fill_to_two_distinct_attempts():
    train = [([[1, 2]], [[2, 1]]), ([[3, 4]], [[4, 3]])]
    task = make_task(train=train, tests=([[5, 6]], [[0, 0]], [[4, 4]]))
    table = VoteTable()
    table.add("t", 0, g([[6, 5]]), 0.9)  # one candidate: attempt_2 comes from the fallbacks
    table.add("t", 2, g([[4, 4]]), 0.9)  # the winner equals the input: the fallback must differ
    attempts = vote_attempts(table, [task], k=2)["t"]
    assert [[a.tolist() for a in test] for test in attempts] == [
        [[[6, 5]], [[5, 6]]],
        [[[0, 0]], [[1, 1]]],  # no votes; the blank grid equals the input, so the next distinct one
        [[[4, 4]], [[0, 0]]],
    ]


def test_attempts_differ_whenever_two_candidates_exist_and_follow_the_ranking():
    task = make_task(tests=([[5, 6]],))
    table = VoteTable()
    for grid, conf in [(A, 0.2), (A, 0.2), (B, 0.9), (C, 0.9), (C, 0.1)]:
        table.add("t", 0, grid, conf)
    attempts = vote_attempts(table, [task], k=2)["t"][0]
    assert [a.tolist() for a in attempts] == [[[3, 3]], [[1]]]


def test_many_attempts_stay_distinct_and_padding_is_last_resort():
    task = make_task(tests=([[0]],))
    attempts = vote_attempts(VoteTable(), [task], k=10)["t"][0]
    assert len({grid_key(a) for a in attempts}) == 10

    def scarce(task, index):
        return [np.array([[1.5]]), [[2]], [[2]], np.zeros((40, 1), dtype=np.uint8)]

    attempts = vote_attempts(VoteTable(), [task], k=3, fallback=scarce)["t"][0]
    assert [a.tolist() for a in attempts] == [[[2]], [[2]], [[2]]]  # invalid ones skipped, then padded
    attempts = pick_attempts([], [], 2)
    assert [a.tolist() for a in attempts] == [[[0]], [[0]]]
    with pytest.raises(ValueError):
        vote_attempts(VoteTable(), [task], k=0)


def test_fallbacks_are_not_consulted_when_votes_suffice():
    def explode(task, index):
        raise AssertionError("fallback consulted")

    task = make_task()
    table = VoteTable()
    table.add("t", 0, A, 0.5)
    table.add("t", 0, B, 0.5)
    assert len(vote_attempts(table, [task], fallback=explode)["t"][0]) == 2


def test_vote_attempts_covers_every_task_and_ignores_unknown_ones():
    tasks = [make_task("b", tests=([[1]], [[2]])), make_task("a")]
    table = VoteTable()
    table.add("zzz", 0, A, 1.0)
    attempts = vote_attempts(table, tasks)
    assert list(attempts) == ["b", "a"]
    assert [len(v) for v in attempts.values()] == [2, 1]


def test_records_and_predictions_jsonl(tmp_path):
    task = make_task(tests=([[5, 6]], [[1, 1]]), outputs=([[6, 5]], [[2]]))
    table = VoteTable()
    table.add("t", 0, A, 0.5)
    table.add("t", 0, g([[6, 5]]), 0.25)
    table.add("t", 0, g([[6, 5]]), 0.75)
    table.add("t", 0, None, 0.5)
    path = tmp_path / "predictions.jsonl"
    write_predictions_jsonl(path, table, [task])
    records = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert records == [
        {
            "task_id": "t",
            "test_index": 0,
            "invalid": 1,
            "votes": 3,
            "candidates": [
                {"grid": [[6, 5]], "votes": 2, "mean_confidence": 0.5},
                {"grid": [[1]], "votes": 1, "mean_confidence": 0.5},
            ],
            "solution_rank": 0,
        },
        {"task_id": "t", "test_index": 1, "invalid": 0, "votes": 0, "candidates": [], "solution_rank": None},
    ]
    short = table.to_jsonl_records(max_candidates=1)
    assert len(short) == 1 and len(short[0]["candidates"]) == 1 and "solution_rank" not in short[0]


def test_pass_at_k():
    solved_first = make_task("a", tests=([[1]],), outputs=([[2]],))
    two_tests = make_task("b", tests=([[1]], [[1]]), outputs=([[3, 3]], [[4]]))
    unknown = make_task("c")
    table = VoteTable()
    table.add("a", 0, B, 0.9)
    table.add("b", 0, A, 0.9)
    table.add("b", 0, A, 0.9)
    table.add("b", 0, C, 0.9)  # the right answer, ranked second
    table.add("b", 1, A, 0.9)  # never right
    result = pass_at_k(table, [solved_first, two_tests, unknown], ks=(1, 2, 1000))
    assert result == {1: pytest.approx(0.5), 2: pytest.approx(0.75), 1000: pytest.approx(0.75)}
    assert pass_at_k(table, [unknown]) == {}
