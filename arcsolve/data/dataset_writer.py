"""The streaming writer of the dataset format described in `arcsolve/data/dataset.py`.

A "recipe" writer (ARC) writes no token rows: the builder hands it each task's grids and pairs
(`add_task`) and each group's puzzle ids, offsets and example indices; see `arcsolve/data/recipe.py`.

Rows are streamed straight into the .npy files (header first, rows appended, the header patched
with the final row count), so a build holds one group's arrays at a time, never all examples.
`meta.json` is written last, and the folder is renamed from `NAME.tmp/` to `NAME` only then.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from arcsolve.augment.kernels import PackedGrids
from arcsolve.data.dataset import (
    AUGMENTATIONS_FILE,
    FORMAT_VERSION,
    KINDS,
    META_FILE,
    SPLITS,
    STORAGES,
    ExtraSpec,
    npy_header,
)
from arcsolve.data.recipe import GRID_CELLS_FILE, GRID_SHAPES_FILE, RECIPE_ROW_ARRAYS, UNKNOWN_GRID
from arcsolve.errors import BadInputError
from arcsolve.io import atomic_directory, atomic_write_json


class NpyAppender:
    """Stream rows of one dtype and row shape into a .npy file; `close()` fixes the row count.

    NumPy pads the header so that the first dimension can grow in place, so the final header has
    the same length as the one written up front (checked, not assumed).
    """

    def __init__(self, path: Path, dtype: Any, row_shape: tuple[int, ...] = ()) -> None:
        self.path = Path(path)
        self.dtype = np.dtype(dtype)
        self.row_shape = tuple(row_shape)
        self.rows = 0
        self._hash = hashlib.sha256()
        self._header_len = len(npy_header(self.dtype, (0, *self.row_shape)))
        self._file = open(self.path, "wb")  # noqa: SIM115 (closed in close())
        self._file.write(npy_header(self.dtype, (0, *self.row_shape)))

    def append(self, rows: np.ndarray) -> None:
        rows = np.asarray(rows)
        if rows.shape[1:] != self.row_shape:
            raise ValueError(f"{self.path.name}: rows of shape {rows.shape[1:]}, expected {self.row_shape}")
        if rows.size == 0:  # (a task with no pairs in a split); an empty view cannot be cast to bytes
            return
        data = memoryview(np.ascontiguousarray(rows, dtype=self.dtype)).cast("B")
        self._file.write(data)
        self._hash.update(data)
        self.rows += rows.shape[0]

    def close(self) -> dict[str, Any]:
        """Patch the header with the final shape; return the file's description for meta.json."""
        header = npy_header(self.dtype, (self.rows, *self.row_shape))
        if len(header) != self._header_len:
            raise RuntimeError(f"{self.path}: .npy header changed length while growing")
        self._file.seek(0)
        self._file.write(header)
        self._file.close()
        shape = [self.rows, *self.row_shape]
        return {"dtype": self.dtype.name, "shape": shape, "sha256": self._hash.hexdigest()}

    def abort(self) -> None:
        self._file.close()


