"""Bad input everywhere, through the real CLI: one `arcsolve: error: <where>: <what>` line, exit 2.

Task sources go through `arcsolve data validate`, configs through `arcsolve info` and `arcsolve train`,
overrides through `--set`. Hypothesis throws random JSON, random bytes, almost-valid grids and
wrongly typed TOML values at them; explicit cases cover the classics (empty, binary, missing,
unreadable, unicode, huge, deeply nested). The contract checked every time: exit code 2 (0 when the
input happens to be fine), every stderr line an `arcsolve: error:` line, no traceback, no exception
escaping the command, and no hang (Hypothesis deadlines, subprocess timeouts). A few runs of
`python -m arcsolve` check what a terminal really shows.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import arcsolve.train.info  # noqa: F401 - imported up front so the first fuzz example meets its deadline
import arcsolve.train.loop  # noqa: F401
from arcsolve.cli import app
from arcsolve.data.arc_builder import ArcBuildConfig, build_arc_dataset
from arcsolve.model.config import ModelConfig
from arcsolve.train.config import TrainConfig

FIXTURES = Path(__file__).parent / "fixtures"
GOOD_TASK = {
    "train": [{"input": [[1, 2], [3, 4]], "output": [[4, 3], [2, 1]]}],
    "test": [{"input": [[0, 5]], "output": [[5, 0]]}],
}
FUZZ = settings(max_examples=40, deadline=10_000)  # a 10 s deadline per example is the "no hang" check
TIMEOUT = 120  # seconds for a subprocess; hitting it fails the test instead of hanging the suite

runner = CliRunner()


def invoke(*args: Any):
    return runner.invoke(app, [str(a) for a in args])


def error_lines(result) -> list[str]:
    """The stderr lines of a command, checked: each is an `arcsolve: error:` line and nothing escaped
    as a Python exception (CliRunner keeps an escaped one in `result.exception`)."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert all(line.startswith("arcsolve: error: ") for line in lines), result.stderr
    return lines


def assert_bad_input(result, *needles: str) -> str:
    """Exit 2 with exactly one error line holding every needle; returns the line."""
    lines = error_lines(result)
    assert result.exit_code == 2, (result.exit_code, result.stderr, result.stdout)
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def one_line(text: str) -> str:
    """What an error message makes of `text`: whitespace (newlines included) collapsed to spaces."""
    return " ".join(text.split())


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("scratch")


# Task sources: `arcsolve data validate`.


def _grid_json(rows: int, cols: int) -> bytes:
    return orjson.dumps(
        {"train": [{"input": [[1] * cols] * rows, "output": [[1]]}], "test": GOOD_TASK["test"]}
    )


BAD_TASK_FILES = [
    (b"", "empty file"),
    (b" \n\t\r\n", "empty file"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "malformed JSON"),
    ("\ufeff".encode("utf-16") + b'{"train": []}', "malformed JSON"),
    (b'{"train": [', "malformed JSON"),
    (b"NaN", "malformed JSON"),
    (b"[" * 100_000 + b"]" * 100_000, "malformed JSON"),
    (b"[[[" + b"9" * 5000 + b"]]]", "malformed JSON"),
    (b"null", "is null"),
    (b'"just a string"', "is a string"),
    (b"12", "is a number"),
    (b"[]", "is a list"),
    (b"{}", "holds no tasks"),
    (_grid_json(1000, 1), "has 1000 rows"),
    (_grid_json(1, 100_000), "has 100000 columns"),
    (_grid_json(31, 31), "has 31 rows"),
    (orjson.dumps({"train": [{"input": [[True]], "output": [[1]]}], "test": GOOD_TASK["test"]}), "boolean"),
    (
        orjson.dumps({"train": [{"input": [[1.0]], "output": [[1]]}], "test": GOOD_TASK["test"]}),
        "number (1.0)",
    ),
    (orjson.dumps({"train": [{"input": [[-1]], "output": [[1]]}], "test": GOOD_TASK["test"]}), "is -1"),
    (b'{"train": [{"input": [[18446744073709551616]], "output": [[1]]}], "test": []}', "task bad"),
    (orjson.dumps({"train": [{"input": [[[[[[1]]]]]], "output": [[1]]}], "test": []}), "is a list"),
    (orjson.dumps({**GOOD_TASK, "ключ\n2": 1}), "unexpected key 'ключ 2'"),
    (orjson.dumps({"train": [], "test": GOOD_TASK["test"]}), "'train' is empty"),
    (orjson.dumps({"train": GOOD_TASK["train"]}), "has no 'test' list"),
]


