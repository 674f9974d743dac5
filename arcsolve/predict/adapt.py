"""Test-time adaptation: task embeddings for tasks the checkpoint never saw, learned from their train pairs.

A checkpoint holds one learned embedding per task version it was trained on; a hidden Kaggle task has
none, and the blank embedding knows nothing about it. Adaptation gives each unseen task versions of
its own and trains their embeddings:
1. every unseen task with a test input that fits the canvas gets the identity plus up to `aug`
   distinct random versions (dihedral x colour map), encoded by the dataset builder's own code
   (`encode_task_versions`, translation and black-permutation as in the checkpoint's recipe) from its
   train pairs that fit the canvas; its test outputs are never looked at;
2. each version gets a fresh puzzle id appended to the checkpoint's task table, initialised to the
   mean of the trained rows (the blank row 0 left out);
3. all unseen tasks train together through the training step itself (`arcsolve/train/step.py`,
   with the checkpoint's [train] settings at the adaptation rates): batches of (version, train pair)
   examples drawn without replacement epoch after epoch, one ACT supervision step per optimizer step
   with the carry (deep supervision), sparse sign-SGD on the rows of the batch, which are new rows
   only, so every trained row stays bit-identical. `model = "last"` also trains the last block of the
   shared network and the two heads (the recursion applies the same blocks over and over, so "last
   layer" means the block every net call ends with, plus the heads reading the answer); `"all"`
   trains every weight; both with the checkpoint's optimizer (AdamATan2 or AdamW) at `weights_lr()`. `"none"` freezes the weights;
4. the adapted tasks join the checkpoint's task list and augmentation table, so `plan_views` answers
   them like trained tasks: their versions, identity first, each with its own embedding.

With `holdout`, each task's last train pair (when it has two or more) is left out of step 3 and
answered on every version, exact match, before and after adapting: a score without test outputs.
Deterministic for a seed: versions, offsets and batches come from NumPy generators seeded with the
seed (and the task id), halting exploration from a seeded torch generator.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import torch

from arcsolve.constants import AUG_TABLE_COLUMNS, INT32_MAX, PAD_TOKEN
from arcsolve.data.arc_builder import encode_task_versions
from arcsolve.data.build_configs import ArcBuildConfig
from arcsolve.data.tasks import Task
from arcsolve.errors import BadInputError, RunFailure
from arcsolve.model.act import evaluate_batch
from arcsolve.model.trm import TRM
from arcsolve.predict.config import AdaptConfig, PredictConfig
from arcsolve.predict.model import PredictModel
from arcsolve.predict.views import task_seed
from arcsolve.progress import progress_bar
from arcsolve.runtime import arrays_to_batch
from arcsolve.train.distributed import DistInfo
from arcsolve.train.state import TrainState, build_optimizers
from arcsolve.train.step import train_step

SINGLE_PROCESS = DistInfo()
_BATCH_STREAM = 0xADA  # second seed word of the batch-order generator


@dataclass(frozen=True)
class AdaptExamples:
    """The examples of every task to adapt; version v of the whole run gets puzzle id first_id + v."""

    task_ids: tuple[str, ...]  # adapted tasks, in source order
    aug_rows: np.ndarray  # int32 [V, 12]: task index (into task_ids), dihedral, colour map
    inputs: np.ndarray  # uint8 [E, L] train examples
    labels: np.ndarray  # uint8 [E, L]
    version: np.ndarray  # int64 [E]
    held_inputs: np.ndarray  # uint8 [H, L] held-out pairs (holdout only), every version
    held_labels: np.ndarray
    held_version: np.ndarray  # int64 [H]

    def __len__(self) -> int:
        return int(self.inputs.shape[0])


def _fits(grid: np.ndarray, canvas: int) -> bool:
    return max(grid.shape) <= canvas


def _adaptable(task: Task, canvas: int, holdout: bool) -> Task | None:
    """The task as adaptation sees it: train pairs that fit, no test outputs; with `holdout` its
    last train pair moves into the test slot (with its output). None when nothing can be adapted."""
    tests = tuple(g for g in task.test_inputs if _fits(g, canvas))
    pairs = tuple(p for p in task.train_pairs if _fits(p[0], canvas) and _fits(p[1], canvas))
    if not tests or not pairs:
        return None
    if holdout and len(pairs) >= 2:
        return replace(
            task, train_pairs=pairs[:-1], test_inputs=(pairs[-1][0],), test_outputs=(pairs[-1][1],)
        )
    return replace(task, train_pairs=pairs, test_inputs=tests, test_outputs=None)


def adapt_examples(
    tasks: list[Task],
    known_task_ids: tuple[str, ...],
    canvas: int,
    cfg: AdaptConfig,
    seed: int,
    translate: bool = True,
    permute_black: bool = False,
) -> AdaptExamples:
    """Versions and examples of every task not in `known_task_ids` (see the module docstring)."""
    known = set(known_task_ids)
    recipe = ArcBuildConfig(
        source="adapt", aug=cfg.aug, canvas=canvas, translate=translate, permute_black=permute_black
    )
    views = [(t.task_id, _adaptable(t, canvas, cfg.holdout)) for t in tasks if t.task_id not in known]
    views = [(task_id, view) for task_id, view in views if view is not None]
    rngs = [np.random.default_rng(task_seed(seed, task_id)) for task_id, _ in views]
    encoded = encode_task_versions([view for _, view in views], rngs, recipe)
    n = encoded.versions
    task_of_version = np.repeat(np.arange(len(views)), n)
    rows = np.empty((task_of_version.shape[0], AUG_TABLE_COLUMNS), dtype=np.int32)
    rows[:, 0], rows[:, 1], rows[:, 2:] = task_of_version, encoded.dihedrals, encoded.colour_maps
    version = np.arange(task_of_version.shape[0], dtype=np.int64)
    pairs = np.array([len(view.train_pairs) for _, view in views], dtype=np.int64)
    tests = np.array([len(view.test_inputs) for _, view in views], dtype=np.int64)
    held = np.array([view.test_outputs is not None for _, view in views], dtype=bool)
    held_rows = np.repeat(np.repeat(held, n), np.repeat(tests, n))  # test rows of held-out pairs
    # (every view with a held-out pair has exactly that one test row per version)
    return AdaptExamples(
        task_ids=tuple(task_id for task_id, _ in views),
        aug_rows=rows,
        inputs=encoded.train_inputs,
        labels=encoded.train_labels,
        version=np.repeat(version, np.repeat(pairs, n)),
        held_inputs=encoded.test_inputs[held_rows],
        held_labels=encoded.test_labels[held_rows],
        held_version=version[np.repeat(held, n)],
    )


def extend_table(model: TRM, new_rows: int) -> int:
    """Append `new_rows` rows, each the mean of the trained rows (ids 1..N-1), to the task table;
    return the first new id."""
    table = model.puzzle_emb
    first = table.shape[0]
    trained = table[1:]
    mean = trained.mean(dim=0) if trained.shape[0] else torch.zeros_like(table[0])
    model.puzzle_emb = torch.cat([table, mean.expand(new_rows, -1)])
    return first


def trainable_weights(model: TRM, which: str) -> list[torch.nn.Parameter]:
    """The weights adaptation trains: none, the last block plus both heads, or all."""
    if which == "none":
        return []
    if which == "all":
        return list(model.parameters())
    return [*model.blocks[-1].parameters(), *model.lm_head.parameters(), *model.q_head.parameters()]


@torch.no_grad()
def row_accuracy(
    model: TRM, inputs: np.ndarray, labels: np.ndarray, ids: np.ndarray, batch_size: int
) -> tuple[float, float]:
    """(share of rows with every labelled token right, share of labelled tokens right) after the
    full eval recursion."""
    if not len(inputs):
        return 0.0, 0.0
    was_training = model.training
    model.eval()
    device = model.puzzle_emb.device
    correct, tokens_right, tokens = 0, 0, 0
    for start in range(0, len(inputs), batch_size):
        part = slice(start, start + batch_size)
        batch = arrays_to_batch(inputs[part], labels[part], np.asarray(ids[part]), device)
        predicted = evaluate_batch(model, batch).logits.argmax(-1)
        valid = batch["labels"] != PAD_TOKEN
        right = predicted == batch["labels"]
        correct += int((right | ~valid).all(-1).sum())
        tokens_right += int((right & valid).sum())
        tokens += int(valid.sum())
    model.train(was_training)
    return correct / len(inputs), tokens_right / max(tokens, 1)


def exact_accuracy(
    model: TRM, inputs: np.ndarray, labels: np.ndarray, ids: np.ndarray, batch_size: int
) -> float:
    """Share of rows whose every labelled token is right after the full eval recursion."""
    return row_accuracy(model, inputs, labels, ids, batch_size)[0]


@dataclass
class AdaptReport:
    tasks: int = 0
    versions: int = 0
    examples: int = 0
    steps: int = 0  # optimizer steps taken
    steps_planned: int = 0
    seconds: float = 0.0
    first_loss: float | None = None  # mean lm loss per row over the first 10% of the steps
    last_loss: float | None = None  # ... and over the last 10%
    last_exact: float | None = None  # exact share of the rows that halted in the last 10% of the steps
    holdout_pairs: int = 0  # held-out rows (pairs x versions)
    holdout_before: float | None = None  # exact share of the held-out rows before adapting
    holdout_after: float | None = None
    holdout_tokens_before: float | None = None  # share of their labelled tokens right
    holdout_tokens_after: float | None = None

    def line(self) -> str:
        text = f"adapt: {self.tasks} task(s), {self.versions} versions, {self.examples} examples, "
        text += f"{self.steps}/{self.steps_planned} steps in {self.seconds:.1f} s"
        if self.first_loss is not None and self.last_loss is not None:
            text += f", loss {self.first_loss:.3f} -> {self.last_loss:.3f}"
        if self.last_exact is not None:
            text += f", train exact {self.last_exact:.3f}"
        if self.holdout_before is not None:

            def pair(a: float | None, b: float | None) -> str:
                return " -> ".join("n/a" if v is None else f"{v:.3f}" for v in (a, b))

            text += f"; held-out pairs ({self.holdout_pairs} rows) exact "
            text += pair(self.holdout_before, self.holdout_after)
            text += ", tokens " + pair(self.holdout_tokens_before, self.holdout_tokens_after)
        return text


class Adapter:
    """Trains the new rows (and the chosen weights) one ACT supervision step at a time.

    Steps can be run in several calls (`run`), e.g. a few to time them and then as many as the time
    budget allows; the carry, the batch order and the optimizer states continue across calls.
    """

    def __init__(
        self,
        net: PredictModel,
        examples: AdaptExamples,
        first_id: int,
        cfg: AdaptConfig,
        seed: int,
        batch_size: int,
    ) -> None:
        self.model = net.model
        self.examples = examples
        self.first_id = first_id
        self.batch = max(1, min(batch_size, len(examples)))
        self.rng = np.random.default_rng([seed, _BATCH_STREAM])
        self.weights = trainable_weights(net.model, cfg.model)
        # Adaptation is training with the checkpoint's [train] settings (optimizer kind, betas,
        # decays, clipping) at constant adaptation rates, one micro-batch, no EMA.
        train = replace(
            net.run_cfg.train,
            global_batch_size=self.batch,
            grad_accum_steps=1,
            lr=cfg.weights_lr(),
            puzzle_emb_lr=cfg.lr,
            ema=False,
            seed=seed,
        )
        optimizer, embeddings = build_optimizers(train, net.model, self.weights)
        generator = torch.Generator(device=net.model.puzzle_emb.device).manual_seed(seed)
        self.state = TrainState(
            replace(net.run_cfg, train=train), net.model, optimizer, embeddings, None, generator
        )
        self.order = np.zeros(0, dtype=np.int64)
        self.cursor = 0
        self.history: list[tuple[float, float, float]] = []  # per step: lm loss per row, exact, counted
        self.step_seconds: list[float] = []
        self.seconds = 0.0

    @property
    def steps(self) -> int:
        return len(self.history)

    def _next_rows(self) -> np.ndarray:
        parts, need = [], self.batch
        while need:
            if self.cursor >= len(self.order):  # a new epoch: a fresh permutation of every example
                self.order, self.cursor = self.rng.permutation(len(self.examples)), 0
            take = self.order[self.cursor : self.cursor + need]
            self.cursor, need = self.cursor + len(take), need - len(take)
            parts.append(take)
        return np.concatenate(parts)

    def _step(self) -> None:
        """One optimizer step through the training step itself (arcsolve/train/step.py)."""
        ex, rows, device = self.examples, self._next_rows(), self.model.puzzle_emb.device
        batch = arrays_to_batch(ex.inputs[rows], ex.labels[rows], self.first_id + ex.version[rows], device)
        result = train_step(self.state, self.model, batch, SINGLE_PROCESS)
        self.state.optimizer_step(result.rows, SINGLE_PROCESS)
        self.state.step += 1
        lm, exact, count = (float(result.metrics[k]) for k in ("lm_loss", "exact_accuracy", "count"))
        if not math.isfinite(lm) or not bool(result.finite):
            raise RunFailure(
                "predict", f"adaptation loss became {lm} at step {self.steps + 1}; lower --adapt-lr"
            )
        self.history.append((lm / self.batch, exact, count))

    def run(
        self, steps: int, should_stop: Callable[[float], bool] | None = None, progress: bool = False
    ) -> None:
        """Up to `steps` more steps; `should_stop(seconds of the last step)` is asked before each."""
        params = list(self.model.parameters())
        chosen = {id(p) for p in self.weights}
        flags = [p.requires_grad for p in params]
        for p in params:
            p.requires_grad_(id(p) in chosen)  # frozen weights get no gradient at all
        self.model.train()
        last = 0.0
        try:
            with progress_bar("adapt", "steps", progress and steps > 0) as bar:
                job = bar.add_task("adapt", total=steps)
                for _ in range(steps):
                    if should_stop is not None and should_stop(last):
                        break
                    began = time.perf_counter()
                    self._step()
                    last = time.perf_counter() - began
                    self.step_seconds.append(last)
                    self.seconds += last
                    bar.advance(job)
        finally:
            for p, flag in zip(params, flags, strict=True):
                p.requires_grad_(flag)
            self.model.eval()

    def step_cost(self) -> float:
        """Seconds per step: the median after the first (which pays one-off set-up costs)."""
        times = self.step_seconds[1:] or self.step_seconds
        return float(np.median(times)) if times else 0.0

    def holdout_accuracy(self, batch_size: int) -> tuple[float | None, float | None]:
        """(exact, token) accuracy on the held-out pairs; (None, None) without any."""
        ex = self.examples
        if not len(ex.held_inputs):
            return None, None
        ids = self.first_id + ex.held_version
        return row_accuracy(self.model, ex.held_inputs, ex.held_labels, ids, batch_size)

    def fill_report(self, report: AdaptReport) -> AdaptReport:
        ex = self.examples
        report.tasks, report.versions, report.examples = len(ex.task_ids), len(ex.aug_rows), len(ex)
        report.steps, report.seconds, report.holdout_pairs = self.steps, self.seconds, len(ex.held_inputs)
        if self.history:
            k = max(1, self.steps // 10)
            report.first_loss = float(np.mean([h[0] for h in self.history[:k]]))
            report.last_loss = float(np.mean([h[0] for h in self.history[-k:]]))
            counted = sum(h[2] for h in self.history[-k:])
            report.last_exact = sum(h[1] for h in self.history[-k:]) / counted if counted else None
        return report


def start_adaptation(
    net: PredictModel, tasks: list[Task], cfg: PredictConfig, batch_size: int
) -> tuple[PredictModel, Adapter | None]:
    """Extend the checkpoint with the unseen tasks' versions; return it and their Adapter (None when
    no task needs one). `cfg` is the PredictConfig (its adapt settings and seed)."""
    examples = adapt_examples(
        tasks, net.task_ids, net.canvas, cfg.adapt, cfg.seed, net.translate, net.permute_black
    )
    if not examples.task_ids:
        return net, None
    if len(net.task_ids) + len(examples.task_ids) > INT32_MAX:
        raise BadInputError("predict", "too many tasks for the int32 augmentation table")
    first_id = extend_table(net.model, len(examples.aug_rows))
    rows = examples.aug_rows.copy()
    rows[:, 0] += len(net.task_ids)
    adapted = replace(
        net,
        task_ids=net.task_ids + examples.task_ids,
        aug_table=np.concatenate([np.asarray(net.aug_table, dtype=np.int32), rows]),
    )
    adapter = Adapter(net, examples, first_id, cfg.adapt, cfg.seed, cfg.adapt.batch_size or batch_size)
    return adapted, adapter