class SplitWriter:
    """Appends whole groups (an original task and its versions) to one split folder; a recipe split
    keeps each puzzle's id and each task's pairs instead of token rows."""

    def __init__(self, folder: Path, seq_len: int, extras: ExtraSpec, recipe: bool = False) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.seq_len = seq_len
        self.extras = dict(extras)
        self.recipe = recipe
        rows: dict[str, tuple[Any, tuple[int, ...]]]
        if recipe:
            rows = {"puzzles": (np.int32, ()), "pairs": (np.int32, (2,)), **RECIPE_ROW_ARRAYS}
        else:
            rows = {
                "inputs": (np.uint8, (seq_len,)),
                "labels": (np.uint8, (seq_len,)),
                "puzzle_ids": (np.int32, ()),
                **extras,
            }
        self._files = {name: NpyAppender(folder / f"{name}.npy", dt, sh) for name, (dt, sh) in rows.items()}
        self._puzzle_sizes: list[np.ndarray] = []
        self._group_sizes: list[int] = []
        self._pair_counts: list[int] = []

    def add_pairs(self, pairs: np.ndarray) -> None:
        """The next task's pairs in this split (recipe only): int [n, 2] dataset-wide grid ids,
        output -1 when unknown. Every task calls this, with no pairs when it has none here."""
        pairs = np.asarray(pairs).reshape(-1, 2)
        self._files["pairs"].append(pairs)
        self._pair_counts.append(int(pairs.shape[0]))

    def add_group(
        self,
        inputs: np.ndarray | None,
        labels: np.ndarray | None,
        puzzle_ids: np.ndarray,
        puzzle_sizes: np.ndarray,
        **extras: np.ndarray,
    ) -> None:
        """One group: `puzzle_sizes[p]` consecutive examples for each of its puzzles, in order. A recipe
        split takes no rows (None) and needs the puzzle id to be the same over each puzzle's examples."""
        sizes = np.asarray(puzzle_sizes, dtype=np.int64).reshape(-1)
        n = int(sizes.sum())
        if sizes.size == 0 or sizes.min() < 1:
            raise ValueError("a group needs at least one puzzle and every puzzle at least one example")
        if len(puzzle_ids) != n or (not self.recipe and (inputs is None or labels is None)):
            raise ValueError(f"group arrays must hold {n} examples")
        if set(extras) != set(self.extras) or any(len(rows) != n for rows in extras.values()):
            raise ValueError(f"extra arrays must be exactly {sorted(self.extras)}, each of {n} examples")
        arrays: dict[str, Any] = dict(extras)
        if self.recipe:
            arrays = {
                "puzzles": self._recipe_puzzles(sizes, puzzle_ids, extras),
                "offsets": extras["offsets"],
            }
        else:
            if len(inputs) != n or len(labels) != n:  # type: ignore[arg-type]
                raise ValueError(f"group arrays must hold {n} examples")
            arrays.update(inputs=inputs, labels=labels, puzzle_ids=puzzle_ids)
        for name, rows in arrays.items():
            self._files[name].append(rows)
        self._puzzle_sizes.append(sizes)
        self._group_sizes.append(int(sizes.size))

    @staticmethod
    def _recipe_puzzles(
        sizes: np.ndarray, puzzle_ids: np.ndarray, extras: dict[str, np.ndarray]
    ) -> np.ndarray:
        """Each puzzle's id, after checking what a recipe split leaves implied: one puzzle id per
        puzzle, example indices that count 0, 1, ... inside each puzzle, offsets that fit uint8."""
        firsts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        position = np.arange(int(sizes.sum())) - np.repeat(firsts, sizes)
        if (np.asarray(puzzle_ids) != np.repeat(np.asarray(puzzle_ids)[firsts], sizes)).any():
            raise ValueError("a recipe split needs one puzzle id per puzzle")
        if "example_index" in extras and (np.asarray(extras["example_index"]) != position).any():
            raise ValueError("a recipe split needs each puzzle's examples in pair order")
        offsets = np.asarray(extras["offsets"])
        if offsets.size and (offsets.min() < 0 or offsets.max() > np.iinfo(np.uint8).max):
            raise ValueError("recipe offsets must lie in 0..255")
        return np.asarray(puzzle_ids)[firsts]

    def close(self) -> tuple[dict[str, int], dict[str, Any]]:
        """Finish the files; return (counts, file descriptions keyed by path inside the dataset)."""
        puzzle_index = _starts(self._puzzle_sizes)  # one int64 array; a million puzzles at aug 1000
        self._puzzle_sizes = []
        index_arrays = {"puzzle_index": puzzle_index, "group_index": _starts([np.array(self._group_sizes)])}
        if self.recipe:
            index_arrays["pair_index"] = _starts([np.array(self._pair_counts)])
        files: dict[str, Any] = {}
        for name, array in index_arrays.items():
            appender = NpyAppender(self.folder / f"{name}.npy", np.int64)
            appender.append(array)
            files[name] = appender.close()
        files.update({name: appender.close() for name, appender in self._files.items()})
        counts = {
            "examples": int(puzzle_index[-1]),
            "puzzles": int(puzzle_index.size - 1),
            "groups": len(self._group_sizes),
        }
        return counts, {f"{self.folder.name}/{name}.npy": desc for name, desc in sorted(files.items())}

    def abort(self) -> None:
        for appender in self._files.values():
            appender.abort()


def _starts(parts: list[np.ndarray]) -> np.ndarray:
    """int64 [n + 1]: 0, then the running total of the sizes in `parts` (concatenated), built in place."""
    total = sum(int(part.size) for part in parts)
    starts = np.zeros(total + 1, dtype=np.int64)
    at = 1
    for part in parts:
        starts[at : at + part.size] = part
        at += part.size
    np.cumsum(starts, out=starts)
    return starts


