"""Self-describing checkpoints, written atomically.

`runs/NAME/checkpoints/step_000123.pt` holds everything needed to resume or predict: weights (plain
keys, never `_orig_mod.`), EMA weights, optimizer states, the batch cursor, RNG states, the resolved
config, the dataset fingerprint and description (seq_len, vocab, puzzle-id augmentation table), and
the git revision when known. `checkpoints/latest.pt` is a symlink to the newest complete one; it is
moved only after the file it points to is fully on disk, so a kill at any moment leaves either the
old or the new checkpoint as latest, never a half-written one.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import torch

from arcsolve.errors import BadInputError
from arcsolve.io import atomic_write_with

CHECKPOINT_FORMAT = 1
_STEP_FILE = re.compile(r"^step_(\d+)\.pt$")


def checkpoint_dir(run_dir: Path) -> Path:
    return Path(run_dir) / "checkpoints"


def strip_compile_prefix(state: dict[str, Any]) -> dict[str, Any]:
    """torch.compile wraps modules as `_orig_mod`; checkpoints keep the plain names."""
    return {key.replace("_orig_mod.", ""): value for key, value in state.items()}


@functools.cache
def git_revision() -> str | None:
    here = Path(__file__).resolve().parent
    with contextlib.suppress(Exception):
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
        )
        if out.returncode == 0:
            return out.stdout.strip()
    return None


def save_checkpoint(run_dir: Path, step: int, payload: dict[str, Any], keep: int = 3) -> Path:
    """Write `step_N.pt` atomically, repoint `latest.pt` at it, and keep only the newest `keep` files."""
    folder = checkpoint_dir(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"step_{step:08d}.pt"
    atomic_torch_save(path, {"format": CHECKPOINT_FORMAT, "step": step, **payload})
    link_tmp = folder / f".latest.{os.getpid()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        link_tmp.unlink()
    link_tmp.symlink_to(path.name)
    os.replace(link_tmp, folder / "latest.pt")
    # Temporary files left by a run killed mid-save (a half-written checkpoint can be gigabytes).
    # Ours are renamed by now, so any still here belongs to a dead process.
    for stale in [*folder.glob(".step_*.tmp"), *folder.glob(".latest.*.tmp")]:
        stale.unlink(missing_ok=True)
    if keep > 0:
        for old in list_checkpoints(run_dir)[:-keep]:
            old.unlink(missing_ok=True)
    return path


def atomic_torch_save(path: Path, payload: dict[str, Any]) -> None:
    """torch.save streamed into a temporary sibling (fsynced, then renamed over `path`).

    No in-memory copy of the file: torch.save writes one storage at a time (a device tensor is
    copied to the host storage by storage), and a storage referenced twice (the task table in the
    weights and in the eval weights) is written once. The folder is fsynced too, so the rename
    survives a power cut."""
    atomic_write_with(path, lambda handle: torch.save(payload, handle))
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be opened for fsync
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def list_checkpoints(run_dir: Path) -> list[Path]:
    folder = checkpoint_dir(run_dir)
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _STEP_FILE.match(p.name))]
    return [p for _, p in sorted(found)]


def latest_checkpoint(run_dir: Path) -> Path | None:
    link = checkpoint_dir(run_dir) / "latest.pt"
    if link.exists():
        return link.resolve()
    found = list_checkpoints(run_dir)
    return found[-1] if found else None


def resolve_checkpoint_path(path: Path) -> Path:
    """A checkpoint file, or a run directory (its latest checkpoint)."""
    path = Path(path)
    if path.is_dir():
        found = latest_checkpoint(path)
        if found is None:
            raise BadInputError(str(path), "run directory holds no checkpoint")
        return found
    if not path.is_file():
        raise BadInputError(str(path), "no such checkpoint file or run directory")
    return path


def load_checkpoint(
    path: Path, map_location: str | torch.device = "cpu", mmap: bool = False
) -> dict[str, Any]:
    """The checkpoint's payload. `mmap=True` maps the tensors from the file instead of reading them:
    predict only needs the eval weights, and resume copies every tensor into the live model, so
    neither needs the file in memory. (Checkpoints from before the task table was stored once hold
    it twice, as weights and eval weights; they load the same way.)"""
    path = resolve_checkpoint_path(path)
    try:
        payload = torch.load(path, map_location=map_location, weights_only=False, mmap=mmap)
    except Exception as err:  # noqa: BLE001 - torch raises many types for a corrupt file
        raise BadInputError(str(path), f"not a readable checkpoint ({type(err).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise BadInputError(str(path), "not an arcsolve checkpoint (missing or unknown format)")
    return payload
