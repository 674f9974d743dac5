"""How many optimizer steps a run takes and where it evaluates, from the train split's shape alone.

`train.step_accounting = "reference"` (default) counts steps as the reference's pretrain.py does:
    total_steps = int(epochs x groups x mean examples per puzzle / global_batch_size)
(a step is one ACT supervision step on one global batch), and evaluations every `eval_every_epochs`
epochs fall at int(k x eval_every_epochs x groups x mean / batch). "whole_batches" counts
epochs x the full batches of an epoch packed on its own (the last partial batch of every epoch is
dropped, about half a batch per epoch fewer; see train/batches.py). `max_steps > 0` overrides both.
`eval_every` counts steps; `eval_every_epochs` counts epochs (the reference's eval_interval); at most
one of them is set, and the last step always evaluates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arcsolve.train.batches import reference_total_steps
from arcsolve.train.config import TrainConfig


@dataclass(frozen=True)
class TrainShape:
    """The train split's size: task groups, puzzles (augmented versions) and example rows."""

    groups: int
    puzzles: int
    examples: int

    @classmethod
    def of_indices(cls, group_index: np.ndarray, puzzle_index: np.ndarray) -> TrainShape:
        return cls(len(group_index) - 1, len(puzzle_index) - 1, int(puzzle_index[-1]))

    @property
    def mean_examples(self) -> float:
        return self.examples / self.puzzles


@dataclass(frozen=True)
class StepPlan:
    total_steps: int
    eval_steps: tuple[int, ...]  # ascending; always ends with total_steps
    steps_per_epoch: float
    epochs_per_interval: int  # where the "reference" stream drops its partial batch


def epochs_per_interval(tc: TrainConfig) -> int:
    """The reference packs eval_interval epochs into one stream (all epochs when it has none)."""
    return tc.eval_every_epochs if tc.eval_every_epochs > 0 else tc.epochs


def step_plan(tc: TrainConfig, shape: TrainShape, whole_batches_per_epoch: int | None = None) -> StepPlan:
    """`whole_batches_per_epoch`: the packed count for "whole_batches" (estimated from the mean if None)."""
    batch = tc.global_batch_size
    if tc.step_accounting == "reference":
        per_epoch = shape.groups * shape.mean_examples / batch
        derived = reference_total_steps(tc.epochs, shape.groups, shape.puzzles, shape.examples, batch)
    else:
        per_epoch = float(
            whole_batches_per_epoch
            if whole_batches_per_epoch is not None
            else int(shape.groups * shape.mean_examples // batch)
        )
        derived = tc.epochs * int(per_epoch)
    total = tc.max_steps if tc.max_steps > 0 else derived
    if tc.eval_every > 0:
        points = list(range(tc.eval_every, total, tc.eval_every))
    elif tc.eval_every_epochs > 0:
        k, points = 1, []
        while (step := int(k * tc.eval_every_epochs * per_epoch)) < total:
            if step > 0 and (not points or step > points[-1]):
                points.append(step)
            k += 1
    else:
        points = []
    return StepPlan(total, (*points, total), per_epoch, epochs_per_interval(tc))
