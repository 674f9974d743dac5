"""Build an ARC dataset exactly as the reference TRM builder does, into arcsolve's dataset format.

`arcsolve data build arc --trm-prefix PREFIX --subsets training evaluation concept --test-set
evaluation --aug 1000 --seed 42` reads `PREFIX_<subset>_challenges.json` (+ `_solutions.json`) and
reproduces the reference builder (SamsungSAILMontreal/TinyRecursiveModels,
`dataset/build_arc_dataset.py`) draw for draw on NumPy's legacy generator seeded with `seed`:
1. per subset, in order: the tasks in file order are shuffled; then per task, in shuffled order,
   up to 5 x aug candidates (randint(0, 8), then a permutation of colours 1..9) until `aug`
   versions are new. A candidate is new when the multiset of its (input, output) pairs differs from
   every kept version's (the original included), over all of the task's pairs;
2. identifier ids in order of first appearance: train-split puzzles, then test-split puzzles;
3. per train-split puzzle, randint picks the example left at (0, 0) and every other example gets a
   random offset (randint per row, then per column) that fits both its grids.
Train split: every pair of every task, except the test pairs of `--test-set` tasks, which form the
test split (at (0, 0)). Rows of a puzzle follow the task's JSON key order.

So `identifiers.json` (written beside `meta.json`, the reference's format) is byte-identical to the
reference's for the same files, subsets and seed, and the rows, puzzle ids and offsets equal the
reference arrays. One difference: when the first subset is a test set, the reference's split order
depends on Python's string hashing (a set of splits); here the train split always comes first.
The bulk draws run in numba (`legacy_rng`), duplicates are found by a 128-bit hash of each version's
pair multiset (`version_hash`). The dataset is a
recipe unless `materialize` (see `arcsolve/data/arc_builder.py`): its rows equal the same arrays.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from arcsolve.augment.kernels import PackedGrids, encode_views, pack_grids, view_shapes
from arcsolve.augment.trm_names import BLANK_NAME, REFERENCE_TO_DIHEDRAL, SEPARATOR
from arcsolve.config import check_bounds
from arcsolve.constants import ARC_VOCAB_SIZE, AUG_TABLE_COLUMNS, INT16_MAX, MAX_GRID, NUM_COLORS
from arcsolve.data.arc_builder import ARC_EXTRAS
from arcsolve.data.dataset_writer import DatasetWriter
from arcsolve.data.legacy_rng import LegacyStream, draw_augmentations, draw_offsets
from arcsolve.data.version_hash import SeenKeys, task_colour_weights, version_keys
from arcsolve.errors import BadInputError, ConfigError

IDENTIFIERS_FILE = "identifiers.json"
TEST_PUZZLES_FILE = "test_puzzles.json"
TRIES_FACTOR = 5  # the reference's ARCAugmentRetriesFactor
_TO_DIHEDRAL = np.array(REFERENCE_TO_DIHEDRAL, dtype=np.int64)


@dataclass(frozen=True)
class TrmBuildConfig:
    prefix: str
    subsets: tuple[str, ...] = ("training", "evaluation", "concept")
    test_set: str = "evaluation"
    test_set2: str = "your_test_set"  # the reference's second test-set name (its default)
    aug: int = 1000
    seed: int = 42

    def validate(self, where: str = "data build arc") -> None:
        if not self.subsets:
            raise ConfigError(where, "subsets: name at least one subset, e.g. training evaluation concept")
        if len(set(self.subsets)) != len(self.subsets):
            raise ConfigError(where, f"subsets: {list(self.subsets)} names a subset twice")
        check_bounds(self, where, "", ("aug",), low=0, high=INT16_MAX)
        check_bounds(self, where, "", ("seed",), low=0, high=2**32, open_high=True)  # NumPy's legacy seed


@dataclass
class _TaskPlan:
    """One task: its grids, which pairs go where, and its kept versions (identity first)."""

    name: str
    packed: PackedGrids
    train_pairs: np.ndarray  # int64 [n, 2] grid ids (input, output) of the train-split examples
    test_pairs: np.ndarray  # int64 [m, 2], empty unless the task belongs to a test set
    # reference ids, int8: at aug 1000 a build keeps ~1M of them (int64 would cost 8 MB more at the peak)
    ref_dihedrals: np.ndarray = field(default_factory=lambda: np.zeros(1, np.int8))
    colour_maps: np.ndarray = field(default_factory=lambda: np.arange(NUM_COLORS, dtype=np.uint8)[None])

    @property
    def dihedrals(self) -> np.ndarray:
        return _TO_DIHEDRAL[self.ref_dihedrals]

    def names(self) -> list[str]:
        digits = (self.colour_maps[1:] + ord("0")).astype(np.uint8)
        return [self.name] + [
            f"{self.name}{SEPARATOR}t{k}{SEPARATOR}{row.tobytes().decode('ascii')}"
            for k, row in zip(self.ref_dihedrals[1:].tolist(), digits, strict=True)
        ]


def _grid(value: Any, where: str) -> np.ndarray:
    try:
        grid = np.array(value)
    except ValueError:
        grid = np.zeros(0)
    if (
        grid.ndim != 2
        or grid.size == 0
        or grid.dtype.kind not in "iu"
        or max(grid.shape) > MAX_GRID
        or grid.min() < 0
        or grid.max() >= NUM_COLORS
    ):
        raise BadInputError(where, "a grid is not a 1..30 x 1..30 rectangle of integers 0..9")
    return grid.astype(np.uint8)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError:
        raise BadInputError(str(path), "no such file") from None
    except (ValueError, UnicodeDecodeError) as err:
        raise BadInputError(str(path), f"not valid JSON: {err}") from None


def _load_subset(cfg: TrmBuildConfig, subset: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Tasks of one subset in file order, test outputs merged in (`[[0]]` when there is no solutions file)."""
    path = Path(f"{cfg.prefix}_{subset}_challenges.json")
    puzzles = _read_json(path)
    if not isinstance(puzzles, dict):
        raise BadInputError(str(path), "expected a JSON object {task_id: task}")
    records.append({"file": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()})
    solutions_path = Path(f"{cfg.prefix}_{subset}_solutions.json")
    solutions = _read_json(solutions_path) if solutions_path.is_file() else None
    if solutions is not None:
        records.append(
            {"file": str(solutions_path), "sha256": hashlib.sha256(solutions_path.read_bytes()).hexdigest()}
        )
    for task_id, puzzle in puzzles.items():
        if not isinstance(puzzle, dict) or not isinstance(puzzle.get("test"), list):
            raise BadInputError(f"{path}: {task_id}", "a task needs a 'test' list")
        if solutions is None:
            for example in puzzle["test"]:
                example.setdefault("output", [[0]])
            continue
        outputs = solutions.get(task_id) if isinstance(solutions, dict) else None
        if not isinstance(outputs, list) or len(outputs) > len(puzzle["test"]):
            raise BadInputError(f"{solutions_path}: {task_id}", "missing, or more outputs than test inputs")
        for k, grid in enumerate(outputs):
            puzzle["test"][k]["output"] = grid
    return puzzles


