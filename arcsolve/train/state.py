"""Everything a training run carries from step to step, and how it goes into and out of a checkpoint.

A checkpoint describes itself: besides weights and optimizer state it holds the resolved config, the
dataset's fingerprint and description (seq_len, vocab, canvas, task ids and the puzzle-id
augmentation table), so `predict` needs only the checkpoint, and a checkpoint from another
dataset or model shape is refused with a message instead of a shape error.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import torch

from arcsolve.data.dataset import TokenDataset
from arcsolve.errors import BadInputError
from arcsolve.model.act import Carry, StepOutputs
from arcsolve.model.losses import act_loss
from arcsolve.model.trm import TRM
from arcsolve.train import distributed as dist
from arcsolve.train.batches import BatchCursor
from arcsolve.train.checkpoint import strip_compile_prefix
from arcsolve.train.config import RunConfig, TrainConfig
from arcsolve.train.ema import EMA
from arcsolve.train.optim import AdamATan2, SparseSignSGD, set_lr
from arcsolve.train.run_meta import describe_dataset
from arcsolve.train.schedule import lr_at


@dataclass
class EmbeddingGrads:
    """The task-row gradients of one optimizer step: (ids, grads) of every micro-batch, in slot order."""

    ids: list[torch.Tensor]
    grads: list[torch.Tensor]


@dataclass
class TrainState:
    cfg: RunConfig
    model: TRM
    optimizer: torch.optim.Optimizer | None  # None: no weight is trained (adaptation of the table alone)
    embedding_optimizer: SparseSignSGD
    ema: EMA | None
    halt_generator: torch.Generator
    step: int = 0
    # One carry per micro-batch (train.grad_accum_steps), each holding its slots of this rank's
    # share of the global batch: global_batch_size slots over all ranks and micro-batches.
    carries: list[Carry] | None = None

    def loss_fn(self, outputs: StepOutputs) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        return act_loss(outputs, self.cfg.model.loss)

    def set_learning_rates(self, total_steps: int) -> dict[str, float]:
        tc = self.cfg.train
        # Steps are counted from 1 here, as in the reference (it increments its step before computing
        # the rate): the first update already gets base / warmup instead of a wasted lr = 0 step.
        step = self.step + 1
        lr = lr_at(step, tc.lr, tc.lr_warmup_steps, total_steps, tc.lr_min_ratio)
        emb_lr = lr_at(step, tc.puzzle_emb_lr, tc.lr_warmup_steps, total_steps, tc.lr_min_ratio)
        if self.optimizer is not None:
            set_lr(self.optimizer, lr)
        set_lr(self.embedding_optimizer, emb_lr)
        return {"lr": lr, "puzzle_emb_lr": emb_lr}

    def optimizer_step(self, rows: EmbeddingGrads, info: dist.DistInfo) -> None:
        """Weights (gradients already summed over micro-batches and ranks), then the task rows of the
        whole global batch (sign of their summed gradient), then EMA."""
        tc = self.cfg.train
        if tc.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), tc.grad_clip)
        if self.optimizer is not None:
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
        if rows.grads:
            self.embedding_optimizer.step(torch.cat(rows.ids), torch.cat(rows.grads))
        if self.ema is not None:
            self.ema.update(self.model)

    @contextlib.contextmanager
    def eval_weights(self) -> Iterator[TRM]:
        """The model to evaluate and save, holding the EMA weights inside the block when EMA is on."""
        if self.ema is None:
            yield self.model
            return
        with self.ema.swapped_in(self.model) as model:
            yield model


def build_optimizers(
    tc: TrainConfig, model: TRM, weights: list[torch.nn.Parameter] | None = None
) -> tuple[torch.optim.Optimizer | None, SparseSignSGD]:
    """The weights' optimizer (`train.optimizer` over `weights`, default every parameter; None for an
    empty list) and the task table's sparse sign-SGD, with the config's rates, betas and decays.
    Training and test-time adaptation (arcsolve/predict/adapt.py) both build theirs here."""
    weights = list(model.parameters()) if weights is None else weights
    optimizer: torch.optim.Optimizer | None = None
    if weights:
        kind = AdamATan2 if tc.optimizer == "adam_atan2" else torch.optim.AdamW
        optimizer = kind(weights, lr=tc.lr, betas=(tc.beta1, tc.beta2), weight_decay=tc.weight_decay)
    embedding_optimizer = SparseSignSGD(
        model.puzzle_emb, lr=tc.puzzle_emb_lr, weight_decay=tc.puzzle_emb_weight_decay
    )
    return optimizer, embedding_optimizer


def build_state(cfg: RunConfig, dataset: TokenDataset, device: torch.device) -> TrainState:
    tc = cfg.train
    init = torch.Generator().manual_seed(tc.seed)  # same init on every rank; broadcast makes sure
    model = TRM(cfg.model, dataset.seq_len, dataset.vocab_size, dataset.num_puzzle_ids, generator=init).to(
        device
    )
    model.train()
    optimizer, embedding_optimizer = build_optimizers(tc, model)
    ema = EMA(model, tc.ema_rate) if tc.ema else None
    halt_generator = torch.Generator(device=device).manual_seed(tc.seed + 1)
    return TrainState(cfg, model, optimizer, embedding_optimizer, ema, halt_generator)


def _carry_state(carries: list[Carry] | None) -> dict[str, torch.Tensor] | None:
    """This rank's micro-batch carries as one carry of its slots, in slot order (the same layout for
    any number of micro-batches, so a resume may change train.grad_accum_steps)."""
    if carries is None:
        return None
    fields = asdict(carries[0]).keys()
    return {k: torch.cat([getattr(c, k).detach() for c in carries]).cpu() for k in fields}


def gather_carries(state: TrainState, info: dist.DistInfo) -> list[dict[str, torch.Tensor] | None] | None:
    """Each rank's carry (its in-flight sequences), gathered on rank 0. Every rank must call it."""
    return dist.gather_to_main(_carry_state(state.carries), info)  # type: ignore[return-value]


