"""`PredictConfig`: what `arcsolve predict` needs, checked before any work starts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from arcsolve.config import check_bounds
from arcsolve.constants import NUM_COLORS
from arcsolve.errors import ConfigError
from arcsolve.search.config import SearchOptions

PREDICTIONS_FILE = "predictions.jsonl"
SUMMARY_FILE = "predict_summary.json"


@dataclass
class AdaptConfig:
    """Test-time adaptation of tasks the checkpoint does not know (see arcsolve.predict.adapt)."""

    steps: int = 0  # optimizer steps (one ACT supervision step each); 0 = no adaptation
    lr: float = 1e-2  # sign-SGD rate of the new task-embedding rows
    aug: int = 8  # augmented versions per task besides the identity; each gets its own puzzle id
    model: Literal["none", "last", "all"] = "none"  # weights trained too: none, last block + heads, all
    model_lr: float = 0.0  # AdamATan2 rate of those weights; 0 = lr / 10
    batch_size: int = 0  # examples per step; 0 = predict's batch_size (capped at the number of examples)
    holdout: bool = False  # leave each task's last train pair out and score it before/after adapting
    # The loss curve, once adaptation ends (docs/tracking.md): TensorBoard event files under
    # <dir of --out>/tensorboard/adapt/, and/or a run in this Weights & Biases project.
    tensorboard: bool = False
    wandb_project: str | None = None

    def validate(self, where: str = "predict") -> None:
        """Raise ConfigError naming the first bad field (types and choices are checked by from_dict)."""
        check_bounds(self, where, "adapt.", ("steps", "aug", "batch_size", "lr", "model_lr"), low=0)
        if self.steps > 0 and self.lr == 0:
            raise ConfigError(where, "adapt.lr: must be > 0 when adapt.steps > 0")

    def weights_lr(self) -> float:
        return self.model_lr if self.model_lr > 0 else self.lr / 10


@dataclass
class PredictConfig:
    checkpoint: str  # a checkpoint .pt or a run directory (its latest checkpoint)
    tasks: str  # task SOURCE (see arcsolve.data.tasks)
    out: str  # submission.json to write
    tta: int = 8  # views per test input (a known task has at most its number of trained versions)
    seed: int = 0  # picks the versions / random augmentations; same seed -> same submission
    batch_size: int = 64  # views per forward pass
    attempts: int = 2  # K of the pass@K analysis; the submission always holds 2 attempts
    device: Literal["auto", "cpu", "cuda"] = "auto"
    predictions_path: str | None = None  # default: predictions.jsonl beside `out`
    max_candidates: int = NUM_COLORS  # candidates kept per test input in predictions.jsonl; 0 = all
    time_budget: float = 0.0  # seconds for the whole run; 0 = none. Stops feeding views when spent.
    cpu_threads: int = 0  # 0 = torch's default
    progress: bool = False
    # Activation dtype; None keeps the checkpoint's model.forward_dtype. float16 is for GPUs without
    # bfloat16 (T4); on a CPU float16 runs in float32.
    forward_dtype: Literal["auto", "float32", "bfloat16", "float16"] | None = None
    adapt: AdaptConfig = field(default_factory=AdaptConfig)
    # Answer the valid tasks and leave tasks that fail validation out of the submission (listed in
    # predict_summary.json) instead of refusing the whole source; the Kaggle run.py sets it.
    skip_bad_tasks: bool = False
    # Candidate order (arcsolve.predict.rank): votes; poe = summed log-probability over the views
    # (product of experts, arcsolve.predict.poe); hybrid = attempts alternately from the two.
    rank: Literal["votes", "poe", "hybrid"] = "votes"
    poe_views: int = 32  # views per test input whose log-probabilities are kept (its first ones)
    poe_candidates: int = 10  # top voted candidates scored (plus one PoE argmax grid per shape)
    # Program search on CPU workers beside the model, merged into the attempts (arcsolve.predict.ensemble)
    search: bool = False
    search_options: SearchOptions = field(default_factory=SearchOptions)
    search_model_share: float = 0.5  # the model's favourite goes second when it holds this share of votes

    def validate(self, where: str = "predict") -> None:
        """Raise ConfigError naming the first bad field (types and choices are checked by from_dict)."""
        for name in ("checkpoint", "tasks", "out"):
            if not str(getattr(self, name)).strip():
                raise ConfigError(where, f"{name}: must not be empty")
        check_bounds(self, where, "", ("tta", "batch_size", "attempts", "poe_views", "poe_candidates"), low=1)
        check_bounds(self, where, "", ("seed", "max_candidates", "cpu_threads", "time_budget"), low=0)
        self.adapt.validate(where)
        self.search_options.validate(where, "search_options.")
        check_bounds(self, where, "", ("search_model_share",), low=0, high=1)
        out = Path(self.out)
        if out.is_dir():
            raise ConfigError(where, f"out: {out} is a directory, expected a file such as submission.json")
        if self.predictions_file().resolve() == out.resolve():
            raise ConfigError(where, f"predictions_path: {self.predictions_file()} must differ from out")

    def summary_file(self) -> Path:
        """predict_summary.json beside the submission (see arcsolve.predict.outcome)."""
        return Path(self.out).parent / SUMMARY_FILE

    def predictions_file(self) -> Path:
        if self.predictions_path is not None:
            return Path(self.predictions_path)
        return Path(self.out).parent / PREDICTIONS_FILE
