"""The on-disk dataset format shared by the ARC, sudoku and maze builders, and its memmapped reader
(the streaming writer is `arcsolve/data/dataset_writer.py`).

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

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from arcsolve.errors import BadInputError

FORMAT_VERSION = 1
META_FILE = "meta.json"
AUGMENTATIONS_FILE = "augmentations.npy"
SPLITS = ("train", "test")
KINDS = ("arc", "sudoku", "maze")
CORE_ARRAYS = ("inputs", "labels", "puzzle_ids", "puzzle_index", "group_index")
ExtraSpec = dict[str, tuple[Any, tuple[int, ...]]]  # name -> (dtype, shape of one example's entry)


def npy_header(dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    sink = io.BytesIO()
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(sink, header)
    return sink.getvalue()


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
                handle.seek(len(npy_header(np.dtype(desc["dtype"]), tuple(desc["shape"]))))
                for chunk in iter(lambda handle=handle: handle.read(1 << 24), b""):
                    digest.update(chunk)
            if digest.hexdigest() != desc["sha256"]:
                raise BadInputError(str(self.path / rel), "contents differ from the sha256 in meta.json")
