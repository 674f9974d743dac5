"""A reference TRM dataset folder (or an arcsolve `--trm-prefix` build) -> task ids + augmentation table.

A reference folder (SamsungSAILMontreal/TinyRecursiveModels, `dataset/build_arc_dataset.py`) holds
`identifiers.json` (index = identifier id, [0] = "<blank>"), `test_puzzles.json` (the test-set
tasks with their outputs), and per split `dataset.json` plus `all__*.npy`. Identifier names are
`task` or `task|||t<k>|||<perm>`; `arcsolve.augment.trm_names` turns each into an `Augmentation`.

Checks, each a one-line BadInputError naming the file: the identifiers count equals every split's
`num_puzzle_identifiers`; the arrays agree with each other; and every test-split row equals its
task's test input (from `test_puzzles.json`) under the augmentation its identifier names, which
both proves the dihedral/colour mapping on real rows and refuses a folder whose identifiers and
arrays come from different builds.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from arcsolve.augment.kernels import encode_views, pack_grids
from arcsolve.augment.trm_names import BLANK_NAME, REFERENCE_TO_DIHEDRAL, SEPARATOR, parse_name
from arcsolve.constants import ARC_VOCAB_SIZE, AUG_TABLE_COLUMNS, MAX_GRID, NUM_COLORS, NUM_DIHEDRAL
from arcsolve.data.dataset import META_FILE, TokenDataset, dataset_fingerprint
from arcsolve.data.trm_builder import IDENTIFIERS_FILE, TEST_PUZZLES_FILE
from arcsolve.errors import BadInputError

SPLITS = ("train", "test")


@dataclass(frozen=True)
class ReferenceDataset:
    path: Path
    layout: str  # "reference" (the reference builder's folder) or "arcsolve" (a --trm-prefix build)
    task_ids: tuple[str, ...]
    augmentations: np.ndarray  # int32 [num ids, 12]: task index, arcsolve dihedral id, colour map
    fingerprint: str
    test_rows_checked: int

    @property
    def num_puzzle_ids(self) -> int:
        return int(self.augmentations.shape[0])


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError:
        raise BadInputError(str(path), "missing file") from None
    except (ValueError, UnicodeDecodeError) as err:
        raise BadInputError(str(path), f"not valid JSON: {err}") from None


def _identifiers(path: Path) -> list[str]:
    names = _json(path)
    if not isinstance(names, list) or not names or names[0] != BLANK_NAME:
        raise BadInputError(str(path), f"expected a JSON list of names starting with {BLANK_NAME!r}")
    if len(set(names)) != len(names):
        raise BadInputError(str(path), "names a puzzle twice")
    return names


def augmentation_table(names: list[str], where: str) -> tuple[tuple[str, ...], np.ndarray]:
    """Task ids in order of first appearance, and one table row per identifier id.

    Vectorised (a paper-size dataset has 876k names); a bad name is re-parsed by `parse_name`,
    which says what is wrong with it."""
    table = np.zeros((len(names), AUG_TABLE_COLUMNS), dtype=np.int32)
    table[0] = [-1, 0, *range(NUM_COLORS)]
    table[1:, 2:] = np.arange(NUM_COLORS)
    tasks: dict[str, int] = {}
    augmented, trans, perms = [], [], []
    for i, name in enumerate(names[1:], start=1):
        parts = name.split(SEPARATOR) if isinstance(name, str) else []
        table[i, 0] = tasks.setdefault(parts[0] if parts else "", len(tasks))
        if len(parts) != 1:
            if len(parts) != 3 or len(parts[1]) != 2 or len(parts[2]) != NUM_COLORS or not name.isascii():
                parse_name(name, where)  # raises, naming the problem
            augmented.append(i)
            trans.append(parts[1])
            perms.append(parts[2])
    if augmented:
        rows = np.array(augmented)
        ids = np.frombuffer("".join(trans).encode(), dtype=np.uint8).reshape(-1, 2)
        digits = (
            np.frombuffer("".join(perms).encode(), dtype=np.uint8).reshape(-1, NUM_COLORS).astype(np.int32)
            - 48
        )
        ok = (ids[:, 0] == ord("t")) & (ids[:, 1] >= ord("0")) & (ids[:, 1] < ord("0") + NUM_DIHEDRAL)
        ok &= (np.sort(digits, axis=1) == np.arange(NUM_COLORS)).all(axis=1)
        if not ok.all():
            parse_name(names[int(rows[np.flatnonzero(~ok)[0]])], where)
        table[rows, 1] = np.asarray(REFERENCE_TO_DIHEDRAL)[ids[:, 1] - ord("0")]
        table[rows, 2:] = digits
    if "" in tasks or (len(names) > 1 and min(len(n) for n in names) == 0):
        raise BadInputError(where, "holds an empty identifier")
    return tuple(tasks), table


def _load_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except FileNotFoundError:
        raise BadInputError(str(path), "missing file") from None
    except (ValueError, OSError, EOFError) as err:
        raise BadInputError(str(path), f"corrupt .npy file: {err}") from None


def check_test_rows(
    folder: Path,
    data: tuple[tuple[str, ...], np.ndarray],
    names: list[str],
    rows: dict[str, np.ndarray],
    where: str,
) -> int:
    """Every test row must be its task's test pair under its identifier's augmentation; return the count.

    `data` is (task ids, augmentation table) as `augmentation_table` read them from the names.
    Consecutive puzzles of one task (a group) are encoded and compared in one batch."""
    task_ids, table = data
    tests_path = folder / TEST_PUZZLES_FILE
    tasks = _json(tests_path)
    index, ids = (
        np.asarray(rows["puzzle_index"], dtype=np.int64),
        np.asarray(rows["puzzle_ids"], dtype=np.int64),
    )
    owners = table[ids, 0]
    p = 0
    while p < len(ids):
        end = p + int(np.argmax(np.append(owners[p:] != owners[p], True)))
        task = task_ids[owners[p]]
        pairs = (tasks.get(task) or {}).get("test") if isinstance(tasks, dict) else None
        sizes = np.diff(index[p : end + 1])
        if not isinstance(pairs, list) or (sizes != len(pairs)).any():
            raise BadInputError(
                str(tests_path),
                f"does not hold task {task!r} with {int(sizes[0])} test pair(s): the folder mixes builds",
            )
        n, lo, hi = len(pairs), int(index[p]), int(index[end])
        packed = pack_grids(
            [np.array(pair[key], dtype=np.uint8) for key in ("input", "output") for pair in pairs]
        )
        aug_index = np.repeat(np.arange(end - p), n)
        offsets = np.zeros((hi - lo, 2), dtype=np.int64)
        for side, key in enumerate(("inputs", "labels")):
            grid_index = np.tile(np.arange(n), end - p) + side * n
            expected = encode_views(
                packed, table[ids[p:end], 1], table[ids[p:end], 2:], grid_index, aug_index, offsets, MAX_GRID
            )
            wrong = np.flatnonzero((expected != rows[key][lo:hi]).any(axis=1))
            if wrong.size:
                name = names[int(ids[p + int(wrong[0]) // n])]
                raise BadInputError(
                    where, f"row {lo + int(wrong[0])} is not task {task}'s test pair under identifier {name!r} "
                    "(identifiers.json and the arrays come from different builds)"
                )  # fmt: skip
        p = end
    return int(index[-1])


def _reference_split(folder: Path, split: str, names: list[str]) -> dict[str, np.ndarray] | None:
    split_dir = folder / split
    if not split_dir.is_dir():
        return None
    info = _json(split_dir / "dataset.json")
    ids_path = folder / IDENTIFIERS_FILE
    if not isinstance(info, dict):
        raise BadInputError(str(split_dir / "dataset.json"), "expected a JSON object")
    if info.get("num_puzzle_identifiers") != len(names):
        raise BadInputError(
            str(ids_path), f"holds {len(names)} names, {split}/dataset.json counts "
            f"{info.get('num_puzzle_identifiers')} identifiers: they come from different builds"
        )  # fmt: skip
    if info.get("seq_len") != MAX_GRID**2 or info.get("vocab_size") != ARC_VOCAB_SIZE:
        raise BadInputError(
            str(split_dir / "dataset.json"), "is not a 30x30 ARC dataset (seq_len 900, vocab 12)"
        )
    arrays = {
        "inputs": _load_npy(split_dir / "all__inputs.npy"),
        "labels": _load_npy(split_dir / "all__labels.npy"),
        "puzzle_ids": _load_npy(split_dir / "all__puzzle_identifiers.npy"),
        "puzzle_index": _load_npy(split_dir / "all__puzzle_indices.npy"),
    }
    rows, index, ids = arrays["inputs"].shape[0], arrays["puzzle_index"], arrays["puzzle_ids"]
    if (
        arrays["inputs"].shape != (rows, MAX_GRID**2)
        or arrays["labels"].shape != arrays["inputs"].shape
        or index.shape != (ids.shape[0] + 1,)
        or int(index[-1]) != rows
    ):
        raise BadInputError(str(split_dir), "all__*.npy disagree on the number of rows or puzzles")
    if ids.size and (int(ids.min()) < 1 or int(ids.max()) >= len(names)):
        raise BadInputError(
            str(split_dir / "all__puzzle_identifiers.npy"), f"holds ids outside 1..{len(names) - 1}"
        )
    return arrays


def _fingerprint(folder: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        if path.is_file():
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def read_dataset(folder: Path) -> ReferenceDataset:
    """Open a reference dataset folder or an arcsolve `--trm-prefix` build; check it (module docstring)."""
    if not folder.is_dir():
        raise BadInputError(str(folder), "no such dataset folder")
    ids_path = folder / IDENTIFIERS_FILE
    if (folder / META_FILE).is_file():
        return _read_arcsolve(folder)
    names = _identifiers(ids_path)
    task_ids, table = augmentation_table(names, str(ids_path))
    splits = {split: _reference_split(folder, split, names) for split in SPLITS}
    if splits["train"] is None:
        raise BadInputError(str(folder), "holds no train/ split: not a reference TRM dataset folder")
    checked = 0
    if splits["test"] is not None and (folder / TEST_PUZZLES_FILE).is_file():
        checked = check_test_rows(
            folder, (task_ids, table), names, splits["test"], str(folder / "test" / "all__inputs.npy")
        )
    files = [ids_path, folder / TEST_PUZZLES_FILE] + [folder / s / "dataset.json" for s in SPLITS]
    return ReferenceDataset(folder, "reference", task_ids, table, _fingerprint(folder, files), checked)


def _read_arcsolve(folder: Path) -> ReferenceDataset:
    dataset = TokenDataset.open(folder, kind="arc")
    ids_path = folder / IDENTIFIERS_FILE
    if not ids_path.is_file():
        raise BadInputError(
            str(folder), f"has no {IDENTIFIERS_FILE}: build it with `arcsolve data build arc --trm-prefix`"
        )
    if hashlib.sha256(ids_path.read_bytes()).hexdigest() != dataset.meta.get("identifiers_sha256"):
        raise BadInputError(
            str(ids_path), "does not belong to this build (its sha256 differs from meta.json's)"
        )
    names = _identifiers(ids_path)
    task_ids, table = augmentation_table(names, str(ids_path))
    if len(names) != dataset.num_puzzle_ids or not np.array_equal(
        table[:, 1:], np.asarray(dataset.augmentations)[:, 1:]
    ):
        raise BadInputError(str(ids_path), "does not match augmentations.npy (another build?)")
    test = dataset.split("test")
    arrays = {"inputs": test.inputs, "labels": test.labels, "puzzle_index": test.puzzle_index}
    arrays["puzzle_ids"] = (
        test.puzzle_ids[test.puzzle_index[:-1]] if test.num_puzzles else test.puzzle_ids[:0]
    )
    where = str(folder / "test" / "inputs.npy")
    checked = check_test_rows(folder, (task_ids, table), names, arrays, where) if test.num_puzzles else 0
    meta_ids = tuple(dataset.meta.get("task_ids", ()))
    if meta_ids[: len(task_ids)] != task_ids:
        raise BadInputError(str(folder / META_FILE), "task_ids disagree with identifiers.json")
    return ReferenceDataset(folder, "arcsolve", task_ids, table, dataset_fingerprint(folder), checked)
