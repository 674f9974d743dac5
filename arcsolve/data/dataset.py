"""The on-disk dataset format shared by the ARC, sudoku and maze builders, and its memmapped reader
(the streaming writer is `arcsolve/data/dataset_writer.py`).

Layout of a dataset directory (written as `NAME.tmp/`, renamed to `NAME` when complete):

    meta.json              format version, kind, storage, seq_len, vocab_size, num_puzzle_ids,
                           counts, file shapes and sha256 hashes, plus whatever the builder adds
    augmentations.npy      int32 [num_puzzle_ids, 12] (ARC only): task index, dihedral id, colour map
    train/, test/          one folder per split; a "materialized" split holds
        inputs.npy         uint8 [N, seq_len]
        labels.npy         uint8 [N, seq_len]
        puzzle_ids.npy     int32 [N]       the puzzle id (task embedding row) of each example
        puzzle_index.npy   int64 [P + 1]   examples of puzzle p are rows puzzle_index[p]:puzzle_index[p+1]
        group_index.npy    int64 [G + 1]   puzzles of group g are group_index[g]:group_index[g+1]
        <extra>.npy        per-example arrays a builder declares (ARC: offsets int16 [N, 2],
                           example_index int16 [N])

An ARC dataset's `storage` is "recipe" (the default build) or "materialized": a recipe split keeps
no token rows, only what defines them, and its `inputs` and `labels` encode rows when indexed
(`arcsolve/data/recipe.py`). Format 1 (an int16 augmentations table, no `storage`: materialized) is
still read; its table is widened to int32 when opened.

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

from arcsolve.data.recipe import (
    GRID_CELLS_FILE,
    GRID_SHAPES_FILE,
    RECIPE_ROW_ARRAYS,
    RECIPE_SPLIT_ARRAYS,
    RecipeRows,
    recipe_problem,
    recipe_table,
)
from arcsolve.errors import BadInputError

FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)
STORAGES = ("materialized", "recipe")
META_FILE = "meta.json"
AUGMENTATIONS_FILE = "augmentations.npy"
SPLITS = ("train", "test")
KINDS = ("arc", "sudoku", "maze")
CORE_ARRAYS = ("inputs", "labels", "puzzle_ids", "puzzle_index", "group_index")
SPLIT_ARRAYS = {  # what a split of each storage must hold
    "materialized": CORE_ARRAYS,
    "recipe": ("puzzle_index", "group_index", *RECIPE_ROW_ARRAYS, *RECIPE_SPLIT_ARRAYS),
}
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
    inputs: np.ndarray | RecipeRows  # RecipeRows: encoded when indexed, same shape and dtype
    labels: np.ndarray | RecipeRows
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
    if meta["format_version"] not in READABLE_FORMATS:
        raise BadInputError(
            where,
            f"dataset format {meta['format_version']}, this arcsolve reads formats "
            f"{', '.join(map(str, READABLE_FORMATS))}; rebuild it",
        )
    if meta.setdefault("storage", "materialized") not in STORAGES:
        raise BadInputError(where, f"{META_FILE} is corrupt: storage '{meta['storage']}' is unknown")
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
        """Open and check the dataset at `path` (of `kind`, when given). A recipe dataset's files are
        all re-hashed first: they are small, and a wrong byte would otherwise encode wrong rows."""
        root = Path(path)
        meta = read_meta(root)
        if kind is not None and meta["kind"] != kind:
            raise BadInputError(str(root), f"is a {meta['kind']} dataset, expected {kind}")
        files = meta["files"]
        recipe = meta["storage"] == "recipe"
        if recipe:
            verify_files(root, files)
        augmentations = None
        if AUGMENTATIONS_FILE in files:
            table = _load(root, AUGMENTATIONS_FILE, files[AUGMENTATIONS_FILE])
            if table.ndim != 2 or table.shape[0] != meta["num_puzzle_ids"]:
                raise BadInputError(str(root / AUGMENTATIONS_FILE), "needs one row per puzzle id")
            augmentations = table if table.dtype == np.int32 else np.asarray(table, dtype=np.int32)
        arrays = {name: _split_arrays(root, name, meta) for name in SPLITS}
        if not recipe:
            splits = {name: _materialized_split(root, name, meta, arrays[name]) for name in SPLITS}
        elif augmentations is None:
            raise BadInputError(str(root / META_FILE), f"a recipe dataset needs {AUGMENTATIONS_FILE}")
        else:
            splits = _recipe_splits(root, meta, augmentations, arrays)
        return cls(root, meta, augmentations, splits)

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
        verify_files(self.path, self.meta["files"])


def verify_files(root: Path, files: dict[str, Any]) -> None:
    """Raise BadInputError naming the first file whose contents differ from its sha256 in meta.json."""
    for rel, desc in files.items():
        where = str(root / rel)
        if not isinstance(desc, dict) or not isinstance(desc.get("shape"), list):
            raise BadInputError(where, f"meta.json describes it as {desc}")
        digest = hashlib.sha256()
        try:
            with open(root / rel, "rb") as handle:
                handle.seek(len(npy_header(np.dtype(desc["dtype"]), tuple(desc["shape"]))))
                for chunk in iter(lambda handle=handle: handle.read(1 << 24), b""):
                    digest.update(chunk)
        except FileNotFoundError:
            raise BadInputError(where, "missing file") from None
        except (TypeError, ValueError) as err:
            raise BadInputError(where, f"meta.json describes it as {desc}: {err}") from None
        if digest.hexdigest() != desc.get("sha256"):
            raise BadInputError(where, "contents differ from the sha256 in meta.json (altered or truncated)")


_INDEX_ARRAYS = ("puzzle_index", "group_index", *RECIPE_SPLIT_ARRAYS)  # not one entry per example


def _split_arrays(root: Path, name: str, meta: dict[str, Any]) -> dict[str, np.ndarray]:
    """A split's arrays, memmapped, with the checks both storages share."""
    files = meta["files"]
    names = sorted(rel[len(name) + 1 : -4] for rel in files if rel.startswith(f"{name}/"))
    needed = SPLIT_ARRAYS[meta["storage"]]
    missing = [core for core in needed if core not in names]
    if missing:
        raise BadInputError(str(root / META_FILE), f"lists no {name}/{missing[0]}.npy")
    arrays = {n: _load(root, f"{name}/{n}.npy", files[f"{name}/{n}.npy"]) for n in names}
    where = str(root / name)
    n_examples = int(arrays["puzzle_index"][-1]) if arrays["puzzle_index"].size else 0
    for n, array in arrays.items():
        if n not in _INDEX_ARRAYS and array.shape[0] != n_examples:
            raise BadInputError(
                where, f"{n}.npy has {array.shape[0]} rows, puzzle_index.npy says {n_examples}"
            )
    _check_index(where, arrays["puzzle_index"], n_examples, "puzzle_index")
    _check_index(where, arrays["group_index"], arrays["puzzle_index"].shape[0] - 1, "group_index")
    return arrays


