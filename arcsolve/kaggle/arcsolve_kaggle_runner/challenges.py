"""Which tasks to answer, and a valid answer for any of them without the model.

Choosing the file. Kaggle mounts each attached dataset as a folder of the input root
(`/kaggle/input/arc-prize-2025/`, `/kaggle/input/<bundle>/`, ...). The file is
`*_test_challenges.json` on the scoring rerun (`KAGGLE_IS_COMPETITION_RERUN` set), else
`*_evaluation_challenges.json` (the test file when there is none). The folder is, in order:
1. the competition the bundle targets (`competition` in bundle.json, `--competition`), when attached;
2. the only attached folder that holds such a file;
3. with several: the newest by the year in the folder name (arc-prize-2026 before arc-prize-2025;
   names without a year last, ties by name), with a loud WARNING naming every candidate.
No competition is assumed: a bundle built without one takes 2 or 3. When no folder holds such a
file, the same order picks among the folders holding `sample_submission.json`, whatever their names,
and the submission is built from that sample.

A task id the file repeats is read once, its first copy kept (json keeps the last), and reported.

Fallbacks: attempt 1 is the test input, attempt 2 a blank grid in the shape every training output
shares (else the input's). A task that fails the checks arcsolve applies gets fallbacks only; one
whose `test` list is empty gets no entry at all (it has no test input to answer).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from .common import ATTEMPTS, grid_problem, is_grid, read_json

YEAR = re.compile(r"(?<!\d)(19|20)\d\d(?!\d)")
SAMPLE_FILE = "sample_submission.json"


def patterns(rerun: bool) -> list[str]:
    return ["*_test_challenges.json"] if rerun else ["*_evaluation_challenges.json", "*_test_challenges.json"]


def _candidates(folder: Path, rerun: bool) -> list[Path]:
    for pattern in patterns(rerun):
        found = sorted(p for p in folder.rglob(pattern) if p.is_file())
        if found:
            return found
    return []


def _newest_first(folder: Path) -> tuple:
    years = [int(m.group(0)) for m in YEAR.finditer(folder.name)]
    return (-(max(years) if years else 0), folder.name)


def find_sample(folder: Path) -> Path | None:
    """Kaggle's sample_submission.json in `folder`: at its top, else the first one below it."""
    if (folder / SAMPLE_FILE).is_file():
        return folder / SAMPLE_FILE
    found = sorted(p for p in folder.rglob(SAMPLE_FILE) if p.is_file())
    return found[0] if found else None


def choose_folder(input_root: Path, competition: str | None, rerun: bool) -> tuple[Path | None, list[str]]:
    """The competition folder to answer, and the warnings to print loudly (see the module doc)."""
    try:
        folders = sorted(p for p in input_root.iterdir() if p.is_dir())
    except OSError as err:
        return None, [f"{input_root}: cannot list the input folder ({err.strerror or err})"]
    pool, kind = [f for f in folders if _candidates(f, rerun)], " or ".join(patterns(rerun))
    if not pool:
        pool, kind = [f for f in folders if find_sample(f)], SAMPLE_FILE
    wanted = input_root / competition if competition else None
    if wanted is not None and wanted in pool:
        return wanted, []
    warnings = []
    if wanted is not None:
        state = f"holds no {kind}" if wanted.is_dir() else "is not attached"
        holding = ", ".join(f.name for f in pool) or "none"
        warnings.append(
            f"the bundle targets {competition!r}, which {state} (folders holding {kind}: {holding})"
        )
    if len(pool) > 1:
        chosen = sorted(pool, key=_newest_first)[0]
        warnings.append(
            f"several folders hold {kind}: {', '.join(f.name for f in pool)}; using {chosen.name} "
            "(the newest by the year in its name). Attach only the right one, or pass --competition NAME"
        )
        return chosen, warnings
    return (pool[0] if pool else None), warnings


def missing_challenges(input_root: Path, folder: Path | None, rerun: bool) -> str:
    """Which challenges file is missing where, in one line."""
    kind = " or ".join(patterns(rerun))
    if folder is None:
        return f"no folder under {input_root} holds {kind} or {SAMPLE_FILE}"
    return f"no {kind} in {folder}"


def choose_challenges(folder: Path, rerun: bool) -> tuple[Path | None, list[str]]:
    found = _candidates(folder, rerun)
    if not found:
        return None, []
    warnings = []
    if len(found) > 1:
        warnings.append(
            f"several challenge files in {folder}: {', '.join(p.name for p in found)}; using {found[0].name}"
        )
    return found[0], warnings


def read_challenges(path: Path) -> tuple[dict, list[str]]:
    """(the task object of a challenges file, the task ids it repeats: their first copy is kept);
    ValueError with one line naming the file when it is no object of tasks."""
    repeated: list[tuple[dict, list[str]]] = []

    def first_copies(pairs: list[tuple[str, object]]) -> dict:
        obj = dict(pairs)
        if len(obj) < len(pairs):
            obj = {}
            for key, value in pairs:
                obj.setdefault(key, value)
            counts = Counter(key for key, _ in pairs)
            repeated.append((obj, [key for key, n in counts.items() if n > 1]))
        return obj

    data = read_json(path, first_copies)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: is a JSON {type(data).__name__}, expected an object of tasks")
    return data, next((keys for obj, keys in repeated if obj is data), [])


