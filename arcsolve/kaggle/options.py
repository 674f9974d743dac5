"""What a Kaggle bundle is built with: `BundleOptions` and `HiddenTaskOptions`, every default once.

Kept apart from `bundle.py` (which needs torch to read checkpoints), so the command line can show
these defaults in its help without importing torch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from arcsolve.kaggle.wheels import DEFAULT_PYTHON_VERSIONS

# A competition is named by its Kaggle folder, arc-prize-YYYY; the first ARC Prize on Kaggle was 2024.
COMPETITION_NAME = re.compile(r"arc-prize-(?P<year>\d{4})")
FIRST_ARC_PRIZE_YEAR = 2024
DEFAULT_TTA = 32
# Kaggle's ARC Prize notebooks may run for 12 hours; keep one for start-up, install and slack.
DEFAULT_TIME_BUDGET = 11 * 3600.0


@dataclass(frozen=True)
class HiddenTaskOptions:
    """The predict options every shard gets, for tasks the checkpoint has never seen (Kaggle's
    hidden ones). The defaults are the setting that measured best (README, "Measured numbers":
    only adapting every weight solved unseen tasks, 0 -> 0.115 on 13 small evaluation tasks):
    adaptation on, `adapt_model = "all"`, and as many steps as predict's time-budget planner
    (arcsolve/predict/budget.py) fits in the run's budget. None leaves predict's own default."""

    adapt_steps: int = 100_000  # an upper bound: the budget planner sizes the real number
    adapt_aug: int = 8
    adapt_model: str = "all"
    adapt_lr: float | None = None
    forward_dtype: str | None = None  # None: run.py picks bfloat16 / float16 / float32 per device
    batch_size: int | None = None
    search: bool = True  # program search on each shard's share of the CPU cores, merged with the model


@dataclass(frozen=True)
class BundleOptions:
    tta: int = DEFAULT_TTA
    time_budget: float = DEFAULT_TIME_BUDGET  # seconds for the scoring rerun; 0 = none
    # None: run.py answers the only attached competition, else the newest by year, with a warning.
    competition: str | None = None
    commit_tasks: int = 20  # a commit (non-rerun) run answers this many evaluation tasks; 0 = all
    commit_budget: float = 900.0  # ... within min(time_budget, this) seconds
    hidden: HiddenTaskOptions = field(default_factory=HiddenTaskOptions)
    extra_args: tuple[str, ...] = ()  # more predict flags, after the options above
    python_versions: tuple[str, ...] = DEFAULT_PYTHON_VERSIONS
    wheels_dir: Path | None = None  # take the dependency wheels from here instead of the index


def competition_problem(name: str | None) -> str | None:
    """None when `name` can be a bundle's competition (arc-prize-YYYY, or None), else why not."""
    match = COMPETITION_NAME.fullmatch(name) if isinstance(name, str) else None
    if name is None or (match and int(match.group("year")) >= FIRST_ARC_PRIZE_YEAR):
        return None
    return (
        f"competition {name!r}: expected arc-prize-YYYY with YYYY >= {FIRST_ARC_PRIZE_YEAR} "
        "(the competition's folder under /kaggle/input), or none to answer whichever is attached"
    )
