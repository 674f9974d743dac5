"""`PredictConfig`: what `arcsolve predict` needs, checked before any work starts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from arcsolve.constants import NUM_COLORS
from arcsolve.errors import ConfigError

PREDICTIONS_FILE = "predictions.jsonl"


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

    def validate(self, where: str = "predict") -> None:
        """Raise ConfigError naming the first bad field."""
        for name in ("checkpoint", "tasks", "out"):
            if not str(getattr(self, name)).strip():
                raise ConfigError(where, f"{name}: must not be empty")
        for name in ("tta", "batch_size", "attempts"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(where, f"{name}: must be an integer >= 1, got {value!r}")
        for name in ("seed", "max_candidates", "cpu_threads"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(where, f"{name}: must be an integer >= 0, got {value!r}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ConfigError(where, f"device: must be 'auto', 'cpu' or 'cuda', got {self.device!r}")
        if not self.time_budget >= 0:  # also catches NaN
            raise ConfigError(where, f"time_budget: must be >= 0 seconds, got {self.time_budget!r}")
        out = Path(self.out)
        if out.is_dir():
            raise ConfigError(where, f"out: {out} is a directory, expected a file such as submission.json")
        if self.predictions_file().resolve() == out.resolve():
            raise ConfigError(where, f"predictions_path: {self.predictions_file()} must differ from out")

    def predictions_file(self) -> Path:
        if self.predictions_path is not None:
            return Path(self.predictions_path)
        return Path(self.out).parent / PREDICTIONS_FILE