def submission_from_sample(folder: Path) -> tuple[dict, Path]:
    """(a valid submission, the sample it comes from): shaped like Kaggle's sample_submission.json
    in `folder` (same task ids and number of test inputs; its attempts kept when they are valid
    grids, else [[0]])."""
    path = find_sample(folder)
    if path is None:
        raise ValueError(f"no {SAMPLE_FILE} in {folder}")
    data = read_json(path)
    if not isinstance(data, dict) or not data:
        raise ValueError(f"{path}: expected a non-empty object of task ids")
    submission = {}
    for tid, entries in data.items():
        if not isinstance(entries, list) or not entries:
            raise ValueError(f"{path}: task {tid}: expected a list of test entries")
        submission[tid] = [
            {
                key: entry[key] if isinstance(entry, dict) and is_grid(entry.get(key)) else [[0]]
                for key in ATTEMPTS
            }
            for entry in entries
        ]
    return submission, path


def inputs_of(task: object) -> list:
    """The test inputs as given (one None per unusable entry; [None] when `test` is not a list, so
    such a task still gets one entry; [] for an empty list: it has no input to answer)."""
    tests = task.get("test") if isinstance(task, dict) else None
    if not isinstance(tests, list):
        return [None]
    return [t.get("input") if isinstance(t, dict) else None for t in tests]


def _examples_problem(value: object, name: str, need_output: bool) -> str | None:
    if not isinstance(value, list) or not value:
        return f"'{name}' is not a non-empty list"
    for i, example in enumerate(value):
        if not isinstance(example, dict):
            return f"{name}[{i}] is not an object"
        if set(example) - {"input", "output"}:
            return f"{name}[{i}] has unexpected key {sorted(set(example) - {'input', 'output'})[0]!r}"
        keys = ["input", "output"] if need_output or "output" in example else ["input"]
        for key in keys:
            problem = grid_problem(example.get(key)) if key in example else "is missing"
            if problem:
                return f"{name}[{i}].{key} {problem}"
    return None


def task_problem(task: object) -> str | None:
    """None when arcsolve will accept the task, else a one-line reason (the same rules)."""
    if not isinstance(task, dict):
        return f"is a JSON {type(task).__name__}, expected an object with 'train' and 'test'"
    extra = sorted(set(task) - {"train", "test", "name", "id"})
    if extra:
        return f"has unexpected key {extra[0]!r}"
    return _examples_problem(task.get("train"), "train", True) or _examples_problem(
        task.get("test"), "test", False
    )


def fallback_entry(task: object, grid: object) -> dict:
    grid = grid if is_grid(grid) else [[0]]
    shape = (len(grid), len(grid[0]))
    train = task.get("train") if isinstance(task, dict) and isinstance(task.get("train"), list) else []
    outputs = [pair.get("output") if isinstance(pair, dict) else None for pair in train]
    shapes = {(len(g), len(g[0])) for g in outputs if is_grid(g)}
    if outputs and len(shapes) == 1 and all(is_grid(g) for g in outputs):
        shape = shapes.pop()
    return {ATTEMPTS[0]: [list(row) for row in grid], ATTEMPTS[1]: [[0] * shape[1] for _ in range(shape[0])]}


def fallback_submission(challenges: dict) -> dict:
    return {tid: [fallback_entry(task, g) for g in inputs_of(task)] for tid, task in challenges.items()}


def check_submission(submission: dict, challenges: dict) -> list[str]:
    """Every task in order, one entry per test input, two valid attempts each."""
    problems = []
    if list(submission) != list(challenges):
        problems.append("tasks missing, extra or out of order")
    for tid, task in challenges.items():
        entries = submission.get(tid)
        if not isinstance(entries, list) or len(entries) != len(inputs_of(task)):
            problems.append(f"task {tid}: wrong number of test entries")
            continue
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or not all(is_grid(entry.get(key)) for key in ATTEMPTS):
                problems.append(f"task {tid} test {i}: missing or invalid attempts")
    return problems


def score(submission: dict, challenges_file: Path) -> str | None:
    """The mean per-task score against the solutions file beside the challenges, when there is one."""
    name = challenges_file.name.replace("_challenges.json", "_solutions.json")
    try:
        solutions = read_json(challenges_file.with_name(name)) if name != challenges_file.name else None
    except ValueError:
        return None
    if not isinstance(solutions, dict):
        return None
    per_task = []
    for tid, entries in submission.items():
        truths = solutions.get(tid) or []
        hits = [any(e[k] == truth for k in ATTEMPTS) for e, truth in zip(entries, truths, strict=False)]
        per_task.append(sum(hits) / len(truths) if truths else 0.0)
    return f"{sum(per_task) / max(1, len(per_task)):.4f} (mean over {len(per_task)} tasks, against {name})"
