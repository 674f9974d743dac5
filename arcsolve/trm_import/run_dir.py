"""`arcsolve import trm`: a reference checkpoint + its dataset -> an arcsolve run directory.

The run directory is what training writes (`config.toml`, `checkpoints/step_N.pt`, `latest.pt`),
plus `import.json` (where it came from and what was checked), so `predict`, `kaggle bundle` and
adaptation take it like any other. It is built in `OUT.tmp/` and renamed only when complete: a
refused input or a crash leaves nothing at OUT. It holds evaluation weights only (no optimizer
state), so `arcsolve train --resume` cannot continue it.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson
import torch

from arcsolve.config import to_toml
from arcsolve.constants import ARC_VOCAB_SIZE, MAX_GRID
from arcsolve.errors import BadInputError
from arcsolve.io import atomic_directory
from arcsolve.train.checkpoint import CHECKPOINT_FORMAT, git_revision
from arcsolve.train.config import DataConfig, RunConfig
from arcsolve.train.run_meta import DatasetMeta
from arcsolve.trm_import.checkpoint import convert_state, load_reference_state
from arcsolve.trm_import.config import model_config, read_reference_config, train_config
from arcsolve.trm_import.dataset import read_dataset

CONFIG_NAME = "all_config.yaml"  # what the reference writes beside its checkpoints


@dataclass(frozen=True)
class ImportSummary:
    out: Path
    checkpoint: Path
    step: int
    num_puzzle_ids: int
    tasks: int
    dataset_layout: str
    test_rows_checked: int
    notes: tuple[str, ...]

    def lines(self) -> list[str]:
        lines = [
            f"{self.out}: imported {self.checkpoint.name} (step {self.step}), {self.num_puzzle_ids} puzzle ids "
            f"of {self.tasks} tasks from the {self.dataset_layout} dataset layout; "
            f"{self.test_rows_checked} test rows matched their identifiers",
        ]
        return lines + [f"note: {note}" for note in self.notes]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 24):
            digest.update(chunk)
    return digest.hexdigest()


def _step(path: Path) -> int:
    found = re.search(r"step_(\d+)", path.name)
    return int(found.group(1)) if found else 0


def import_trm(
    checkpoint: Path, dataset: Path, out: Path, config: Path | None = None, overwrite: bool = False
) -> ImportSummary:
    """Check everything, then write the run directory OUT atomically (see the module docstring)."""
    checkpoint, dataset, out = Path(checkpoint), Path(dataset), Path(out)
    if out.exists() and not overwrite:
        raise BadInputError(str(out), "already exists (pass --overwrite to replace it)")
    config_path = Path(config) if config is not None else checkpoint.parent / CONFIG_NAME
    reference = read_reference_config(config_path)
    arch = model_config(reference, str(config_path))
    data = read_dataset(dataset)
    state = load_reference_state(checkpoint)
    weights = convert_state(state, arch, data.num_puzzle_ids, str(checkpoint), str(dataset))
    run_cfg = RunConfig(
        data=DataConfig(path=str(dataset.resolve())), model=arch.model, train=train_config(reference)
    )
    step = _step(checkpoint)
    payload: dict[str, Any] = {
        "format": CHECKPOINT_FORMAT,
        "step": step,
        "config": asdict(run_cfg),
        "dataset": DatasetMeta(
            fingerprint=data.fingerprint,
            kind="arc",
            seq_len=MAX_GRID**2,
            vocab_size=ARC_VOCAB_SIZE,
            num_puzzle_ids=data.num_puzzle_ids,
            canvas=MAX_GRID,
            task_ids=data.task_ids,
            augmentations=data.augmentations,
        ).to_dict(),
        "eval_model": weights,
        "git_revision": git_revision(),
    }
    provenance = {
        "checkpoint": str(checkpoint.resolve()),
        "checkpoint_sha256": _sha256(checkpoint),
        "config": str(config_path.resolve()),
        "reference_arch": reference["arch"],
        "dataset": str(dataset.resolve()),
        "dataset_layout": data.layout,
        "dataset_fingerprint": data.fingerprint,
        "test_rows_checked": data.test_rows_checked,
        "notes": list(arch.notes),
    }
    with atomic_directory(out, overwrite=overwrite) as tmp:
        folder = tmp / "checkpoints"
        folder.mkdir()
        name = f"step_{step:08d}.pt"
        torch.save(payload, folder / name)  # straight to the file: no second in-memory copy
        os.symlink(name, folder / "latest.pt")
        (tmp / "config.toml").write_text(to_toml(asdict(run_cfg)), encoding="utf-8")
        (tmp / "import.json").write_bytes(orjson.dumps(provenance, option=orjson.OPT_INDENT_2))
    return ImportSummary(
        out,
        checkpoint,
        step,
        data.num_puzzle_ids,
        len(data.task_ids),
        data.layout,
        data.test_rows_checked,
        arch.notes,
    )
