"""Opening the training dataset (building a config's recipe on first use) and turning rows into tensors,
the next training batch gathered (a recipe dataset's rows encoded) in a background thread."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from arcsolve.data.arc_builder import build_arc_dataset
from arcsolve.data.build_configs import ArcBuildConfig, MazeBuildConfig
from arcsolve.data.dataset import SplitArrays, TokenDataset
from arcsolve.data.puzzle_builders import build_maze_dataset, build_sudoku_dataset
from arcsolve.errors import RunFailure
from arcsolve.runtime import arrays_to_batch
from arcsolve.train.batches import BatchCursor, TrainBatches
from arcsolve.train.config import DataConfig


def build_recipe(data: DataConfig, progress: bool = True) -> Path:
    """Build the recipe into its cache folder unless it is already there; return the folder."""
    found = data.recipe()
    path = data.cache_path()
    assert found is not None and path is not None
    if (path / "meta.json").exists():
        return path
    kind, recipe = found
    with torch_threads_kept():
        if kind == "arc":
            assert isinstance(recipe, ArcBuildConfig)
            build_arc_dataset(recipe, path, overwrite=True, progress=progress)
        elif kind == "maze":
            assert isinstance(recipe, MazeBuildConfig)
            build_maze_dataset(recipe, path, overwrite=True)
        else:
            build_sudoku_dataset(recipe, path, overwrite=True)  # type: ignore[arg-type]
    return path


@contextlib.contextmanager
def torch_threads_kept() -> Iterator[None]:
    """Give torch back its thread count after numba code ran.

    The sudoku and maze generators run numba `prange` kernels. When numba starts its OpenMP pool it
    sets the process-wide OpenMP thread count, which torch shares: a run with cpu_threads = 1 would
    go on with NUMBA_NUM_THREADS threads (all cores), and on a busy machine two threads spinning at
    each op's barrier made a CPU train step several times slower (benchmarks/run.py measured 5x).
    """
    threads = torch.get_num_threads()
    try:
        yield
    finally:
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)


def open_dataset(data: DataConfig, builder: bool = True, progress: bool = True) -> TokenDataset:
    """The config's dataset. Under torchrun the local rank 0 of every node (`builder`) builds a recipe
    into its cache; the other ranks of the node wait for its meta.json. When nodes share the cache
    folder, the first builder takes a lock file and the others wait for its build too."""
    if data.path is not None:
        return TokenDataset.open(data.path)
    path = data.cache_path()
    assert path is not None
    if (path / "meta.json").exists():
        return TokenDataset.open(path)
    lock = path.with_name(path.name + ".lock")
    if builder and _take_lock(lock):
        try:
            build_recipe(data, progress)
        finally:
            lock.unlink(missing_ok=True)
    else:
        if builder:
            print(f"waiting for another process's dataset build into {path} (lock {lock})", file=sys.stderr)
        deadline = time.monotonic() + 3600
        while not (path / "meta.json").exists():
            if time.monotonic() > deadline:
                raise RunFailure(
                    str(path),
                    f"timed out after 1 h waiting for the dataset build (lock {lock}); if a build "
                    "crashed, delete the lock, or build once with `arcsolve data build` and set data.path",
                )
            time.sleep(1.0)
    return TokenDataset.open(path)


def _take_lock(lock: Path) -> bool:
    lock.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def rows_to_batch(split: SplitArrays, rows: np.ndarray, device: torch.device) -> dict[str, torch.Tensor]:
    """Gather example rows from the split into a batch of tensors on `device`."""
    return arrays_to_batch(*gather_rows(split, rows), device)


def gather_rows(split: SplitArrays, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(inputs, labels, puzzle ids) of example rows; a recipe split encodes them here."""
    rows = np.sort(rows)  # sequential reads from the memmap; the order inside a batch does not matter
    return split.inputs[rows], split.labels[rows], split.puzzle_ids[rows]


class BatchFeed:
    """The training batches of `batches`, each gathered (and encoded, for a recipe dataset) in a
    background thread while the step before it runs: numba's encoder and NumPy's gathers release the
    GIL. `cursor` is where the stream stands after the last batch handed out, which is what a
    checkpoint saves (the batch already being prepared is not counted)."""

    def __init__(self, split: SplitArrays, batches: TrainBatches) -> None:
        self.split = split
        self.batches = batches
        self.cursor: BatchCursor = batches.cursor
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="arcsolve-batches")
        self._pending = self._submit()

    def _submit(self) -> Future:
        rows = self.batches.next()
        cursor = self.batches.cursor
        return self._pool.submit(lambda: (gather_rows(self.split, rows), cursor))

    def next(self, device: torch.device) -> dict[str, torch.Tensor]:
        arrays, self.cursor = self._pending.result()
        self._pending = self._submit()
        return arrays_to_batch(*arrays, device)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def pad_batch(batch: dict[str, torch.Tensor], size: int) -> tuple[dict[str, torch.Tensor], int]:
    """Pad a short eval batch to `size` rows with PAD inputs, no labels and the blank puzzle id."""
    n = batch["inputs"].shape[0]
    if n == size:
        return batch, n
    padded = {}
    for key, value in batch.items():
        extra = torch.zeros((size - n, *value.shape[1:]), dtype=value.dtype, device=value.device)
        padded[key] = torch.cat([value, extra])
    return padded, n