@pytest.mark.parametrize(("content", "needle"), BAD_TASK_FILES, ids=range(len(BAD_TASK_FILES)))
def test_validate_bad_task_file(tmp_path, content, needle):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    line = assert_bad_input(invoke("data", "validate", path), needle)
    assert line.startswith(f"arcsolve: error: {path}")


@pytest.mark.parametrize(
    ("source", "needle"),
    [
        ("{tmp}/nope.json", "no such file"),
        ("{tmp}/no/such/folder", "not a file, a folder or a bundled set"),
        ("{tmp}/" + "n" * 5000, "cannot read: File name too long"),
        ("{tmp}/good.json/inside.json", "cannot read: Not a directory"),
        ("{tmp}/dangling.json", "no such file"),
        ("{tmp}/empty_folder", "folder holds no .json task files"),
        ("", "empty task source"),
        (" , ,", "empty task source"),
        ("arc1:nosplit", "unknown split 'nosplit'"),
        ("arc9:training", "unknown bundled set 'arc9'"),
        ("{tmp}/good.json,{tmp}/good.json", "duplicate task id"),
    ],
)
def test_validate_missing_and_odd_sources(tmp_path, source, needle):
    (tmp_path / "good.json").write_bytes(orjson.dumps(GOOD_TASK))
    (tmp_path / "dangling.json").symlink_to(tmp_path / "gone")
    (tmp_path / "empty_folder").mkdir()
    assert_bad_input(invoke("data", "validate", source.format(tmp=tmp_path)), needle)


def test_validate_mixed_folder_reports_each_bad_task_once(tmp_path):
    for fixture in (FIXTURES / "tasks").glob("*.json"):
        shutil.copy(fixture, tmp_path)
    bad = {
        "empty.json": b"",
        "binary.json": bytes(range(256)),
        "malformed.json": b'{"train": [',
        "alist.json": b"[1, 2]",
        "ragged.json": orjson.dumps({"train": [{"input": [[1, 2], [3]], "output": [[1]]}], "test": []}),
        "задача ✓.json": orjson.dumps({"train": [{"input": [[10]], "output": [[1]]}], "test": []}),
    }
    for name, content in bad.items():
        (tmp_path / name).write_bytes(content)
    (tmp_path / "folder.json").mkdir()  # a directory with a task-like name
    (tmp_path / "dangling.json").symlink_to(tmp_path / "missing-target")
    (tmp_path / "notes.txt").write_text("not a task; ignored")
    result = invoke("data", "validate", tmp_path)
    lines = error_lines(result)
    assert result.exit_code == 2
    expected = [*bad, "folder.json", "dangling.json"]
    assert len(lines) == len(expected), result.stderr
    for name in expected:
        assert sum(str(tmp_path / name) in line for line in lines) == 1, (name, result.stderr)
    assert f"2 valid task(s), {len(expected)} invalid" in result.stdout


def test_kaggle_challenges_with_bad_solutions(tmp_path):
    weird_ids = ["plain", "ünïcødé", "new\nline", "tab\tand space"]
    challenges = {task_id: GOOD_TASK for task_id in weird_ids}
    (tmp_path / "x_challenges.json").write_bytes(orjson.dumps(challenges))
    solutions = {"plain": [[[5, 0]]], "ünïcødé": [[[5, 0]], [[1]]], "new\nline": "oops"}
    (tmp_path / "x_solutions.json").write_bytes(orjson.dumps(solutions))
    result = invoke("data", "validate", tmp_path / "x_challenges.json")
    lines = error_lines(result)
    assert result.exit_code == 2 and len(lines) == 3, result.stderr
    assert "must list 1 grid(s)" in lines[0] and "task ünïcødé" in lines[0]
    assert "task new line" in lines[1]
    assert "task tab and space: has no solutions entry" in lines[2]
    assert "1 valid task(s), 3 invalid" in result.stdout

    (tmp_path / "x_solutions.json").write_bytes(b"[1, 2]")
    assert_bad_input(invoke("data", "validate", tmp_path / "x_challenges.json"), "x_solutions.json", "a list")


