"""Adaptive computation time (ACT) around the TRM: the carry, halting, and one supervision step.

A batch slot holds one sequence until that sequence halts; only then does the slot take the next
batch's row (adaptive computational time, paper §2.5 and §4.6; the reference's ACT wrapper in
models/recursive_reasoning/trm.py). So each call of `act_step`:
1. resets the slots that halted last call (y, z to the init vectors, steps to 0) and loads the new
   batch's rows into them; slots still running keep their data and the new rows there are dropped;
2. runs one TRM supervision step; steps += 1;
3. decides halting: always at halt_max_steps; in training also when q_halt > 0, except that with
   probability `halt_exploration_prob` (drawn afresh every step, per row, as in the reference) a
   row gets a minimum step count uniform in [2, halt_max_steps] and cannot halt before it.
   In eval nothing halts early: every row runs exactly halt_max_steps steps.
y and z are detached between steps, so each backward covers one supervision step (deep supervision).
The loss must use the data in the carry (`StepOutputs.labels`), not the batch just passed in.

The training / eval switch is `model.training`. Randomness comes only from the `generator` argument.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from arcsolve.model.trm import TRM

Batch = dict[str, torch.Tensor]  # "inputs" (B, L) int, "labels" (B, L) int, "puzzle_ids" (B,) int


@dataclass
class Carry:
    y: torch.Tensor  # (B, P+L, D) forward dtype
    z: torch.Tensor  # (B, P+L, D)
    steps: torch.Tensor  # (B,) int32, supervision steps taken by the sequence in each slot
    halted: torch.Tensor  # (B,) bool: the slot takes a new row on the next call
    inputs: torch.Tensor  # (B, L) the data of the sequence currently in each slot
    labels: torch.Tensor  # (B, L)
    puzzle_ids: torch.Tensor  # (B,)


@dataclass
class StepOutputs:
    logits: torch.Tensor  # (B, L, V)
    q_halt_logits: torch.Tensor  # (B,) float32
    inputs: torch.Tensor  # (B, L) the carry's data these outputs belong to
    labels: torch.Tensor  # (B, L)
    puzzle_ids: torch.Tensor  # (B,)
    steps: torch.Tensor  # (B,) steps taken including this one
    halted: torch.Tensor  # (B,) halted at this step
    # (B, D) leaf holding this step's task vectors; after backward its .grad is what
    # SparseSignSGD.step(puzzle_ids, puzzle_rows.grad) needs. Does not require grad in eval.
    puzzle_rows: torch.Tensor


def initial_carry(model: TRM, batch: Batch) -> Carry:
    """Every slot halted, so the first `act_step` loads the whole batch."""
    inputs = batch["inputs"]
    B, device = inputs.shape[0], inputs.device
    shape = (B, model.seq_total, model.cfg.hidden_size)
    dtype = model.cfg.dtype_for(device)
    return Carry(
        y=torch.zeros(shape, dtype=dtype, device=device),
        z=torch.zeros(shape, dtype=dtype, device=device),
        steps=torch.zeros(B, dtype=torch.int32, device=device),
        halted=torch.ones(B, dtype=torch.bool, device=device),
        inputs=torch.zeros_like(inputs),
        labels=torch.zeros_like(batch["labels"]),
        puzzle_ids=torch.zeros_like(batch["puzzle_ids"]),
    )


def act_step(
    model: TRM,
    carry: Carry,
    batch: Batch,
    generator: torch.Generator | None = None,
    min_steps: torch.Tensor | None = None,
) -> tuple[Carry, StepOutputs]:
    """One supervision step for every slot; returns the next carry and this step's outputs.

    `min_steps` (B,): this step's exploration draws, made by the caller (training draws them once for
    the whole global batch and gives every rank and micro-batch its slice); None draws them here
    from `generator`."""
    cfg = model.cfg
    reset = carry.halted
    inputs = torch.where(reset[:, None], batch["inputs"], carry.inputs)
    labels = torch.where(reset[:, None], batch["labels"], carry.labels)
    puzzle_ids = torch.where(reset, batch["puzzle_ids"], carry.puzzle_ids)
    y = torch.where(reset[:, None, None], model.y_init.to(carry.y.dtype), carry.y)
    z = torch.where(reset[:, None, None], model.z_init.to(carry.z.dtype), carry.z)
    steps = torch.where(reset, 0, carry.steps) + 1

    puzzle_rows = model.puzzle_emb[puzzle_ids]  # (B, D), a copy of the rows
    if model.training and torch.is_grad_enabled():
        puzzle_rows.requires_grad_(True)  # a leaf: its grad is the sparse gradient of the table

    y, z, logits, q_halt = model(inputs, puzzle_rows, y, z)

    with torch.no_grad():
        halted = steps >= cfg.halt_max_steps
        if model.training and cfg.halt_max_steps > 1:
            halted = halted | (q_halt > 0)
            if cfg.halt_exploration_prob > 0:
                if min_steps is None:
                    min_steps = exploration_min_steps(
                        cfg.halt_max_steps, cfg.halt_exploration_prob, steps.shape[0], generator
                    )
                halted = halted & (steps >= min_steps.to(steps.device, steps.dtype))

    new_carry = Carry(y.detach(), z.detach(), steps, halted, inputs, labels, puzzle_ids)
    outputs = StepOutputs(logits, q_halt, inputs, labels, puzzle_ids, steps, halted, puzzle_rows)
    return new_carry, outputs


def exploration_min_steps(
    max_steps: int, prob: float, rows: int, generator: torch.Generator | None
) -> torch.Tensor:
    """(rows,) per-row minimum steps: 0 (no constraint), or with probability `prob` uniform in [2, max_steps].

    On the generator's device; int64."""
    if generator is None:
        raise ValueError("act_step in training mode needs a torch.Generator for halting exploration")
    explore = torch.rand(rows, generator=generator, device=generator.device) < prob
    minimum = torch.randint(2, max_steps + 1, (rows,), generator=generator, device=generator.device)
    return explore * minimum


@torch.no_grad()
def evaluate_batch(model: TRM, batch: Batch) -> StepOutputs:
    """Run every row for exactly halt_max_steps steps (eval mode) and return the last step's outputs.

    The model must be in eval mode; predictions are `outputs.logits.argmax(-1)` and the halting
    confidence `outputs.q_halt_logits` (used to break vote ties).
    """
    if model.training:
        raise ValueError("evaluate_batch needs model.eval(): training mode halts rows early")
    carry = initial_carry(model, batch)
    outputs = None
    for _ in range(model.cfg.halt_max_steps):
        carry, outputs = act_step(model, carry, batch)
    assert outputs is not None  # every row halted at the last step (steps >= halt_max_steps)
    return outputs
