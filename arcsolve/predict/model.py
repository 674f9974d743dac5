"""The model `arcsolve predict` runs: a checkpoint's TRM with its EMA weights in eval mode, plus what
planning views needs from the dataset it was trained on (canvas, task ids, augmentation table).
Loaded from any checkpoint `arcsolve/train/checkpoint.py` writes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from arcsolve.constants import ARC_VOCAB_SIZE
from arcsolve.data.build_configs import ArcBuildConfig
from arcsolve.errors import BadInputError
from arcsolve.model.trm import TRM
from arcsolve.train.checkpoint import load_checkpoint, resolve_checkpoint_path
from arcsolve.train.config import RunConfig
from arcsolve.train.run_meta import checkpoint_meta


@dataclass(frozen=True)
class PredictModel:
    """A checkpoint's model in eval mode plus what planning views needs from its dataset."""

    model: TRM
    canvas: int
    task_ids: tuple[str, ...]
    aug_table: np.ndarray  # int32 [num_puzzle_ids, 12]
    permute_black: bool
    translate: bool  # the dataset recipe's translation (adaptation encodes its examples alike)
    run_cfg: RunConfig  # the checkpoint's config: adaptation trains with its [train] settings


def _recipe_flag(cfg: RunConfig, name: str) -> bool:
    """A flag of the ARC build recipe the checkpoint was trained with; the recipe's own default when
    the run named a dataset path instead of a recipe."""
    recipe = cfg.data.arc
    return bool(
        getattr(recipe, name) if recipe is not None else ArcBuildConfig.__dataclass_fields__[name].default
    )


def load_predict_model(
    checkpoint: str | Path, device: torch.device, forward_dtype: str | None = None
) -> PredictModel:
    """Rebuild the checkpoint's TRM with its EMA weights, in eval mode on `device`; `forward_dtype`
    replaces the checkpoint's model.forward_dtype when given."""
    path = resolve_checkpoint_path(Path(checkpoint))
    where = str(path)
    payload = load_checkpoint(path, map_location="cpu", mmap=True)
    cfg, data = checkpoint_meta(payload, where)
    if data.kind != "arc":
        raise BadInputError(where, f"trained on a {data.kind!r} dataset; predict answers ARC tasks")
    if data.canvas is None or data.seq_len != data.canvas * data.canvas:
        raise BadInputError(where, f"dataset canvas {data.canvas!r} does not match seq_len {data.seq_len!r}")
    if data.vocab_size != ARC_VOCAB_SIZE:
        raise BadInputError(where, f"vocab_size {data.vocab_size!r}, expected {ARC_VOCAB_SIZE}")
    if data.augmentations is None:
        raise BadInputError(where, "checkpoint holds no augmentation table of one row per puzzle id")
    model_cfg = cfg.model if forward_dtype is None else replace(cfg.model, forward_dtype=forward_dtype)
    model_cfg.validate(f"{where}: config")
    model = TRM(model_cfg, data.seq_len, ARC_VOCAB_SIZE, data.num_puzzle_ids)
    try:
        model.load_state_dict(payload["eval_model"])
    except (KeyError, RuntimeError) as err:
        raise BadInputError(
            where, f"eval_model weights do not fit its config ({type(err).__name__})"
        ) from None
    del payload  # the optimizer states and the training weights are not needed any more
    return PredictModel(
        model=model.to(device).eval(),
        canvas=data.canvas,
        task_ids=data.task_ids,
        aug_table=data.augmentations,
        permute_black=_recipe_flag(cfg, "permute_black"),
        translate=_recipe_flag(cfg, "translate"),
        run_cfg=cfg,
    )