def _read_override_prefix() -> list[str] | None:
    """A command prefix under which file permission bits really apply: none for a normal user; for
    root (these tests often run as root, and root reads through chmod 000) `setpriv` dropping the
    two capabilities that bypass them. None when neither is possible."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    caps = "-dac_override,-dac_read_search"
    prefix = [setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}"]
    probe = subprocess.run([*prefix, "true"], capture_output=True, timeout=TIMEOUT)
    return prefix if probe.returncode == 0 else None


@pytest.mark.slow
def test_validate_unreadable_sources_for_real(tmp_path):
    """EACCES on a folder, a file, a folder that can be entered but not listed, and a parent folder."""
    prefix = _read_override_prefix()
    if prefix is None:
        pytest.skip("running as root without setpriv: chmod cannot make anything unreadable")
    layout = {"locked": 0o000, "file_locked": 0o755, "no_list": 0o311, "parent_locked": 0o000}
    for name in layout:
        (tmp_path / name / "inner").mkdir(parents=True)
        for folder in (tmp_path / name, tmp_path / name / "inner"):
            (folder / "t.json").write_bytes(orjson.dumps(GOOD_TASK))
    (tmp_path / "file_locked" / "t.json").chmod(0o000)
    sources = {
        "locked": "locked",
        "file_locked": "file_locked/t.json",
        "no_list": "no_list",
        "parent_locked": "parent_locked/inner",
    }
    try:
        for name, mode in layout.items():
            (tmp_path / name).chmod(mode)
        procs = {
            name: subprocess.Popen(
                [*prefix, sys.executable, "-m", "arcsolve", "data", "validate", str(tmp_path / source)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name, source in sources.items()
        }
        results = {
            name: (*proc.communicate(timeout=TIMEOUT), proc.returncode) for name, proc in procs.items()
        }
    finally:
        for name in layout:
            (tmp_path / name).chmod(0o755)
        (tmp_path / "file_locked" / "t.json").chmod(0o644)
    for name, (stdout, stderr, code) in results.items():
        lines = stderr.splitlines()
        assert code == 2 and len(lines) == 1 and stdout == "", (name, code, stderr, stdout)
        assert lines[0].startswith(f"arcsolve: error: {tmp_path / sources[name]}"), (name, stderr)
        assert "permission denied" in lines[0].lower(), (name, stderr)


def test_validate_permission_errors_simulated(tmp_path, monkeypatch):
    """The same error paths without relying on the OS: listing and stat raising EACCES."""
    (tmp_path / "t.json").write_bytes(orjson.dumps(GOOD_TASK))
    real_iterdir, real_is_dir = Path.iterdir, Path.is_dir

    def iterdir(self):
        if self == tmp_path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    def is_dir(self):
        if self == tmp_path / "sub":
            raise PermissionError(13, "Permission denied", str(self))
        return real_is_dir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    monkeypatch.setattr(Path, "is_dir", is_dir)
    assert_bad_input(invoke("data", "validate", tmp_path), "permission denied")
    assert_bad_input(invoke("data", "validate", tmp_path / "sub"), "cannot read: Permission denied")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=30,
)
task_like = st.fixed_dictionaries({"train": json_values, "test": json_values}, optional={"id": json_values})


def check_validate_result(result) -> None:
    lines = error_lines(result)
    assert result.exit_code in (0, 2), (result.exit_code, result.stderr)
    assert (result.exit_code == 2) == bool(lines), result.stderr


@pytest.mark.slow
@FUZZ
@given(value=json_values | task_like | st.dictionaries(st.text(max_size=8), task_like, max_size=3))
def test_validate_random_json(scratch, value):
    path = scratch / "fuzz.json"
    # The stdlib writer, not orjson: it also writes integers beyond 64 bits and bare NaN / Infinity.
    path.write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8", errors="surrogatepass")
    check_validate_result(invoke("data", "validate", path))


@pytest.mark.slow
@FUZZ
@given(content=st.binary(max_size=300))
def test_validate_random_bytes(scratch, content):
    path = scratch / "bytes.json"
    path.write_bytes(content)
    check_validate_result(invoke("data", "validate", path))


# Almost-valid grids: a rectangle of colours, then maybe one mutation. Whether the task is valid is
# decided by `grid_is_valid` below, written from the format's rules, not from the loader's code.
MUTATIONS = ("none", "ragged", "bad_cell", "empty_row", "no_rows", "not_a_list")
BAD_CELLS = (-1, 10, 255, True, False, 1.0, 2.5, None, "3", [1], {"c": 1})


@st.composite
def grids(draw, mutate: bool) -> Any:
    h = draw(st.integers(1, 31))
    w = draw(st.integers(1, 31))
    # Colours from a drawn seed: drawing up to 961 cells one by one makes Hypothesis slow.
    colours = random.Random(draw(st.integers(0, 2**32)))
    grid = [[colours.randrange(10) for _ in range(w)] for _ in range(h)]
    mutation = draw(st.sampled_from(MUTATIONS)) if mutate else "none"
    r, c = draw(st.integers(0, h - 1)), draw(st.integers(0, w - 1))
    if mutation == "ragged":
        grid[r] = grid[r] + [0] if draw(st.booleans()) or w == 1 else grid[r][:-1]
    elif mutation == "bad_cell":
        grid[r][c] = draw(st.sampled_from(BAD_CELLS))
    elif mutation == "empty_row":
        grid[r] = []
    elif mutation == "no_rows":
        grid = []
    elif mutation == "not_a_list":
        grid = draw(st.sampled_from([None, 3, "grid", {"rows": grid}]))
    return grid


def grid_is_valid(grid: Any) -> bool:
    if not isinstance(grid, list) or not 1 <= len(grid) <= 30:
        return False
    if not all(isinstance(row, list) and len(row) == len(grid[0]) for row in grid):
        return False
    if not 1 <= len(grid[0]) <= 30:
        return False
    return all(type(cell) is int and 0 <= cell <= 9 for row in grid for cell in row)


def examples(mutate: bool) -> st.SearchStrategy:
    pair = st.fixed_dictionaries({"input": grids(mutate), "output": grids(mutate)})
    return st.lists(pair, min_size=1, max_size=2)  # empty lists: see BAD_TASK_FILES


@pytest.mark.slow
@FUZZ
@given(data=st.data())
def test_validate_almost_valid_grids_agree_with_the_rules(scratch, data):
    # Half of the tasks get no mutation at all, so valid tasks are common enough to be checked too.
    mutate = data.draw(st.booleans())
    train, test = data.draw(examples(mutate)), data.draw(examples(mutate))
    path = scratch / "grids.json"
    path.write_bytes(orjson.dumps({"train": train, "test": test}))
    valid = bool(train) and bool(test) and all(grid_is_valid(g) for ex in train + test for g in ex.values())
    result = invoke("data", "validate", path)
    if valid:
        assert result.exit_code == 0 and not error_lines(result), result.stderr
    else:
        assert_bad_input(result, str(path), "task grids")


# Configs: `arcsolve info` / `arcsolve train`.


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("data") / "ds"
    build_arc_dataset(ArcBuildConfig(source=str(FIXTURES / "tasks"), aug=1, canvas=4), out, progress=False)
    # The first `info` imports parts of torch lazily (seconds); pay that here, not in a fuzz deadline.
    config = out.with_name("warm-up.toml")
    config.write_text(good_config(out))
    assert invoke("info", config).exit_code == 0
    return out


def good_config(dataset: Path) -> str:
    return (
        f'[data]\npath = "{dataset}"\n\n'
        "[model]\nhidden_size = 32\nnum_heads = 2\nnum_layers = 1\nH_cycles = 1\nL_cycles = 1\n"
        "halt_max_steps = 2\npuzzle_emb_len = 1\n\n"
        '[train]\nglobal_batch_size = 2\nmax_steps = 2\ndevice = "cpu"\n'
    )


def test_good_config_is_accepted(tmp_path, dataset):
    path = tmp_path / "good.toml"
    path.write_text(good_config(dataset))
    result = invoke("info", path)
    assert result.exit_code == 0 and not error_lines(result), result.stderr


NO_DATA = "[data] needs exactly one of path, arc, sudoku, maze; got none"
BAD_CONFIGS = [
    (b"", NO_DATA),
    (b"# only a comment\n\n", NO_DATA),
    (b"[data]\n", NO_DATA),
    (b'[data]\npath = "x"\n[data.arc]\nsource = "arc1:training"\n', "got ['path', 'arc']"),
    (b"nosuch = 1\n", "unknown key 'nosuch'"),
    (b'[data]\npath = "x"\n[model]\nhiden_size = 3\n', "unknown key 'model.hiden_size'"),
    ('[data]\npath = "x"\n[train]\n"学习率" = 1\n'.encode(), "unknown key 'train.学习率'"),
    (b'[data]\npath = "x"\n[model.extra]\nx = 1\n', "unknown key 'model.extra'"),
    (b'[data]\npath = "x"\n[model]\nhidden_size = "big"\n', "'model.hidden_size' must be an integer"),
    (b'[data]\npath = "x"\n[model]\nhidden_size = true\n', "'model.hidden_size' must be an integer"),
    (b'[data]\npath = "x"\n[model]\nhidden_size = 64.0\n', "'model.hidden_size' must be an integer"),
    (b'[data]\npath = "x"\n[model]\nhidden_size = 1979-05-27\n', "'model.hidden_size' must be an integer"),
    (b'[data]\npath = "x"\n[model]\nhidden_size = {a = 1}\n', "'model.hidden_size' must be an integer"),
    (b'[data]\npath = "x"\n[model]\nvariant = "lstm"\n', "'model.variant' must be one of"),
    (b'[data]\npath = "x"\n[train]\nema = 1\n', "'train.ema' must be true or false"),
    (b'[data]\npath = "x"\n[train]\nlr = "fast"\n', "'train.lr' must be a number"),
    (b'[data]\npath = "x"\n[train]\nlr = nan\n', "'train.lr' must be a finite number"),
    (b'[data]\npath = "x"\n[train]\nlr = -inf\n', "'train.lr' must be a finite number"),
    (b'[data]\npath = "x"\n[train]\nseed = 99999999999999999999\n', "'train.seed' must be a 64-bit integer"),
    (b'[data]\npath = "x"\n[train]\nseed = -1\n', "train.seed must be >= 0"),
    (b'[data]\npath = "x"\n[train]\nseed = ' + b"9" * 5000 + b"\n", "invalid TOML"),
    (b"data = 3\n", "'data' must be a table, got int"),
    (b'[[data]]\npath = "x"\n', "'data' must be a table, got list"),
    (b"[model\nx = 1\n", "invalid TOML"),
    (b"a = 1\na = 2\n", "invalid TOML"),
    (b"x = " + b"[" * 50_000 + b"]" * 50_000 + b"\n", "nested too deeply"),
    (b"[" + b".".join([b"a"] * 5_000) + b"]\n", "nested too deeply"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff", "not a UTF-8 text file"),
]


@pytest.mark.parametrize("command", ["info", "train"])
@pytest.mark.parametrize(("content", "needle"), BAD_CONFIGS, ids=range(len(BAD_CONFIGS)))
def test_bad_config(tmp_path, command, content, needle):
    path = tmp_path / "bad.toml"
    path.write_bytes(content)
    args = [command, path] + (["--out", tmp_path / "run"] if command == "train" else [])
    line = assert_bad_input(invoke(*args), needle)
    assert line.startswith(f"arcsolve: error: {path}: ")
    assert not (tmp_path / "run").exists(), "a config error must not leave a run directory behind"


@pytest.mark.parametrize("command", ["info", "train"])
def test_config_path_problems(tmp_path, command):
    extra = ["--out", tmp_path / "run"] if command == "train" else []
    assert_bad_input(invoke(command, tmp_path / "missing.toml", *extra), "no such file")
    assert_bad_input(invoke(command, tmp_path, *extra), "is a directory")
    assert_bad_input(invoke(command, tmp_path / ("c" * 5000 + ".toml"), *extra), "cannot read")


BAD_OVERRIDES = [
    ("model.hidden_size", "--set: expected key=value"),
    ("=3", "--set: bad key"),
    ("model..hidden_size=3", "--set: bad key"),
    (".hidden_size=3", "--set: bad key"),
    ("model.=3", "--set: bad key"),
    ("data.path.deeper=1", "--set: 'data.path.deeper': 'path' is not a table"),
    ("model.hidden_size=[1,", "'model.hidden_size' must be an integer"),
    ("model.hidden_size=", "'model.hidden_size' must be an integer"),
    ("model.hidden_size=1e999", "'model.hidden_size' must be an integer"),
    ("model.hidden_size=" + "9" * 5000, "'model.hidden_size' must be an integer"),
    ("train.lr=" + "[" * 50_000, "'train.lr' must be a number"),
    ("model.nosuch=1", "unknown key 'model.nosuch'"),
    ("nosuch.deep.key=1", "unknown key 'nosuch'"),
    ("model=3", "'model' must be a table"),
    ("train.lr=nan", "'train.lr' must be a finite number"),
    ("train.seed=-5", "train.seed must be >= 0"),
    ("model.num_heads=3", "divisible by model.num_heads"),
]


@pytest.mark.parametrize(("override", "needle"), BAD_OVERRIDES, ids=range(len(BAD_OVERRIDES)))
def test_bad_override(tmp_path, dataset, override, needle):
    path = tmp_path / "good.toml"
    path.write_text(good_config(dataset))
    assert_bad_input(invoke("info", path, "--set", override), needle)
    assert_bad_input(invoke("train", path, "--out", tmp_path / "run", "--set", override), needle)
    assert not (tmp_path / "run").exists()


def test_bad_numbers_in_train_flags(tmp_path, dataset):
    path = tmp_path / "good.toml"
    path.write_text(good_config(dataset))
    for steps in ("0", "-5"):
        assert_bad_input(
            invoke("train", path, "--out", tmp_path / "run", "--max-steps", steps), "--max-steps"
        )
    assert not (tmp_path / "run").exists()


def test_usage_errors_exit_2_without_traceback(tmp_path, dataset):
    """Click's own usage errors (a flag without its value, a non-integer) are one line and exit 2
    like every other bad input, although the command never ran (the root group prints them)."""
    path = tmp_path / "good.toml"
    path.write_text(good_config(dataset))
    cases = {
        "info": ["info", path, "--set"],
        "train": ["train", path, "--out", tmp_path / "r", "--max-steps", "many"],
    }
    for command, args in cases.items():
        assert assert_bad_input(invoke(*args)).startswith(f"arcsolve: error: {command}: ")


def _field_types(cls) -> dict[str, Any]:
    hints = get_type_hints(cls)
    return {f.name: hints[f.name] for f in fields(cls)}


TYPED_KEYS = [("model", name, tp) for name, tp in _field_types(ModelConfig).items()] + [
    ("train", name, tp) for name, tp in _field_types(TrainConfig).items()
]
texts = st.text(max_size=12)
floats = st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: not x.is_integer())
WRONG_VALUES = {
    int: st.one_of(texts, st.booleans(), floats, st.lists(st.integers(), max_size=3)),
    float: st.one_of(texts, st.booleans(), st.lists(st.floats(allow_nan=False), max_size=3)),
    bool: st.one_of(texts, st.integers(), floats),
    str: st.one_of(st.integers(), st.booleans(), floats, st.lists(texts, max_size=3)),
}


def wrong_value_for(tp: Any) -> st.SearchStrategy:
    if get_origin(tp) is Literal:
        return WRONG_VALUES[str] | texts.filter(lambda s: s not in get_args(tp))
    args = [a for a in get_args(tp) if a is not type(None)]
    if len(args) == 1:  # `str | None`: None is not writable in TOML, so the wrong values are str's
        return WRONG_VALUES[args[0]]
    return WRONG_VALUES[tp]


def toml_value(value: Any) -> str:
    """A TOML literal for a scalar or list (strings as basic strings, escaped the JSON way)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        # JSON escapes are valid TOML escapes; TOML also wants DEL escaped, which JSON leaves raw.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    return "[" + ", ".join(toml_value(v) for v in value) + "]"