def eval_state_dict(state: TrainState) -> dict[str, torch.Tensor]:
    """The weights to evaluate and predict with: the EMA averages for the parameters, the live
    buffers (the task table among them) for the rest. The tensors are the live ones, not copies:
    torch.save writes a storage once however often it is referenced, so the task table is stored once."""
    live = strip_compile_prefix(state.model.state_dict())
    if state.ema is None:
        return live
    return {name: state.ema.shadow.get(name, value) for name, value in live.items()}


def state_payload(
    state: TrainState,
    cfg: RunConfig,
    dataset: TokenDataset,
    cursor: BatchCursor,
    carries: list[dict[str, torch.Tensor] | None] | None = None,
) -> dict[str, Any]:
    """The checkpoint contents. `carries` holds one carry per rank (from `gather_carries`); without
    it the payload holds this process's carry only, which is right for a single-process run.
    Tensors are referenced, not copied (see `eval_state_dict`); torch.save moves device tensors to
    the host one storage at a time while it writes."""
    return {
        "config": asdict(cfg),
        "dataset": describe_dataset(dataset).to_dict(),
        "model": strip_compile_prefix(state.model.state_dict()),
        "eval_model": eval_state_dict(state),  # EMA weights when EMA is on: what predict uses
        "ema": None if state.ema is None else {"decay": state.ema.decay, "shadow": dict(state.ema.shadow)},
        "optimizer": None if state.optimizer is None else state.optimizer.state_dict(),
        "embedding_optimizer": state.embedding_optimizer.state_dict(),
        "cursor": asdict(cursor),
        "carry": [_carry_state(state.carries)] if carries is None else carries,  # one per rank
        "rng": {"halt": state.halt_generator.get_state(), "torch": torch.get_rng_state()},
    }


def check_compatible(
    payload: dict[str, Any], cfg_model: dict[str, Any], dataset: TokenDataset, where: str
) -> None:
    """Refuse a checkpoint from another dataset or model shape with a clear message."""
    saved = payload.get("dataset", {})
    if saved.get("fingerprint") != dataset.fingerprint:
        raise BadInputError(where, "checkpoint was trained on a different dataset (fingerprint differs)")
    saved_model = payload.get("config", {}).get("model") or {}
    if saved_model != cfg_model:
        key = next(k for k in sorted({*saved_model, *cfg_model}) if saved_model.get(k) != cfg_model.get(k))
        raise BadInputError(
            where,
            f"checkpoint has a different [model] config than this run "
            f"(model.{key} is {saved_model.get(key)!r} there, {cfg_model.get(key)!r} here)",
        )


def _restored_carries(saved: Any, state: TrainState, info: dist.DistInfo) -> list[Carry] | None:
    """This rank's saved carry cut into its micro-batches, or None (every slot starts a new sequence)
    when the run now has another number of ranks or another batch size, so the saved in-flight
    sequences do not fit."""
    carries = [saved] if isinstance(saved, dict) else saved
    if not carries or len(carries) != info.world_size or carries[info.rank] is None:
        return None
    carry = carries[info.rank]
    per_rank = state.cfg.train.global_batch_size // info.world_size
    if carry["inputs"].shape[0] != per_rank:
        return None
    device = state.model.puzzle_emb.device
    micro = per_rank // state.cfg.train.grad_accum_steps
    return [
        Carry(**{k: v[start : start + micro].to(device) for k, v in carry.items()})
        for start in range(0, per_rank, micro)
    ]


def restore_state(
    state: TrainState,
    payload: dict[str, Any],
    dataset: TokenDataset,
    where: str,
    info: dist.DistInfo | None = None,
) -> None:
    info = info or dist.DistInfo()
    check_compatible(payload, asdict(state.cfg.model), dataset, where)
    saved_train = payload.get("config", {}).get("train", {})
    # Checkpoints from before train.step_accounting existed packed whole-batch epochs; their data
    # cursor means something else in the reference stream.
    saved_accounting = saved_train.get("step_accounting", "whole_batches")
    if saved_accounting != state.cfg.train.step_accounting:
        raise BadInputError(
            where,
            f"checkpoint was trained with train.step_accounting = {saved_accounting!r}, this run uses "
            f"{state.cfg.train.step_accounting!r}; resume with --set "
            f"train.step_accounting={saved_accounting}",
        )
    saved_optimizer = saved_train.get("optimizer")
    if saved_optimizer != state.cfg.train.optimizer:
        # Another optimizer's state does not load (AdamW wants keys AdamATan2 never wrote).
        raise BadInputError(
            where,
            f"checkpoint was trained with train.optimizer = {saved_optimizer!r}, this run uses "
            f"{state.cfg.train.optimizer!r}; its optimizer state cannot be resumed",
        )
    state.model.load_state_dict(payload["model"])
    if state.optimizer is not None:
        state.optimizer.load_state_dict(payload["optimizer"])
    state.embedding_optimizer.load_state_dict(payload["embedding_optimizer"])
    if state.ema is not None and payload.get("ema") is not None:
        state.ema.load_state_dict(payload["ema"])
    state.step = int(payload["step"])
    state.carries = _restored_carries(payload.get("carry"), state, info)
    # RNG states are CPU byte tensors even for a CUDA generator; map_location may have moved them.
    state.halt_generator.set_state(payload["rng"]["halt"].cpu())
    torch.set_rng_state(payload["rng"]["torch"].cpu())