def _plan_task(name: str, puzzle: dict[str, Any], in_test_set: bool, where: str) -> _TaskPlan:
    grids: list[np.ndarray] = []
    pairs: dict[str, list[tuple[int, int]]] = {"train": [], "test": []}
    for kind, examples in puzzle.items():
        if kind not in ("train", "test") or not isinstance(examples, list):
            raise BadInputError(f"{where}: {name}", f"unexpected key '{kind}' (a task holds train and test)")
        dest = "test" if kind == "test" and in_test_set else "train"
        for example in examples:
            if not isinstance(example, dict) or "input" not in example or "output" not in example:
                raise BadInputError(f"{where}: {name}", f"a {kind} example lacks its input or output")
            grids += [
                _grid(example["input"], f"{where}: {name}"),
                _grid(example["output"], f"{where}: {name}"),
            ]
            pairs[dest].append((len(grids) - 2, len(grids) - 1))
    if not pairs["train"] or (in_test_set and not pairs["test"]):
        raise BadInputError(f"{where}: {name}", "a task needs train pairs (and test pairs in a test set)")
    as_array = {k: np.array(v, dtype=np.int64).reshape(-1, 2) for k, v in pairs.items()}
    return _TaskPlan(name, pack_grids(grids), as_array["train"], as_array["test"])


def _find_versions(plan: _TaskPlan, aug: int, stream: LegacyStream) -> bool:
    """Draw candidates until `aug` new versions or 5 x aug draws; return whether `aug` were found.

    A chunk of draws never overshoots: it asks for exactly the versions still missing, so the
    reference's early stop can only fall on a chunk's last draw. New = a pair multiset no earlier
    candidate (nor the identity) had: `version_hash`."""
    weights = task_colour_weights(plan.packed)
    pairs = np.concatenate([plan.train_pairs, plan.test_pairs])
    seen = SeenKeys(TRIES_FACTOR * aug + 1)
    seen.add_new(
        version_keys(weights, plan.packed, pairs, np.zeros(1, np.int64), np.arange(NUM_COLORS)[None])
    )
    kept_d, kept_m = [np.zeros(1, np.int64)], [np.arange(NUM_COLORS, dtype=np.uint8)[None]]
    found, tried = 0, 0
    while found < aug and tried < TRIES_FACTOR * aug:
        count = min(aug - found, TRIES_FACTOR * aug - tried)
        ref_d, maps = np.empty(count, np.int64), np.empty((count, NUM_COLORS), np.uint8)
        draw_augmentations(stream.key, stream.pos, count, ref_d, maps)
        keep = seen.add_new(version_keys(weights, plan.packed, pairs, _TO_DIHEDRAL[ref_d], maps))
        kept_d.append(ref_d[keep])
        kept_m.append(maps[keep])
        found += int(keep.sum())
        tried += count
    plan.ref_dihedrals, plan.colour_maps = np.concatenate(kept_d).astype(np.int8), np.concatenate(kept_m)
    return found >= aug


