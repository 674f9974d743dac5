"""`SearchConfig`: what `arcsolve search` (and `predict --search`) needs, checked before work starts."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from arcsolve.config import check_bounds
from arcsolve.errors import ConfigError
from arcsolve.search.engine import SearchLimits

SEARCH_LOG_FILE = "search.jsonl"


@dataclass
class SearchOptions:
    """How each task is searched; shared by `arcsolve search` and `predict --search`."""

    task_seconds: float = 30.0  # the most one task may take
    depth: int = 3  # steps per program, at most
    workers: int = 0  # worker processes; 0 = one per CPU core (predict: one fewer, for the model)
    memory_mb: int = 3072  # address-space limit of each worker; a task over it costs only itself
    max_states: int = 150_000  # states kept for expansion per task

    def validate(self, where: str = "search", prefix: str = "options.") -> None:
        check_bounds(self, where, prefix, ("depth", "memory_mb", "max_states", "task_seconds"), low=1)
        check_bounds(self, where, prefix, ("workers",), low=0)

    def worker_count(self, spare: int = 0) -> int:
        """`workers`, or the CPU cores this process may use less `spare` (at least one)."""
        return self.workers or max(1, len(os.sched_getaffinity(0)) - spare)

    def limits(self, seconds: float) -> SearchLimits:
        return SearchLimits(depth=self.depth, seconds=seconds, max_states=self.max_states)


@dataclass
class SearchConfig:
    tasks: str = ""  # task SOURCE (see arcsolve.data.tasks)
    out: str = "submission.json"  # submission to write
    time_budget: float = 0.0  # seconds for the whole run; 0 = none (each task gets task_seconds)
    log_path: str | None = None  # default: search.jsonl beside `out`
    progress: bool = True
    options: SearchOptions = field(default_factory=SearchOptions)

    def validate(self, where: str = "search") -> None:
        if not self.tasks.strip():
            raise ConfigError(where, "tasks: must not be empty")
        check_bounds(self, where, "", ("time_budget",), low=0)
        self.options.validate(where, "options.")
        if Path(self.out).is_dir():
            raise ConfigError(
                where, f"out: {self.out} is a directory, expected a file such as submission.json"
            )

    def log_file(self) -> Path:
        return Path(self.log_path) if self.log_path else Path(self.out).parent / SEARCH_LOG_FILE