@FUZZ
@given(data=st.data())
def test_wrongly_typed_values_name_their_key(scratch, dataset, data):
    section, key, tp = data.draw(st.sampled_from(TYPED_KEYS))
    value = data.draw(wrong_value_for(tp))
    path = scratch / "typed.toml"
    path.write_text(f'[data]\npath = "{dataset}"\n\n[{section}]\n{key} = {toml_value(value)}\n')
    assert_bad_input(invoke("info", path), f"'{section}.{key}'")


@FUZZ
@given(section=st.sampled_from(["model", "train", "data"]), key=st.text(min_size=1, max_size=15))
def test_unknown_keys_are_named(scratch, dataset, section, key):
    known = {"model": _field_types(ModelConfig), "train": _field_types(TrainConfig)}.get(section, {})
    if key in known or (section == "data" and key in ("path", "arc", "sudoku", "maze", "cache_dir")):
        return
    path = scratch / "unknown.toml"
    table = (
        "" if section == "data" else f"\n[{section}]\n"
    )  # [data] is open already; TOML forbids reopening it
    path.write_text(f'[data]\npath = "{dataset}"\n{table}{toml_value(key)} = 1\n', encoding="utf-8")
    assert_bad_input(invoke("info", path), one_line(f"unknown key '{section}.{key}'"))


