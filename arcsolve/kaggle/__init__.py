"""Offline Kaggle runs: `bundle` packs a checkpoint, the arcsolve wheel, the dependency wheels
(`wheels`) and `run.py` with its runner modules (`arcsolve_kaggle_runner`, standard library only)
into a folder to upload as a Kaggle dataset; `run_template` is the source of that `run.py`."""

from arcsolve.kaggle.bundle import (
    BUNDLE_FORMAT,
    DEFAULT_TIME_BUDGET,
    DEFAULT_TTA,
    SUPPORTED_COMPETITIONS,
    BundleOptions,
    BundleSummary,
    HiddenTaskOptions,
    build_bundle,
    build_wheel,
    find_source_root,
)

__all__ = [
    "BUNDLE_FORMAT",
    "DEFAULT_TIME_BUDGET",
    "DEFAULT_TTA",
    "SUPPORTED_COMPETITIONS",
    "BundleOptions",
    "BundleSummary",
    "HiddenTaskOptions",
    "build_bundle",
    "build_wheel",
    "find_source_root",
]