def _materialized_split(
    root: Path, name: str, meta: dict[str, Any], arrays: dict[str, np.ndarray]
) -> SplitArrays:
    where = str(root / name)
    if arrays["inputs"].shape[1:] != (meta["seq_len"],) or arrays["labels"].shape != arrays["inputs"].shape:
        raise BadInputError(where, f"inputs and labels must be [N, {meta['seq_len']}]")
    _check_puzzle_ids(where, arrays["puzzle_ids"], meta)
    extras = {n: a for n, a in arrays.items() if n not in CORE_ARRAYS}
    return SplitArrays(name=name, extras=extras, **{n: arrays[n] for n in CORE_ARRAYS})


def _check_puzzle_ids(where: str, ids: np.ndarray, meta: dict[str, Any]) -> None:
    if ids.size and (ids.min() < 0 or ids.max() >= meta["num_puzzle_ids"]):
        raise BadInputError(where, f"puzzle ids must lie in 0..{meta['num_puzzle_ids'] - 1}")


def _recipe_splits(
    root: Path, meta: dict[str, Any], augmentations: np.ndarray, arrays: dict[str, dict[str, np.ndarray]]
) -> dict[str, SplitArrays]:
    files, canvas = meta["files"], meta.get("canvas")
    if type(canvas) is not int or canvas * canvas != meta["seq_len"]:
        raise BadInputError(str(root / META_FILE), "a recipe dataset needs 'canvas' with canvas² = seq_len")
    cells = _load(root, GRID_CELLS_FILE, files.get(GRID_CELLS_FILE))
    shapes = _load(root, GRID_SHAPES_FILE, files.get(GRID_SHAPES_FILE))
    if shapes.ndim != 2 or shapes.shape[1] != 2:
        raise BadInputError(str(root / GRID_SHAPES_FILE), "must be [G, 2]: height and width of each grid")
    table = recipe_table(cells, shapes, augmentations, canvas)
    problem = recipe_problem(table, len(meta.get("task_ids", ())), arrays)
    if problem is not None:
        raise BadInputError(str(root), problem)
    splits = {}
    for name, split in arrays.items():
        puzzles, puzzle_index = split["puzzles"], split["puzzle_index"]
        if puzzles.shape != (puzzle_index.shape[0] - 1,):
            raise BadInputError(str(root / name / "puzzles.npy"), "needs one puzzle id per puzzle")
        _check_puzzle_ids(str(root / name), puzzles, meta)
        sizes = np.diff(puzzle_index)
        ids = np.repeat(np.asarray(puzzles), sizes).astype(np.int32)
        firsts = np.repeat(puzzle_index[:-1], sizes)
        example_index = (np.arange(firsts.shape[0]) - firsts).astype(np.int16)
        rows = (split["pair_index"], puzzles, puzzle_index, split["offsets"])
        splits[name] = SplitArrays(
            name=name,
            inputs=RecipeRows(table, split["pairs"][:, 0], *rows),
            labels=RecipeRows(table, split["pairs"][:, 1], *rows),
            puzzle_ids=ids,
            puzzle_index=puzzle_index,
            group_index=split["group_index"],
            extras={"offsets": split["offsets"], "example_index": example_index},
        )
    return splits
