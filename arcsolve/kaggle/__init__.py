"""Offline Kaggle runs: `bundle` packs a checkpoint, the arcsolve wheel, the dependency wheels
(`wheels`) and `run.py` with its runner modules (`arcsolve_kaggle_runner`, standard library only)
into a folder to upload as a Kaggle dataset; `run_template` is the source of that `run.py`."""

from arcsolve.kaggle.options import (
    DEFAULT_TIME_BUDGET,
    DEFAULT_TTA,
    BundleOptions,
    HiddenTaskOptions,
)

# build_bundle and the rest live in arcsolve.kaggle.bundle, imported where used: it needs torch.
__all__ = [
    "DEFAULT_TIME_BUDGET",
    "DEFAULT_TTA",
    "BundleOptions",
    "HiddenTaskOptions",
]
