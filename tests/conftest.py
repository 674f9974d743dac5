"""Shared test set-up: one pinned CPU thread for test bodies and fixtures alike."""

from __future__ import annotations

import pytest
import torch

TEST_THREADS = 1


def pytest_configure(config: pytest.Config) -> None:
    """Pin torch's threads before any fixture runs, so a module- or session-scoped fixture that
    trains a model trains it at the same thread count on every machine (float sums, and so the
    trained model, depend on it)."""
    torch.set_num_threads(TEST_THREADS)


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny tensors gain nothing from threads, and on a 2-core machine extra threads thrash; a test
    that changes the count gets it restored."""
    torch.set_num_threads(TEST_THREADS)
    yield
    torch.set_num_threads(TEST_THREADS)


# --- The one shared tiny trained run (tests/tiny_runs.py) ---
@pytest.fixture(scope="session")
def tiny_trained(tmp_path_factory):
    """(run dir, task folder): a tiny TRM trained 100 steps at TEST_THREADS on four small tasks, shared
    by the predict, PoE and Kaggle tests."""
    from tiny_runs import train_tiny_run

    return train_tiny_run(tmp_path_factory.mktemp("tiny_run"))


@pytest.fixture(scope="session")
def tiny_run(tiny_trained):
    """The shared run directory alone (what the Kaggle bundle ships)."""
    return tiny_trained[0]


@pytest.fixture(scope="session")
def dependency_wheels():
    """The dependency wheels for this Python, downloaded once into ~/.cache/arcsolve/test-wheels
    (or $XDG_CACHE_HOME's) and reused by later sessions and fresh clones on the same machine.

    Downloading needs the package index (CI reaches it); a network failure fails the tests that
    need these wheels, it never skips them."""
    import os
    import sys
    from pathlib import Path

    from arcsolve.errors import BadInputError
    from arcsolve.kaggle.wheels import download_wheels, runtime_requirements, select_wheels

    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = cache / "arcsolve" / "test-wheels" / python
    requirements = runtime_requirements()
    try:
        select_wheels(folder, requirements, (python,))
    except BadInputError:
        download_wheels(folder, requirements, (python,))
        select_wheels(folder, requirements, (python,))
    return folder, python


@pytest.fixture(scope="session")
def kaggle_bundle(tiny_run, dependency_wheels, tmp_path_factory):
    """A bundle of the tiny checkpoint: small TTA, a little adaptation, this Python's wheels."""
    from arcsolve.kaggle.bundle import build_bundle
    from arcsolve.kaggle.options import BundleOptions, HiddenTaskOptions

    wheels, python = dependency_wheels
    options = BundleOptions(
        tta=2,
        time_budget=0,
        hidden=HiddenTaskOptions(adapt_steps=3, adapt_aug=2, batch_size=16),
        extra_args=("--adapt-lr", "0.02"),
        python_versions=(python,),
        wheels_dir=wheels,
    )
    return build_bundle(tiny_run, tmp_path_factory.mktemp("kaggle_bundle") / "bundle", options)
