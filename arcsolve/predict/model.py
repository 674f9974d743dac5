"""The model `arcsolve predict` runs: a checkpoint's TRM with its EMA weights in eval mode, plus what
planning views needs from the dataset it was trained on (canvas, task ids, augmentation table).
Loaded from any checkpoint `arcsolve/train/checkpoint.py` writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from arcsolve.config import from_dict
from arcsolve.constants import ARC_VOCAB_SIZE, AUG_TABLE_COLUMNS
from arcsolve.errors import BadInputError
from arcsolve.model.config import ModelConfig
from arcsolve.model.trm import TRM
from arcsolve.train.checkpoint import load_checkpoint, resolve_checkpoint_path


@dataclass(frozen=True)
class PredictModel:
    """A checkpoint's model in eval mode plus what planning views needs from its dataset."""

    model: TRM
    canvas: int
    task_ids: tuple[str, ...]
    aug_table: np.ndarray  # int16 [num_puzzle_ids, 12]
    permute_black: bool
    translate: bool = True  # the dataset recipe's translation (adaptation encodes its examples alike)
    train_cfg: dict[str, Any] = field(default_factory=dict)  # the checkpoint's [train] (decays, betas)


def load_predict_model(
    checkpoint: str | Path, device: torch.device, forward_dtype: str | None = None
) -> PredictModel:
    """Rebuild the checkpoint's TRM with its EMA weights, in eval mode on `device`; `forward_dtype`
    replaces the checkpoint's model.forward_dtype when given."""
    path = resolve_checkpoint_path(Path(checkpoint))
    where = str(path)
    payload = load_checkpoint(path, map_location="cpu", mmap=True)
    data = payload.get("dataset") or {}
    if data.get("kind") != "arc":
        raise BadInputError(where, f"trained on a {data.get('kind')!r} dataset; predict answers ARC tasks")
    canvas, seq_len = data.get("canvas"), data.get("seq_len")
    if not isinstance(canvas, int) or seq_len != canvas * canvas:
        raise BadInputError(where, f"dataset canvas {canvas!r} does not match seq_len {seq_len!r}")
    if data.get("vocab_size") != ARC_VOCAB_SIZE:
        raise BadInputError(where, f"vocab_size {data.get('vocab_size')!r}, expected {ARC_VOCAB_SIZE}")
    table = data.get("augmentations")
    num_ids = int(data.get("num_puzzle_ids", 0))
    if table is None or np.shape(table) != (num_ids, AUG_TABLE_COLUMNS):
        raise BadInputError(where, "checkpoint holds no augmentation table of one row per puzzle id")
    model_fields = dict(payload["config"]["model"])
    if forward_dtype is not None:
        model_fields["forward_dtype"] = forward_dtype
    cfg = from_dict(ModelConfig, model_fields, where=f"{where}: config")
    model = TRM(cfg, seq_len, ARC_VOCAB_SIZE, num_ids)
    try:
        model.load_state_dict(payload["eval_model"])
    except (KeyError, RuntimeError) as err:
        raise BadInputError(
            where, f"eval_model weights do not fit its config ({type(err).__name__})"
        ) from None
    recipe = (payload["config"].get("data") or {}).get("arc") or {}
    train_cfg = dict(payload["config"].get("train") or {})
    del payload  # the optimizer states and the training weights are not needed any more
    return PredictModel(
        model=model.to(device).eval(),
        canvas=canvas,
        task_ids=tuple(data.get("task_ids", ())),
        aug_table=np.asarray(table),
        permute_black=bool(recipe.get("permute_black", False)),
        translate=bool(recipe.get("translate", True)),
        train_cfg=train_cfg,
    )
