"""The on-disk dataset format shared by the ARC, sudoku and maze builders: streaming writer, memmapped reader.

Layout of a dataset directory (written as `NAME.tmp/`, renamed to `NAME` when complete):

    meta.json              format version, kind, seq_len, vocab_size, num_puzzle_ids, counts, file
                           shapes and sha256 hashes, plus whatever the builder adds (sources, config)
    augmentations.npy      int16 [num_puzzle_ids, 12] (ARC only): task index, dihedral id, colour map
    train/, test/          one folder per split, each holding
        inputs.npy         uint8 [N, seq_len]
        labels.npy         uint8 [N, seq_len]
        puzzle_ids.npy     int32 [N]       the puzzle id (task embedding row) of each example
        puzzle_index.npy   int64 [P + 1]   examples of puzzle p are rows puzzle_index[p]:puzzle_index[p+1]
        group_index.npy    int64 [G + 1]   puzzles of group g are group_index[g]:group_index[g+1]
        <extra>.npy        per-example arrays a builder declares (ARC: offsets int16 [N, 2],
                           example_index int16 [N])

Rows are streamed straight into the .npy files (header first, rows appended, the header patched
with the final row count), so a build holds one group's arrays at a time, never all examples.
`meta.json` is written last; a folder without it, or a leftover `NAME.tmp`, is not a dataset.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import orjson

from arcsolve.errors import BadInputError
from arcsolve.io import atomic_directory, atomic_write_json

FORMAT_VERSION = 1
META_FILE = "meta.json"
AUGMENTATIONS_FILE = "augmentations.npy"
SPLITS = ("train", "test")
KINDS = ("arc", "sudoku", "maze")
CORE_ARRAYS = ("inputs", "labels", "puzzle_ids", "puzzle_index", "group_index")
ExtraSpec = dict[str, tuple[Any, tuple[int, ...]]]  # name -> (dtype, shape of one example's entry)


def _npy_header(dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    sink = io.BytesIO()
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(sink, header)
    return sink.getvalue()


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
        self._header_len = len(_npy_header(self.dtype, (0, *self.row_shape)))
        self._file = open(self.path, "wb")  # noqa: SIM115 (closed in close())
        self._file.write(_npy_header(self.dtype, (0, *self.row_shape)))

    def append(self, rows: np.ndarray) -> None:
        rows = np.asarray(rows)
        if rows.shape[1:] != self.row_shape:
            raise ValueError(f"{self.path.name}: rows of shape {rows.shape[1:]}, expected {self.row_shape}")
        data = memoryview(np.ascontiguousarray(rows, dtype=self.dtype)).cast("B")
        self._file.write(data)
        self._hash.update(data)
        self.rows += rows.shape[0]

    def close(self) -> dict[str, Any]:
        """Patch the header with the final shape; return the file's description for meta.json."""
        header = _npy_header(self.dtype, (self.rows, *self.row_shape))
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
    """Appends whole groups (an original task and its versions) to one split folder."""

    def __init__(self, folder: Path, seq_len: int, extras: ExtraSpec) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.seq_len = seq_len
        self.extras = dict(extras)
        self._inputs = NpyAppender(folder / "inputs.npy", np.uint8, (seq_len,))
        self._labels = NpyAppender(folder / "labels.npy", np.uint8, (seq_len,))
        self._puzzle_ids = NpyAppender(folder / "puzzle_ids.npy", np.int32)
        self._extra = {name: NpyAppender(folder / f"{name}.npy", dt, sh) for name, (dt, sh) in extras.items()}
        self._puzzle_sizes: list[np.ndarray] = []
        self._group_sizes: list[int] = []

    def add_group(
        self,
        inputs: np.ndarray,
        labels: np.ndarray,
        puzzle_ids: np.ndarray,
        puzzle_sizes: np.ndarray,
        **extras: np.ndarray,
    ) -> None:
        """One group: `puzzle_sizes[p]` consecutive examples for each of its puzzles, in order."""
        sizes = np.asarray(puzzle_sizes, dtype=np.int64).reshape(-1)
        n = int(sizes.sum())
        if sizes.size == 0 or sizes.min() < 1:
            raise ValueError("a group needs at least one puzzle and every puzzle at least one example")
        if len(inputs) != n or len(labels) != n or len(puzzle_ids) != n:
            raise ValueError(f"group arrays must hold {n} examples")
        if set(extras) != set(self.extras) or any(len(rows) != n for rows in extras.values()):
            raise ValueError(f"extra arrays must be exactly {sorted(self.extras)}, each of {n} examples")
        self._inputs.append(inputs)
        self._labels.append(labels)
        self._puzzle_ids.append(puzzle_ids)
        for name, rows in extras.items():
            self._extra[name].append(rows)
        self._puzzle_sizes.append(sizes)
        self._group_sizes.append(int(sizes.size))

    def close(self) -> tuple[dict[str, int], dict[str, Any]]:
        """Finish the files; return (counts, file descriptions keyed by path inside the dataset)."""
        sizes = np.concatenate(self._puzzle_sizes) if self._puzzle_sizes else np.zeros(0, np.int64)
        puzzle_index = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        group_index = np.concatenate([[0], np.cumsum(self._group_sizes, dtype=np.int64)]).astype(np.int64)
        files: dict[str, Any] = {}
        for name, array in (("puzzle_index", puzzle_index), ("group_index", group_index)):
            appender = NpyAppender(self.folder / f"{name}.npy", np.int64)
            appender.append(array)
            files[name] = appender.close()
        files["inputs"] = self._inputs.close()
        files["labels"] = self._labels.close()
        files["puzzle_ids"] = self._puzzle_ids.close()
        files.update({name: appender.close() for name, appender in self._extra.items()})
        counts = {
            "examples": int(puzzle_index[-1]),
            "puzzles": int(sizes.size),
            "groups": len(self._group_sizes),
        }
        return counts, {f"{self.folder.name}/{name}.npy": desc for name, desc in sorted(files.items())}

    def abort(self) -> None:
        for appender in (self._inputs, self._labels, self._puzzle_ids, *self._extra.values()):
            appender.abort()


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
    ) -> None:
        if kind not in KINDS:
            raise BadInputError("dataset", f"unknown kind '{kind}' (known: {', '.join(KINDS)})")
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
        return self

    def split(self, name: str) -> SplitWriter:
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}")
        if self._tmp is None:
            raise RuntimeError("use DatasetWriter as a context manager")
        if name not in self._splits:
            self._splits[name] = SplitWriter(self._tmp / name, self.seq_len, self.extras)
        return self._splits[name]

    def write_file(self, name: str, data: bytes) -> None:
        """An extra file beside meta.json (not an array: meta.json does not list it)."""
        if self._tmp is None:
            raise RuntimeError("use DatasetWriter as a context manager")
        (self._tmp / name).write_bytes(data)

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
            table = NpyAppender(self._tmp / AUGMENTATIONS_FILE, np.int16, tuple(augmentations.shape[1:]))
            table.append(augmentations)
            files[AUGMENTATIONS_FILE] = table.close()
        meta = {
            "format_version": FORMAT_VERSION,
            "kind": self.kind,
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


def dataset_fingerprint(path: str | Path) -> str:
    """sha256 of the dataset's meta.json, which holds the sha256 of every array file."""
    meta_path = Path(path) / META_FILE
    try:
        return hashlib.sha256(meta_path.read_bytes()).hexdigest()
    except OSError:
        raise BadInputError(str(path), "not a dataset directory (no readable meta.json)") from None


@dataclass(frozen=True)
class SplitArrays:
    """One split's arrays, memmapped read-only. `extras` holds the builder's per-example arrays."""

    name: str
    inputs: np.ndarray
    labels: np.ndarray
    puzzle_ids: np.ndarray
    puzzle_index: np.ndarray
    group_index: np.ndarray
    extras: dict[str, np.ndarray]

    @property
    def num_examples(self) -> int:
        return int(self.inputs.shape[0])

    @property
    def num_puzzles(self) -> int:
        return int(self.puzzle_index.shape[0]) - 1

    @property
    def num_groups(self) -> int:
        return int(self.group_index.shape[0]) - 1


_META_TYPES = {"format_version": int, "kind": str, "seq_len": int, "vocab_size": int, "num_puzzle_ids": int}


def read_meta(path: str | Path) -> dict[str, Any]:
    """meta.json of the dataset at `path`, checked; BadInputError says what is wrong."""
    path = Path(path)
    where = str(path)
    if path.name.endswith(".tmp"):
        raise BadInputError(where, "is an unfinished build (a leftover .tmp folder), not a dataset")
    if not path.is_dir():
        tmp = path.with_name(path.name + ".tmp")
        hint = f" ({tmp.name} is an unfinished build; run the build again)" if tmp.exists() else ""
        raise BadInputError(where, f"no such dataset directory{hint}")
    try:
        meta = orjson.loads((path / META_FILE).read_bytes())
    except FileNotFoundError:
        raise BadInputError(where, f"not a dataset directory: {META_FILE} is missing") from None
    except orjson.JSONDecodeError as err:
        raise BadInputError(where, f"{META_FILE} is corrupt: {err}") from None
    if not isinstance(meta, dict):
        raise BadInputError(where, f"{META_FILE} is corrupt: expected a JSON object")
    for key, tp in _META_TYPES.items():
        if type(meta.get(key)) is not tp:
            raise BadInputError(where, f"{META_FILE} is corrupt: '{key}' is missing or not {tp.__name__}")
    if meta["format_version"] != FORMAT_VERSION:
        raise BadInputError(
            where,
            f"dataset format {meta['format_version']}, this arcsolve reads {FORMAT_VERSION}; rebuild it",
        )
    if not isinstance(meta.get("files"), dict) or not isinstance(meta.get("counts"), dict):
        raise BadInputError(where, f"{META_FILE} is corrupt: 'files' or 'counts' is missing")
    return meta


def _load(root: Path, rel: str, desc: Any) -> np.ndarray:
    where = str(root / rel)
    try:
        array = np.load(root / rel, mmap_mode="r", allow_pickle=False)
    except FileNotFoundError:
        raise BadInputError(where, "missing file") from None
    except (ValueError, OSError, EOFError) as err:
        raise BadInputError(where, f"corrupt .npy file: {err}") from None
    if (
        not isinstance(desc, dict)
        or array.dtype.name != desc.get("dtype")
        or list(array.shape) != desc.get("shape")
    ):
        raise BadInputError(where, f"holds {array.dtype.name} {list(array.shape)}, meta.json says {desc}")
    return array


def _check_index(where: str, index: np.ndarray, total: int, what: str) -> None:
    if index.ndim != 1 or index.shape[0] < 1 or index[0] != 0 or index[-1] != total:
        raise BadInputError(where, f"{what} must run from 0 to {total}")
    if (np.diff(index) < 0).any():
        raise BadInputError(where, f"{what} is not sorted")


class TokenDataset:
    """A dataset directory opened read-only: meta, the augmentations table and memmapped splits."""

    def __init__(
        self, path: Path, meta: dict[str, Any], augmentations: np.ndarray | None, splits: dict
    ) -> None:
        self.path = path
        self.meta = meta
        self.augmentations = augmentations
        self.splits: dict[str, SplitArrays] = splits

    @classmethod
    def open(cls, path: str | Path, kind: str | None = None) -> TokenDataset:
        """Open and check the dataset at `path` (of `kind`, when given)."""
        root = Path(path)
        meta = read_meta(root)
        if kind is not None and meta["kind"] != kind:
            raise BadInputError(str(root), f"is a {meta['kind']} dataset, expected {kind}")
        files = meta["files"]
        augmentations = None
        if AUGMENTATIONS_FILE in files:
            augmentations = _load(root, AUGMENTATIONS_FILE, files[AUGMENTATIONS_FILE])
            if augmentations.ndim != 2 or augmentations.shape[0] != meta["num_puzzle_ids"]:
                raise BadInputError(str(root / AUGMENTATIONS_FILE), "needs one row per puzzle id")
        splits = {name: cls._open_split(root, name, meta) for name in SPLITS}
        return cls(root, meta, augmentations, splits)

    @staticmethod
    def _open_split(root: Path, name: str, meta: dict[str, Any]) -> SplitArrays:
        files = meta["files"]
        names = sorted(rel[len(name) + 1 : -4] for rel in files if rel.startswith(f"{name}/"))
        missing = [core for core in CORE_ARRAYS if core not in names]
        if missing:
            raise BadInputError(str(root / META_FILE), f"lists no {name}/{missing[0]}.npy")
        arrays = {n: _load(root, f"{name}/{n}.npy", files[f"{name}/{n}.npy"]) for n in names}
        where = str(root / name)
        n_examples = arrays["inputs"].shape[0]
        for n, array in arrays.items():
            if n not in ("puzzle_index", "group_index") and array.shape[0] != n_examples:
                raise BadInputError(where, f"{n}.npy has {array.shape[0]} rows, inputs.npy has {n_examples}")
        if (
            arrays["inputs"].shape[1:] != (meta["seq_len"],)
            or arrays["labels"].shape != arrays["inputs"].shape
        ):
            raise BadInputError(where, f"inputs and labels must be [N, {meta['seq_len']}]")
        _check_index(where, arrays["puzzle_index"], n_examples, "puzzle_index")
        _check_index(where, arrays["group_index"], arrays["puzzle_index"].shape[0] - 1, "group_index")
        ids = arrays["puzzle_ids"]
        if n_examples and (ids.min() < 0 or ids.max() >= meta["num_puzzle_ids"]):
            raise BadInputError(where, f"puzzle_ids must lie in 0..{meta['num_puzzle_ids'] - 1}")
        extras = {n: a for n, a in arrays.items() if n not in CORE_ARRAYS}
        core = {n: arrays[n] for n in CORE_ARRAYS}
        return SplitArrays(name=name, extras=extras, **core)

    def split(self, name: str) -> SplitArrays:
        if name not in self.splits:
            raise BadInputError(str(self.path), f"no split '{name}' (known: {', '.join(self.splits)})")
        return self.splits[name]

    @property
    def kind(self) -> str:
        return self.meta["kind"]

    @property
    def seq_len(self) -> int:
        return self.meta["seq_len"]

    @property
    def vocab_size(self) -> int:
        return self.meta["vocab_size"]

    @property
    def num_puzzle_ids(self) -> int:
        return self.meta["num_puzzle_ids"]

    @property
    def fingerprint(self) -> str:
        return dataset_fingerprint(self.path)

    def verify(self) -> None:
        """Re-hash every array file against meta.json (reads the whole dataset)."""
        for rel, desc in self.meta["files"].items():
            digest = hashlib.sha256()
            with open(self.path / rel, "rb") as handle:
                handle.seek(len(_npy_header(np.dtype(desc["dtype"]), tuple(desc["shape"]))))
                for chunk in iter(lambda handle=handle: handle.read(1 << 24), b""):
                    digest.update(chunk)
            if digest.hexdigest() != desc["sha256"]:
                raise BadInputError(str(self.path / rel), "contents differ from the sha256 in meta.json")
