"""Training batch packing: whole puzzles, one version per group, deterministic, resumable, rank slices."""

from __future__ import annotations

import numpy as np
import pytest

from arcsolve.train.batches import BatchCursor, TrainBatches, epoch_batches, eval_batches


def toy_index(examples_per_puzzle: list[list[int]]):
    """groups -> puzzles -> example counts, as (group_index, puzzle_index)."""
    puzzle_sizes = [n for group in examples_per_puzzle for n in group]
    puzzle_index = np.concatenate([[0], np.cumsum(puzzle_sizes)]).astype(np.int64)
    group_index = np.concatenate([[0], np.cumsum([len(g) for g in examples_per_puzzle])]).astype(np.int64)
    return group_index, puzzle_index


def puzzle_of(puzzle_index: np.ndarray, example: int) -> int:
    return int(np.searchsorted(puzzle_index, example, side="right") - 1)


def test_each_batch_is_full_and_takes_one_version_per_group():
    group_index, puzzle_index = toy_index([[3, 3, 3], [2, 2], [4], [1, 1, 1, 1], [3, 3]])
    batches = epoch_batches(group_index, puzzle_index, batch_size=4, seed=0, epoch=0)
    assert batches and all(len(b) == 4 for b in batches)
    used = np.concatenate(batches)
    assert len(np.unique(used)) == len(used)  # no example twice in an epoch
    groups = np.searchsorted(group_index, [puzzle_of(puzzle_index, e) for e in used], side="right") - 1
    puzzles = {puzzle_of(puzzle_index, e) for e in used}
    assert len(puzzles) == len(set(groups.tolist()))  # one puzzle (version) per group


def test_whole_puzzles_stay_together_unless_cut_at_the_end_of_a_batch():
    group_index, puzzle_index = toy_index([[2]] * 10)
    for batch in epoch_batches(group_index, puzzle_index, batch_size=6, seed=3, epoch=1):
        puzzles = [puzzle_of(puzzle_index, e) for e in batch]
        assert all(puzzles.count(p) == 2 for p in set(puzzles))


def test_deterministic_per_seed_and_epoch_and_different_across_epochs():
    group_index, puzzle_index = toy_index([[1] * 5] * 40)
    a = epoch_batches(group_index, puzzle_index, 8, seed=1, epoch=0)
    b = epoch_batches(group_index, puzzle_index, 8, seed=1, epoch=0)
    c = epoch_batches(group_index, puzzle_index, 8, seed=1, epoch=1)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c, strict=False))


def test_resume_from_cursor_continues_the_same_stream():
    group_index, puzzle_index = toy_index([[1] * 3] * 20)
    straight = TrainBatches(group_index, puzzle_index, 4, seed=5)
    first = [straight.next() for _ in range(12)]  # crosses an epoch boundary (5 batches/epoch)
    resumed = TrainBatches(group_index, puzzle_index, 4, seed=5)
    for _ in range(7):
        resumed.next()
    again = TrainBatches(group_index, puzzle_index, 4, seed=5, cursor=BatchCursor(**vars(resumed.cursor)))
    assert all(np.array_equal(x, y) for x, y in zip(first[7:], [again.next() for _ in range(5)], strict=True))


def test_ranks_split_each_global_batch():
    group_index, puzzle_index = toy_index([[2] * 2] * 30)
    whole = TrainBatches(group_index, puzzle_index, 8, seed=2).next()
    parts = [
        TrainBatches(group_index, puzzle_index, 8, seed=2, rank=r, world_size=2).next() for r in range(2)
    ]
    np.testing.assert_array_equal(np.concatenate(parts), whole)


def test_too_small_dataset_is_a_clear_error():
    group_index, puzzle_index = toy_index([[1], [1]])
    with pytest.raises(ValueError, match="no full batch"):
        TrainBatches(group_index, puzzle_index, 8, seed=0)


def test_eval_batches_cover_everything_once_in_order():
    chunks = eval_batches(10, 4)
    np.testing.assert_array_equal(np.concatenate(chunks), np.arange(10))
    shares = [np.concatenate(eval_batches(10, 3, rank=r, world_size=2)) for r in range(2)]
    np.testing.assert_array_equal(np.sort(np.concatenate(shares)), np.arange(10))


# The reference stream ("reference" step accounting): epochs are one stream within an interval.


def test_reference_stream_spans_epochs_and_drops_one_partial_batch_per_interval():
    group_index, puzzle_index = toy_index([[1]] * 10)  # 10 groups, one 1-example puzzle each: no cuts
    stream = TrainBatches(group_index, puzzle_index, 4, seed=3, accounting="reference", epochs_per_interval=3)
    batches = [stream.next_global() for _ in range(8)]
    orders = [np.concatenate(epoch_batches(group_index, puzzle_index, 1, seed=3, epoch=e)) for e in range(4)]
    interval = np.concatenate(orders[:3])  # 30 picks -> 7 full batches, the last 2 picks dropped
    for i in range(7):
        np.testing.assert_array_equal(batches[i], np.sort(interval[4 * i : 4 * i + 4]))
    np.testing.assert_array_equal(batches[7], np.sort(orders[3][:4]))  # the next interval starts afresh
    assert stream.cursor == BatchCursor(3, 4)
    whole = TrainBatches(group_index, puzzle_index, 4, seed=3)
    assert whole.batches_per_epoch() * 3 == 6  # whole-batch epochs: one batch fewer over the same data


def test_reference_stream_cuts_the_overflowing_puzzle_and_resumes_mid_interval():
    group_index, puzzle_index = toy_index([[3, 3], [3], [3, 3, 3]] * 4)
    make = dict(batch_size=4, seed=1, accounting="reference", epochs_per_interval=5)
    straight = TrainBatches(group_index, puzzle_index, **make)
    first = [straight.next_global() for _ in range(20)]
    for batch in first:  # whole puzzles plus a random part of the one that overflows, no row twice
        assert len(batch) == 4 and len(np.unique(batch)) == 4
        counts = np.bincount([puzzle_of(puzzle_index, e) for e in batch])
        assert sorted(c for c in counts if c) in ([1, 3], [2, 2], [1, 1, 2], [4])
    partway = TrainBatches(group_index, puzzle_index, **make)
    for _ in range(9):
        partway.next_global()
    again = TrainBatches(group_index, puzzle_index, **make, cursor=BatchCursor(**vars(partway.cursor)))
    for expected in first[9:]:
        np.testing.assert_array_equal(again.next_global(), expected)


def test_reference_stream_rank_slices_make_up_the_sorted_global_batch():
    group_index, puzzle_index = toy_index([[2, 3]] * 30)
    make = dict(batch_size=8, seed=2, accounting="reference", epochs_per_interval=2)
    whole = TrainBatches(group_index, puzzle_index, **make).next()
    parts = [TrainBatches(group_index, puzzle_index, **make, rank=r, world_size=4).next() for r in range(4)]
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    assert np.all(np.diff(whole) >= 0)


def test_reference_stream_refuses_an_interval_that_may_not_fill_a_batch():
    group_index, puzzle_index = toy_index([[1, 5], [1]])  # at worst 2 examples per epoch
    with pytest.raises(ValueError, match="no full batch"):
        TrainBatches(group_index, puzzle_index, 8, seed=0, accounting="reference", epochs_per_interval=3)
    TrainBatches(group_index, puzzle_index, 8, seed=0, accounting="reference", epochs_per_interval=4)