@FUZZ
@given(key=st.sampled_from(TYPED_KEYS), raw=st.text(max_size=40))
def test_random_override_values(scratch, dataset, key, raw):
    section, name, _ = key
    path = scratch / "override.toml"
    path.write_text(good_config(dataset))
    result = invoke("info", path, "--set", f"{section}.{name}={raw}")
    lines = error_lines(result)
    assert result.exit_code in (0, 2) and (result.exit_code == 2) == (len(lines) == 1), result.stderr


@FUZZ
@given(content=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_random_config_files(scratch, content):
    path = scratch / "random.toml"
    path.write_bytes(content)
    assert_bad_input(invoke("info", path))  # no [data] can come out of noise


# What a terminal shows: python -m arcsolve.


@pytest.mark.slow
def test_python_dash_m_prints_exactly_one_line(tmp_path, dataset):
    (tmp_path / "binary.json").write_bytes(bytes(range(256)))
    (tmp_path / "deep.json").write_bytes(b"[" * 100_000)
    (tmp_path / "empty.toml").write_bytes(b"")
    # One config run only: it imports torch, which takes seconds on a small machine.
    runs = {
        "binary task": (["data", "validate", tmp_path / "binary.json"], "malformed JSON"),
        "deep task": (["data", "validate", tmp_path / "deep.json"], "malformed JSON"),
        "empty config": (["info", tmp_path / "empty.toml"], NO_DATA),
    }
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-m", "arcsolve", *map(str, args)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, (args, _) in runs.items()
    }
    for name, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=TIMEOUT)
        assert proc.returncode == 2, (name, proc.returncode, stderr)
        assert stdout == "" and "Traceback" not in stderr, (name, stdout, stderr)
        lines = stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("arcsolve: error: "), (name, stderr)
        assert runs[name][1] in lines[0], (name, stderr)
