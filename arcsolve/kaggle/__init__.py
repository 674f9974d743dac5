"""Offline Kaggle runs: `bundle` packs a checkpoint, the arcsolve wheel and `run.py` into a folder
to upload as a Kaggle dataset; `run_template` is the source of that `run.py`."""

from arcsolve.kaggle.bundle import (
    BUNDLE_FORMAT,
    DEFAULT_TIME_BUDGET,
    DEFAULT_TTA,
    BundleSummary,
    build_bundle,
    build_wheel,
    find_source_root,
)

__all__ = [
    "BUNDLE_FORMAT",
    "DEFAULT_TIME_BUDGET",
    "DEFAULT_TTA",
    "BundleSummary",
    "build_bundle",
    "build_wheel",
    "find_source_root",
]