def _train_offsets(plans: list[_TaskPlan], stream: LegacyStream) -> list[np.ndarray]:
    """Every train-split example's offset (one numba pass over the whole split), per task. Rooms are
    kept as int8 and offsets as int16 until the pass: at aug 1000 that is 3.7M rows."""
    sizes, rooms_r, rooms_c = [], [], []
    for plan in plans:
        heights, widths = view_shapes(plan.packed, plan.dihedrals)
        ins, outs = plan.train_pairs[:, 0], plan.train_pairs[:, 1]
        rooms_r.append((MAX_GRID - np.maximum(heights[:, ins], heights[:, outs])).reshape(-1).astype(np.int8))
        rooms_c.append((MAX_GRID - np.maximum(widths[:, ins], widths[:, outs])).reshape(-1).astype(np.int8))
        sizes.append(np.full(len(plan.ref_dihedrals), len(ins), dtype=np.int64))
    bounds = np.cumsum([0] + [r.shape[0] for r in rooms_r])
    room_r, room_c = np.concatenate(rooms_r), np.concatenate(rooms_c)
    offsets = np.empty((room_r.shape[0], 2), dtype=np.int16)
    draw_offsets(stream.key, stream.pos, np.concatenate(sizes), room_r, room_c, offsets)
    return [offsets[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]


def _write_group(split, plan: _TaskPlan, pairs: np.ndarray, ids: np.ndarray, offsets: np.ndarray) -> None:
    n_versions, n_pairs = len(plan.ref_dihedrals), len(pairs)
    aug_index = np.repeat(np.arange(n_versions, dtype=np.int64), n_pairs)
    grid_in, grid_out = np.tile(pairs[:, 0], n_versions), np.tile(pairs[:, 1], n_versions)
    versions = (plan.packed, plan.dihedrals, plan.colour_maps)
    rows = (None, None)
    if not split.recipe:
        rows = (
            encode_views(*versions, grid_in, aug_index, offsets, MAX_GRID),
            encode_views(*versions, grid_out, aug_index, offsets, MAX_GRID),
        )
    split.add_group(
        *rows,
        puzzle_ids=np.repeat(ids, n_pairs).astype(np.int32),
        puzzle_sizes=np.full(n_versions, n_pairs),
        offsets=offsets.astype(np.int16),
        example_index=np.tile(np.arange(n_pairs, dtype=np.int16), n_versions),
    )


def _augmented_entries(head: bytes, plan: _TaskPlan) -> bytes:
    """`head|||t<k>|||<digits>"` for every version but the identity, joined by ", " (JSON list items)."""
    n = len(plan.ref_dihedrals) - 1
    tail = f"{SEPARATOR}t0{SEPARATOR}".encode()
    width = len(head) + len(tail) + NUM_COLORS + 3  # then the closing quote and ", "
    rows = np.empty((n, width), dtype=np.uint8)
    rows[:, : len(head)] = np.frombuffer(head, dtype=np.uint8)
    at = len(head)
    rows[:, at : at + len(tail)] = np.frombuffer(tail, dtype=np.uint8)
    rows[:, at + len(SEPARATOR) + 1] = plan.ref_dihedrals[1:] + ord("0")
    at += len(tail)
    rows[:, at : at + NUM_COLORS] = plan.colour_maps[1:] + ord("0")
    rows[:, at + NUM_COLORS :] = np.frombuffer(b'", ', dtype=np.uint8)
    return rows.tobytes()[:-2]


def _identifiers(plans: list[_TaskPlan]) -> tuple[list[np.ndarray], list[bytes]]:
    """The puzzle ids of each task's versions and the bytes of identifiers.json, in parts: the
    reference's `json.dumps` of its names, the blank first, each name once in order of first appearance."""
    task_names = [plan.name for plan in plans]
    if len(set(task_names)) < len(task_names) or any(SEPARATOR in name for name in task_names):
        identifiers: dict[str, int] = {}  # name -> id; id 0 is the blank
        names = [plan.names() for plan in plans]
        for group in names:  # train split first: every task has train-split puzzles
            for name in group:
                identifiers.setdefault(name, len(identifiers) + 1)
        group_ids = [np.array([identifiers[n] for n in group], dtype=np.int64) for group in names]
        return group_ids, [json.dumps([BLANK_NAME, *identifiers]).encode("utf-8")]
    # Every name is new, so ids run on consecutively and the JSON is assembled from byte columns.
    sizes = np.array([len(plan.ref_dihedrals) for plan in plans], dtype=np.int64)
    firsts = 1 + np.concatenate([[0], np.cumsum(sizes)[:-1]])
    group_ids = [
        np.arange(f, f + n, dtype=np.int64) for f, n in zip(firsts.tolist(), sizes.tolist(), strict=True)
    ]
    parts = [b"[" + json.dumps(BLANK_NAME).encode("utf-8")]
    for plan in plans:
        quoted = json.dumps(plan.name).encode("utf-8")
        parts.append(b", " + quoted)
        if len(plan.ref_dihedrals) > 1:
            parts.append(b", " + _augmented_entries(quoted[:-1], plan))
    return group_ids, [*parts, b"]"]


def _augmentation_table(plans: list[_TaskPlan], group_ids: list[np.ndarray]) -> np.ndarray:
    """int32 [num_ids, 12]: each puzzle id's task index, dihedral id and colour map (row 0 the blank)."""
    num_ids = 1 + int(max((ids.max() for ids in group_ids), default=0))
    table = np.zeros((num_ids, AUG_TABLE_COLUMNS), dtype=np.int32)
    table[0] = [-1, 0, *range(NUM_COLORS)]
    for index, (plan, ids) in enumerate(zip(plans, group_ids, strict=True)):
        table[ids, 0], table[ids, 1], table[ids, 2:] = index, plan.dihedrals, plan.colour_maps
    return table


def build_trm_dataset(
    cfg: TrmBuildConfig, out: str | Path, overwrite: bool = False, materialize: bool = False
) -> dict[str, Any]:
    """Build dataset `out` (atomically) the reference's way; return its meta (plus `seconds`)."""
    cfg.validate()
    started = time.perf_counter()
    state = np.random.RandomState(cfg.seed)
    plans: list[_TaskPlan] = []
    records: list[dict[str, Any]] = []
    test_puzzles: dict[str, Any] = {}
    short = 0
    for subset in cfg.subsets:
        in_test_set = subset in (cfg.test_set, cfg.test_set2)
        puzzles = list(_load_subset(cfg, subset, records).items())
        state.shuffle(puzzles)
        stream = LegacyStream(state)
        for name, puzzle in puzzles:
            if in_test_set:
                test_puzzles[name] = puzzle
            plans.append(_plan_task(name, puzzle, in_test_set, f"{cfg.prefix}_{subset}_challenges.json"))
            short += not _find_versions(plans[-1], cfg.aug, stream)
        stream.sync_back(state)
        del puzzles  # the parsed JSON (tens of MB of Python objects); the plans hold the grids
    group_ids, identifiers_parts = _identifiers(plans)
    storage = "materialized" if materialize else "recipe"
    with DatasetWriter(out, "arc", MAX_GRID**2, ARC_VOCAB_SIZE, ARC_EXTRAS, overwrite, storage) as writer:
        identifiers_sha256 = writer.write_file(IDENTIFIERS_FILE, identifiers_parts)
        del identifiers_parts  # tens of MB at aug 1000: gone before the offsets are drawn
        writer.write_file(TEST_PUZZLES_FILE, [json.dumps(test_puzzles).encode("utf-8")])
        del test_puzzles
        offsets = _train_offsets(plans, LegacyStream(state))
        for plan in plans if writer.recipe else ():
            writer.add_task(plan.packed, {"train": plan.train_pairs, "test": plan.test_pairs})
        for plan, ids, rows in zip(plans, group_ids, offsets, strict=True):
            _write_group(writer.split("train"), plan, plan.train_pairs, ids, rows)
        for plan, ids in zip(plans, group_ids, strict=True):
            if len(plan.test_pairs):
                at_origin = np.zeros((len(ids) * len(plan.test_pairs), 2), dtype=np.int64)
                _write_group(writer.split("test"), plan, plan.test_pairs, ids, at_origin)
        del offsets  # the peak is at finish: only what the table needs stays alive
        table = _augmentation_table(plans, group_ids)
        del group_ids
        fields = {
            "canvas": MAX_GRID,
            "task_ids": [plan.name for plan in plans],
            "num_source_tasks": sum(1 for plan in plans if len(plan.test_pairs)),
            "sources": records,
            "build": {"builder": "trm", **asdict(cfg)},
            "seed": cfg.seed,
            "identifiers_sha256": identifiers_sha256,
            "tasks_short_of_aug": short,
        }
        meta = writer.finish(len(table), fields, table)
    return {**meta, "seconds": time.perf_counter() - started}
