"""Which examples go into each training batch, as index arrays (no tokens are touched here).

Training batches are packed the way TRM packs them: walk through the task groups (an original task
and its augmented versions) in a random order; from each group take one random version (a puzzle)
and add all of its examples, until the global batch is full. The puzzle that overflows is cut to
fit (a random subset of its examples).

Where a partial batch is dropped is the one thing the two step accountings (`train.step_accounting`)
do differently:
- "reference" (default): the group orders of consecutive epochs are one stream, as in the reference's
  `puzzle_dataset.py`, which concatenates the permutations of an evaluation interval's epochs and
  drops the partial batch once, at the end of the interval (`epochs_per_interval`). A batch may hold
  the end of one epoch and the start of the next.
- "whole_batches": every epoch is packed on its own and its last partial batch is dropped.

Everything is a pure function of (seed, epoch, position), so `--resume` only needs a cursor to
continue the same data order, on any number of ranks. The global batch is sorted (sequential reads
from the memmap) before it is cut into rank slices, so slot i of the global batch holds the same row
whatever the number of ranks or micro-batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

Accounting = Literal["reference", "whole_batches"]


def _epoch_picks(
    group_index: np.ndarray, seed: int, epoch: int, ordered_groups: int = 0
) -> tuple[np.ndarray, np.random.Generator]:
    """The chosen puzzle of every group, in the epoch's group order, and the generator after the draws.

    ordered_groups: in epoch 0 the first this many groups come first, in their stored order, and only
    the rest is shuffled: a curriculum (the maze builder's `curriculum` stages) must reach the model
    before the target-size data. Later epochs shuffle every group (the stages then mix in)."""
    rng = np.random.default_rng([seed, epoch])
    num_groups = len(group_index) - 1
    if epoch == 0 and ordered_groups > 0:
        rest = ordered_groups + rng.permutation(num_groups - ordered_groups)
        order = np.concatenate([np.arange(ordered_groups, dtype=rest.dtype), rest])
    else:
        order = rng.permutation(num_groups)
    group_sizes = np.diff(group_index)[order]
    return group_index[order] + (rng.random(num_groups) * group_sizes).astype(np.int64), rng


def epoch_batches(
    group_index: np.ndarray,
    puzzle_index: np.ndarray,
    batch_size: int,
    seed: int,
    epoch: int,
    ordered_groups: int = 0,
) -> list[np.ndarray]:
    """All full global batches of one epoch packed on its own ("whole_batches"), each an int64 array
    of `batch_size` example indices."""
    chosen_puzzles, rng = _epoch_picks(group_index, seed, epoch, ordered_groups)
    batches: list[np.ndarray] = []
    current: list[np.ndarray] = []
    filled = 0
    for puzzle in chosen_puzzles:
        start, stop = int(puzzle_index[puzzle]), int(puzzle_index[puzzle + 1])
        examples = np.arange(start, stop, dtype=np.int64)
        room = batch_size - filled
        if len(examples) > room:  # the overflowing puzzle contributes a random subset
            examples = rng.choice(examples, size=room, replace=False)
        current.append(examples)
        filled += len(examples)
        if filled == batch_size:
            batches.append(np.concatenate(current))
            current, filled = [], 0
    return batches  # the last partial batch is dropped


def _ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The concatenation of arange(s, s + n) for every (s, n), without a Python loop."""
    total = int(sizes.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(sizes)[:-1]]), sizes)
    return np.arange(total, dtype=np.int64) + offsets


@dataclass
class BatchCursor:
    """Where the training data stream stands: saved in checkpoints so resume continues the same order.

    "whole_batches": `batch` full batches of `epoch` are used. "reference": the next batch starts at
    the `batch`-th group pick of `epoch` (the position in that epoch's group order)."""

    epoch: int = 0
    batch: int = 0


