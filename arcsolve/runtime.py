"""Where and how tensors run: device choice, CPU threads, and the model's batch dict.

Training (`arcsolve/train/loop.py`), test-time adaptation and prediction (`arcsolve/predict/`) and the
benchmarks all resolve devices, set threads and build batches here, so a bad device is the same
one-line error (exit 2) everywhere.
"""

from __future__ import annotations

import contextlib
import os

import numpy as np
import torch

from arcsolve.errors import BadInputError


def resolve_device(choice: str, where: str = "device") -> torch.device:
    """`auto` picks CUDA when present; an explicit `cuda` without a GPU is an error naming `where`
    (e.g. `train.device`), never a silent CPU run."""
    if choice == "auto":
        choice = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(choice)
    except RuntimeError:
        raise BadInputError(where, f"unknown device {choice!r}; use auto, cpu or cuda") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise BadInputError(where, f"{choice!r} but no CUDA device is visible; use cpu or auto")
    if device.type not in ("cpu", "cuda"):
        raise BadInputError(where, f"unsupported device {choice!r}; use auto, cpu or cuda")
    return device


def set_cpu_threads(threads: int) -> None:
    """Use `threads` CPU threads for torch (0 = leave torch's default)."""
    if threads > 0:
        torch.set_num_threads(threads)
        with contextlib.suppress(RuntimeError):  # inter-op threads can only be set before first use
            torch.set_num_interop_threads(max(1, min(threads, os.cpu_count() or 1)))


def arrays_to_batch(
    inputs: np.ndarray, labels: np.ndarray, puzzle_ids: np.ndarray, device: torch.device
) -> dict[str, torch.Tensor]:
    """The model's batch dict (int64 tensors on `device`) from token rows and their puzzle ids."""
    arrays = {"inputs": inputs, "labels": labels, "puzzle_ids": puzzle_ids}
    batch = {k: torch.from_numpy(np.ascontiguousarray(v).astype(np.int64)) for k, v in arrays.items()}
    pin = device.type == "cuda"
    return {k: (v.pin_memory() if pin else v).to(device, non_blocking=pin) for k, v in batch.items()}