class DatasetWriter:
    """Context manager that streams a dataset into `out.tmp/` and renames it to `out` at the end.

        with DatasetWriter(out, "arc", seq_len=900, vocab_size=12, extras=...) as writer:
            writer.split("train").add_group(...)
            writer.finish(num_puzzle_ids, fields, augmentations)

    `out` must not exist unless `overwrite`. On an error, or when `finish` was never called, the
    temporary folder is deleted and nothing appears at `out`.
    """

    def __init__(
        self,
        out: str | Path,
        kind: str,
        seq_len: int,
        vocab_size: int,
        extras: ExtraSpec | None = None,
        overwrite: bool = False,
        storage: str = "materialized",
    ) -> None:
        if kind not in KINDS:
            raise BadInputError("dataset", f"unknown kind '{kind}' (known: {', '.join(KINDS)})")
        if storage not in STORAGES:
            raise BadInputError("dataset", f"unknown storage '{storage}' (known: {', '.join(STORAGES)})")
        self.storage = storage
        self._grid_cells: NpyAppender | None = None
        self._grid_shapes: NpyAppender | None = None
        self._num_grids = 0
        self.out = Path(out)
        self.kind = kind
        self.seq_len = int(seq_len)
        self.vocab_size = int(vocab_size)
        self.extras = dict(extras or {})
        self.overwrite = overwrite
        self._ctx: contextlib.AbstractContextManager[Path] | None = None
        self._tmp: Path | None = None
        self._splits: dict[str, SplitWriter] = {}
        self._finished = False

    def __enter__(self) -> DatasetWriter:
        if self.out.exists() and not self.overwrite:
            raise BadInputError(str(self.out), "already exists (pass --overwrite to replace it)")
        self._ctx = atomic_directory(self.out, overwrite=self.overwrite)
        self._tmp = self._ctx.__enter__()
        if self.recipe:
            self._grid_cells = NpyAppender(self._tmp / GRID_CELLS_FILE, np.uint8)
            self._grid_shapes = NpyAppender(self._tmp / GRID_SHAPES_FILE, np.uint8, (2,))
        return self

    @property
    def recipe(self) -> bool:
        return self.storage == "recipe"

    def add_task(self, packed: PackedGrids, pairs: dict[str, np.ndarray]) -> None:
        """The next task's grids and, per split, its pairs of grid ids into `packed` (output -1 when
        unknown); a split it has no pairs in may be left out. Recipe only; tasks in task-index order."""
        if self._grid_cells is None or self._grid_shapes is None:
            raise RuntimeError("add_task is for a recipe writer inside its context")
        self._grid_cells.append(packed.flat)
        self._grid_shapes.append(np.stack([packed.heights, packed.widths], axis=1))
        for name in SPLITS:
            local = np.asarray(pairs.get(name, np.zeros((0, 2))), dtype=np.int64).reshape(-1, 2)
            shifted = np.where(local == UNKNOWN_GRID, UNKNOWN_GRID, local + self._num_grids)
            self.split(name).add_pairs(shifted)
        self._num_grids += len(packed)

    def split(self, name: str) -> SplitWriter:
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}")
        if self._tmp is None:
            raise RuntimeError("use DatasetWriter as a context manager")
        if name not in self._splits:
            self._splits[name] = SplitWriter(self._tmp / name, self.seq_len, self.extras, self.recipe)
        return self._splits[name]

    def write_file(self, name: str, parts: Iterable[bytes]) -> str:
        """An extra file beside meta.json (not an array: meta.json does not list it), written part by
        part (no joined copy of a large file); returns its sha256."""
        if self._tmp is None:
            raise RuntimeError("use DatasetWriter as a context manager")
        digest = hashlib.sha256()
        with open(self._tmp / name, "wb") as handle:
            for part in parts:
                handle.write(part)
                digest.update(part)
        return digest.hexdigest()

    def finish(
        self, num_puzzle_ids: int, fields: dict[str, Any], augmentations: np.ndarray | None = None
    ) -> dict[str, Any]:
        """Close every split (an unused split is written empty), write the table and meta.json last."""
        if self._tmp is None:
            raise RuntimeError("use DatasetWriter as a context manager")
        counts, files = {}, {}
        for name in SPLITS:
            counts[name], split_files = self.split(name).close()
            files.update(split_files)
        if augmentations is not None:
            table = NpyAppender(self._tmp / AUGMENTATIONS_FILE, np.int32, tuple(augmentations.shape[1:]))
            table.append(augmentations)
            files[AUGMENTATIONS_FILE] = table.close()
        for name, appender in ((GRID_CELLS_FILE, self._grid_cells), (GRID_SHAPES_FILE, self._grid_shapes)):
            if appender is not None:
                files[name] = appender.close()
        meta = {
            "format_version": FORMAT_VERSION,
            "kind": self.kind,
            "storage": self.storage,
            "seq_len": self.seq_len,
            "vocab_size": self.vocab_size,
            "num_puzzle_ids": int(num_puzzle_ids),
            **fields,
            "counts": counts,
            "files": files,
        }
        atomic_write_json(self._tmp / META_FILE, meta, indent=True)
        self._finished = True
        return meta

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._ctx is not None
        if error is None and not self._finished:
            error = RuntimeError("DatasetWriter closed without finish(); the partial dataset was deleted")
            self._abort()
            self._ctx.__exit__(RuntimeError, error, None)
            raise error
        if error is not None:
            self._abort()
        self._ctx.__exit__(kind, error, tb)

    def _abort(self) -> None:
        for split in self._splits.values():
            split.abort()
        for appender in (self._grid_cells, self._grid_shapes):
            if appender is not None:
                appender.abort()
