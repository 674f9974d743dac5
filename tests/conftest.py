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
