"""The training config: `[data]` (a dataset path or a build recipe), `[model]` and `[train]`.

Defaults of `TrainConfig` are the paper's ARC recipe (paper §5 and the reference code's
defaults); the CPU configs override them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import orjson

from arcsolve.config import check_bounds, load_config
from arcsolve.data.build_configs import ArcBuildConfig, MazeBuildConfig, SudokuBuildConfig, recipe_record
from arcsolve.data.dataset import FORMAT_VERSION
from arcsolve.errors import ConfigError
from arcsolve.model.config import ModelConfig


@dataclass
class DataConfig:
    """Exactly one of: `path` (an existing dataset directory) or one recipe table (arc, sudoku, maze).

    A recipe is built on first use into `cache_dir/<kind>-<hash of the recipe>`, so a config alone is
    enough to train on a fresh checkout.
    """

    path: str | None = None
    arc: ArcBuildConfig | None = None
    sudoku: SudokuBuildConfig | None = None
    maze: MazeBuildConfig | None = None
    cache_dir: str = "~/.cache/arcsolve/datasets"

    def validate(self, where: str) -> None:
        given = [name for name in ("path", "arc", "sudoku", "maze") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ConfigError(
                where, f"[data] needs exactly one of path, arc, sudoku, maze; got {given or 'none'}"
            )

    def recipe(self) -> tuple[str, ArcBuildConfig | SudokuBuildConfig | MazeBuildConfig] | None:
        for kind in ("arc", "sudoku", "maze"):
            value = getattr(self, kind)
            if value is not None:
                return kind, value
        return None

    def cache_path(self) -> Path | None:
        found = self.recipe()
        if found is None:
            return None
        kind, recipe = found
        # The dataset format version is part of the key, so a format change never reuses a stale build.
        key = {"format": FORMAT_VERSION, "kind": kind, **recipe_record(recipe)}
        digest = hashlib.sha256(orjson.dumps(key, option=orjson.OPT_SORT_KEYS)).hexdigest()[:12]
        return Path(self.cache_dir).expanduser() / f"{kind}-{digest}"


@dataclass
class TrainConfig:
    global_batch_size: int = 768
    epochs: int = 100_000
    max_steps: int = 0  # 0: derived from epochs; one step = one ACT supervision step
    # "reference": int(epochs x groups x mean examples / batch) steps, the partial batch dropped once
    # per evaluation interval (the reference's pretrain.py); "whole_batches": epochs x full batches of
    # an epoch packed on its own. See train/plan.py.
    step_accounting: Literal["reference", "whole_batches"] = "reference"
    # The global batch is run as this many micro-batches per rank, their gradients summed before one
    # optimizer step: global_batch_size must divide by world size x grad_accum_steps.
    grad_accum_steps: int = 1
    optimizer: Literal["adam_atan2", "adamw"] = "adam_atan2"
    lr: float = 1e-4
    lr_min_ratio: float = 1.0  # 1.0 = constant after warm-up (the paper)
    lr_warmup_steps: int = 2000
    beta1: float = 0.9
    beta2: float = 0.95
    weight_decay: float = 0.1
    puzzle_emb_lr: float = 1e-2
    puzzle_emb_weight_decay: float = 0.1
    grad_clip: float = 0.0  # 0 = off (the paper does not clip)
    ema: bool = True
    ema_rate: float = 0.999
    eval_every: int = 10_000  # steps; 0 = only at the end (or per eval_every_epochs)
    eval_every_epochs: int = 0  # epochs (the reference's eval_interval); needs eval_every = 0
    eval_max_examples: int = 0  # 0 = the whole test split
    eval_batch_size: int = 0  # global rows per evaluation batch; 0 = global_batch_size
    checkpoint_every: int = 0  # steps; 0 = at every evaluation
    keep_checkpoints: int = 3
    log_every: int = 50
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    compile: Literal["auto", "on", "off"] = "auto"  # auto = on for CUDA, off on CPU
    cpu_threads: int = 0  # 0 = torch's default
    # Non-finite loss/gradients are flagged on the device every step and read (a host sync) every
    # this many steps, at every logged step and before every checkpoint.
    finite_check_every: int = 50
    # Live tracking beside metrics.jsonl (docs/tracking.md; `pip install arcsolve[track]`), rank 0 only.
    tensorboard: bool = False  # event files under RUN/tensorboard/
    wandb_project: str | None = None  # a Weights & Biases project; None = no W&B run
    wandb_run_name: str | None = None  # None = the run directory's name

    def validate(self, where: str) -> None:
        positive = (
            "global_batch_size",
            "epochs",
            "ema_rate",
            "lr",
            "log_every",
            "keep_checkpoints",
            "grad_accum_steps",
            "finite_check_every",
        )
        check_bounds(self, where, "train.", positive, low=0, open_low=True)
        non_negative = (
            "max_steps",
            "lr_warmup_steps",
            "eval_every",
            "eval_every_epochs",
            "eval_max_examples",
            "eval_batch_size",
            "checkpoint_every",
            "seed",  # numpy refuses negative seeds deep inside batching, far from the config
            "cpu_threads",
        )
        check_bounds(self, where, "train.", non_negative, low=0)
        check_bounds(self, where, "train.", ("ema_rate",), low=0, high=1, open_low=True, open_high=True)
        if self.eval_every > 0 and self.eval_every_epochs > 0:
            raise ConfigError(
                where, "set train.eval_every (steps) or train.eval_every_epochs (epochs), not both"
            )
        if self.global_batch_size % self.grad_accum_steps:
            raise ConfigError(
                where,
                f"train.global_batch_size {self.global_batch_size} does not split into "
                f"train.grad_accum_steps = {self.grad_accum_steps} micro-batches",
            )
        check_bounds(self, where, "train.", ("lr_min_ratio",), low=0, high=1)


@dataclass
class RunConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def validate(self, where: str) -> None:
        # A table left out of the file is never validated by the loader, and [data] has no usable
        # default: an empty config must say so instead of failing later on a missing dataset.
        self.data.validate(where)


def load_run_config(path: str | Path, overrides: list[str] | None = None) -> RunConfig:
    return load_config(RunConfig, path, overrides)
