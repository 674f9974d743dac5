"""Which examples go into each training batch, as index arrays (no tokens are touched here).

Training batches are packed the way TRM packs them: walk through the task groups (an original task
and its augmented versions) in a random order; from each group take one random version (a puzzle)
and add all of its examples, until the global batch is full. The puzzle that overflows is cut to
fit (a random subset of its examples) and the last partial batch of an epoch is dropped.

Everything is a pure function of (seed, epoch), so `--resume` only needs (epoch, batch) to continue
the same data order, on any number of ranks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def epoch_batches(
    group_index: np.ndarray, puzzle_index: np.ndarray, batch_size: int, seed: int, epoch: int
) -> list[np.ndarray]:
    """All full global batches of one epoch, each an int64 array of `batch_size` example indices."""
    rng = np.random.default_rng([seed, epoch])
    num_groups = len(group_index) - 1
    order = rng.permutation(num_groups)
    group_sizes = np.diff(group_index)[order]
    chosen_puzzles = group_index[order] + (rng.random(num_groups) * group_sizes).astype(np.int64)

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


@dataclass
class BatchCursor:
    """Where the training data stream stands: saved in checkpoints so resume continues the same order."""

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
    ) -> None:
        if batch_size % world_size:
            raise ValueError(f"global batch {batch_size} does not split over {world_size} ranks")
        self.group_index = np.asarray(group_index, dtype=np.int64)
        self.puzzle_index = np.asarray(puzzle_index, dtype=np.int64)
        self.batch_size = batch_size
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.cursor = cursor or BatchCursor()
        self._epoch_cache: tuple[int, list[np.ndarray]] | None = None
        if not self._batches(self.cursor.epoch):
            examples = int(self.puzzle_index[-1])
            raise ValueError(
                f"an epoch yields no full batch of {batch_size} (the train split has {examples} examples)"
            )

    def _batches(self, epoch: int) -> list[np.ndarray]:
        if self._epoch_cache is None or self._epoch_cache[0] != epoch:
            batches = epoch_batches(self.group_index, self.puzzle_index, self.batch_size, self.seed, epoch)
            self._epoch_cache = (epoch, batches)
        return self._epoch_cache[1]

    def batches_per_epoch(self) -> int:
        return len(self._batches(self.cursor.epoch))

    def next(self) -> np.ndarray:
        """This rank's example indices for the next batch (sorted within the slice is not needed)."""
        batches = self._batches(self.cursor.epoch)
        if self.cursor.batch >= len(batches):
            self.cursor = BatchCursor(self.cursor.epoch + 1, 0)
            batches = self._batches(self.cursor.epoch)
        batch = batches[self.cursor.batch]
        self.cursor = BatchCursor(self.cursor.epoch, self.cursor.batch + 1)
        per_rank = self.batch_size // self.world_size
        return batch[self.rank * per_rank : (self.rank + 1) * per_rank]


def eval_batches(num_examples: int, batch_size: int, rank: int = 0, world_size: int = 1) -> list[np.ndarray]:
    """Test-split examples in order, this rank's share, in chunks of `batch_size` (the last may be short)."""
    mine = np.arange(rank, num_examples, world_size, dtype=np.int64)
    return [mine[i : i + batch_size] for i in range(0, len(mine), batch_size)]
