"""What a checkpoint says about itself, typed: its run config (`RunConfig`, with its `ModelConfig` and
`TrainConfig`) and the dataset it was trained on (`DatasetMeta`).

Both are read back with the same strict loader as a TOML config (`arcsolve/config.py` `from_dict`),
so a missing, unknown or mistyped key is one clear error naming the checkpoint and the key, and
every reader (resume, predict, adaptation, the Kaggle bundle) gets dataclasses with the defaults
of one place instead of dicts with defaults written again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from arcsolve.config import from_dict
from arcsolve.constants import AUG_TABLE_COLUMNS
from arcsolve.data.dataset import TokenDataset
from arcsolve.errors import BadInputError, ConfigError
from arcsolve.train.config import RunConfig


@dataclass(frozen=True)
class DatasetMeta:
    """The dataset a checkpoint was trained on, as far as using the checkpoint needs it."""

    fingerprint: str
    kind: Literal["arc", "sudoku", "maze"]
    seq_len: int
    vocab_size: int
    num_puzzle_ids: int
    canvas: int | None = None  # ARC: the canvas side (seq_len = canvas * canvas)
    task_ids: tuple[str, ...] = ()  # ARC: task index -> task id
    augmentations: np.ndarray | None = None  # ARC: int32 [num_puzzle_ids, 12] (task, dihedral, colours)

    def validate(self, where: str) -> None:
        if self.augmentations is not None and self.augmentations.shape != (
            self.num_puzzle_ids,
            AUG_TABLE_COLUMNS,
        ):
            raise ConfigError(
                where,
                f"dataset.augmentations has shape {self.augmentations.shape}, expected "
                f"({self.num_puzzle_ids}, {AUG_TABLE_COLUMNS}): one row per puzzle id",
            )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "task_ids": list(self.task_ids)}


def describe_dataset(dataset: TokenDataset) -> DatasetMeta:
    meta = dataset.meta
    table = dataset.augmentations
    return DatasetMeta(
        fingerprint=dataset.fingerprint,
        kind=dataset.kind,  # type: ignore[arg-type]
        seq_len=dataset.seq_len,
        vocab_size=dataset.vocab_size,
        num_puzzle_ids=dataset.num_puzzle_ids,
        canvas=meta.get("canvas"),
        task_ids=tuple(meta.get("task_ids", ())),
        augmentations=None if table is None else np.array(table, dtype=np.int32),
    )


def checkpoint_meta(payload: dict[str, Any], where: str) -> tuple[RunConfig, DatasetMeta]:
    """The checkpoint's run config and dataset description, typed and checked."""
    for key in ("config", "dataset"):
        if not isinstance(payload.get(key), dict):
            raise BadInputError(where, f"checkpoint holds no '{key}' table")
    cfg = from_dict(RunConfig, payload["config"], where=f"{where}: config")
    data = dict(payload["dataset"])
    if data.get("augmentations") is not None:
        data["augmentations"] = np.asarray(data["augmentations"], dtype=np.int32)  # int16 before format 2
    meta = from_dict(DatasetMeta, data, where=f"{where}: dataset")
    return cfg, meta