class TrainBatches:
    """An endless stream of global batches; each rank takes its own contiguous slice of every batch."""

    def __init__(
        self,
        group_index: np.ndarray,
        puzzle_index: np.ndarray,
        batch_size: int,
        seed: int,
        rank: int = 0,
        world_size: int = 1,
        cursor: BatchCursor | None = None,
        accounting: Accounting = "whole_batches",
        epochs_per_interval: int = 1,
        ordered_groups: int = 0,
    ) -> None:
        if batch_size % world_size:
            raise ValueError(f"global batch {batch_size} does not split over {world_size} ranks")
        if epochs_per_interval < 1:
            raise ValueError(f"epochs_per_interval must be >= 1, got {epochs_per_interval}")
        self.group_index = np.asarray(group_index, dtype=np.int64)
        self.puzzle_index = np.asarray(puzzle_index, dtype=np.int64)
        self.batch_size = batch_size
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.cursor = cursor or BatchCursor()
        self.accounting = accounting
        self.epochs_per_interval = epochs_per_interval
        if not 0 <= ordered_groups <= len(self.group_index) - 1:
            raise ValueError(f"ordered_groups {ordered_groups} is not 0..{len(self.group_index) - 1}")
        self.ordered_groups = ordered_groups  # see _epoch_picks; the dataset's meta "ordered_groups"
        self._epoch_cache: tuple[int, list[np.ndarray]] | None = None
        self._picks_cache: tuple[int, np.ndarray, np.ndarray] | None = None
        examples = int(self.puzzle_index[-1])
        if accounting == "whole_batches" and not self._batches(self.cursor.epoch):
            raise ValueError(
                f"an epoch yields no full batch of {batch_size} (the train split has {examples} examples)"
            )
        if accounting == "reference":
            # The fewest examples an interval can hold: every group gives its smallest version.
            sizes = np.diff(self.puzzle_index)
            smallest = np.minimum.reduceat(sizes, self.group_index[:-1]) if len(sizes) else sizes
            if int(smallest.sum()) * epochs_per_interval < batch_size:
                raise ValueError(
                    f"an interval of {epochs_per_interval} epoch(s) may yield no full batch of {batch_size} "
                    f"(the train split has {examples} examples)"
                )

    def _batches(self, epoch: int) -> list[np.ndarray]:
        if self._epoch_cache is None or self._epoch_cache[0] != epoch:
            batches = epoch_batches(
                self.group_index, self.puzzle_index, self.batch_size, self.seed, epoch, self.ordered_groups
            )
            self._epoch_cache = (epoch, batches)
        return self._epoch_cache[1]

    def batches_per_epoch(self) -> int:
        """Full batches in the cursor's epoch ("whole_batches" only: the count varies per epoch)."""
        return len(self._batches(self.cursor.epoch))

    def _picks(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """The epoch's chosen puzzles in group order and their example counts."""
        if self._picks_cache is None or self._picks_cache[0] != epoch:
            chosen, _ = _epoch_picks(self.group_index, self.seed, epoch, self.ordered_groups)
            sizes = self.puzzle_index[chosen + 1] - self.puzzle_index[chosen]
            self._picks_cache = (epoch, chosen, sizes)
        return self._picks_cache[1], self._picks_cache[2]

    def _next_reference(self) -> np.ndarray:
        epoch, pick = self.cursor.epoch, self.cursor.batch
        interval_end = (epoch // self.epochs_per_interval + 1) * self.epochs_per_interval
        parts: list[np.ndarray] = []
        filled = 0
        while filled < self.batch_size:
            chosen, sizes = self._picks(epoch)
            if pick == len(chosen):  # the epoch's groups are used up: the stream goes on with the next
                epoch, pick = epoch + 1, 0
                if epoch == interval_end:  # the interval ends: its partial batch is dropped, once
                    parts, filled = [], 0
                    interval_end += self.epochs_per_interval
                continue
            room = self.batch_size - filled
            fitting = np.searchsorted(np.cumsum(sizes[pick:]), room, side="right")  # whole puzzles that fit
            whole = chosen[pick : pick + fitting]
            parts.append(_ranges(self.puzzle_index[whole], sizes[pick : pick + fitting]))
            filled += int(sizes[pick : pick + fitting].sum())
            pick += int(fitting)
            if filled < self.batch_size and pick < len(chosen):  # the overflowing puzzle: a random subset
                puzzle = int(chosen[pick])
                start = int(self.puzzle_index[puzzle])
                rng = np.random.default_rng([self.seed, epoch, pick, 1])
                subset = rng.choice(int(sizes[pick]), size=self.batch_size - filled, replace=False)
                parts.append(start + subset.astype(np.int64))
                filled, pick = self.batch_size, pick + 1
        self.cursor = BatchCursor(epoch, pick)
        return np.concatenate(parts)

    def next_global(self) -> np.ndarray:
        """The whole next global batch (every rank's rows), sorted."""
        if self.accounting == "reference":
            return np.sort(self._next_reference())
        batches = self._batches(self.cursor.epoch)
        if self.cursor.batch >= len(batches):
            self.cursor = BatchCursor(self.cursor.epoch + 1, 0)
            batches = self._batches(self.cursor.epoch)
        batch = batches[self.cursor.batch]
        self.cursor = BatchCursor(self.cursor.epoch, self.cursor.batch + 1)
        return np.sort(batch)

    def next(self) -> np.ndarray:
        """This rank's example indices for the next batch: its contiguous slice of the sorted global batch."""
        batch = self.next_global()
        per_rank = self.batch_size // self.world_size
        return batch[self.rank * per_rank : (self.rank + 1) * per_rank]


def reference_total_steps(epochs: int, groups: int, puzzles: int, examples: int, batch_size: int) -> int:
    """The reference's step count (its pretrain.py): int(epochs x groups x mean examples per puzzle / batch).

    With a random version per group, an epoch holds about groups x mean examples; the training
    schedule runs over exactly this many optimizer steps."""
    return int(epochs * groups * (examples / puzzles) / batch_size)


def eval_batches(num_examples: int, batch_size: int, rank: int = 0, world_size: int = 1) -> list[np.ndarray]:
    """Test-split examples in order, this rank's share, in chunks of `batch_size` (the last may be short)."""
    mine = np.arange(rank, num_examples, world_size, dtype=np.int64)
    return [mine[i : i + batch_size] for i in range(0, len(mine), batch_size)]
