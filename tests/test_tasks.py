"""Task sources: bundled sets, folders, Kaggle challenge files, and every kind of bad grid."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arcsolve.data.tasks import load_tasks, parse_grid, parse_task, scan_source, task_to_json
from arcsolve.errors import BadInputError

GOOD = {
    "train": [{"input": [[1, 2], [3, 4]], "output": [[4, 3], [2, 1]]}],
    "test": [{"input": [[0, 5]], "output": [[5, 0]]}],
}


def write(path: Path, obj) -> Path:
    path.write_bytes(obj if isinstance(obj, bytes) else orjson.dumps(obj))
    return path


@pytest.mark.parametrize(
    ("source", "n_tasks", "n_train", "n_test"),
    [
        ("arc1:training", 400, 1301, 416),
        ("arc1:evaluation", 400, 1363, 419),
        ("arc2:evaluation", 120, 359, 167),
    ],
)
def test_bundled_sets_load_with_solutions(source, n_tasks, n_train, n_test):
    tasks = load_tasks(source)
    assert len(tasks) == n_tasks
    assert sum(len(t.train_pairs) for t in tasks) == n_train
    assert sum(len(t.test_inputs) for t in tasks) == n_test
    assert all(t.has_solutions for t in tasks)
    grid = tasks[0].train_pairs[0][0]
    assert grid.dtype == np.uint8 and grid.ndim == 2


def test_comma_joined_sources_keep_order_and_reject_duplicates(tmp_path):
    write(tmp_path / "aaa.json", GOOD)
    tasks = load_tasks(f"{tmp_path / 'aaa.json'},arc1:evaluation")
    assert tasks[0].task_id == "aaa" and len(tasks) == 401
    with pytest.raises(BadInputError, match="duplicate task id"):
        load_tasks("arc1:evaluation,kaggle2024:evaluation")


def test_split_aliases_and_unknown_names():
    assert len(load_tasks("arc1:eval")) == 400
    with pytest.raises(BadInputError, match="unknown bundled set"):
        load_tasks("arc9:training")
    with pytest.raises(BadInputError, match="unknown split"):
        load_tasks("arc1:validation")


def test_folder_source_reads_every_json_sorted(tmp_path):
    write(tmp_path / "b.json", GOOD)
    write(tmp_path / "a.json", GOOD)
    (tmp_path / "notes.txt").write_text("ignored")
    tasks = load_tasks(str(tmp_path))
    assert [t.task_id for t in tasks] == ["a", "b"]
    np.testing.assert_array_equal(tasks[0].test_outputs[0], np.array([[5, 0]], dtype=np.uint8))


def test_kaggle_challenges_pick_up_solutions_beside_them(tmp_path):
    challenges = {"t1": {"train": GOOD["train"], "test": [{"input": [[1]]}, {"input": [[2, 2]]}]}}
    write(tmp_path / "arc-agi_test_challenges.json", challenges)
    (task,) = load_tasks(str(tmp_path / "arc-agi_test_challenges.json"))
    assert task.test_outputs is None and len(task.test_inputs) == 2
    write(tmp_path / "arc-agi_test_solutions.json", {"t1": [[[3]], [[4, 4]]]})
    (task,) = load_tasks(str(tmp_path / "arc-agi_test_challenges.json"))
    assert [g.tolist() for g in task.test_outputs] == [[[3]], [[4, 4]]]
    write(tmp_path / "arc-agi_test_solutions.json", {"t1": [[[3]]]})
    with pytest.raises(BadInputError, match="must list 2 grid"):
        load_tasks(str(tmp_path / "arc-agi_test_challenges.json"))


BAD_TASKS = [
    ({"train": [], "test": GOOD["test"]}, "'train' is empty"),
    ({"train": GOOD["train"]}, "has no 'test'"),
    ({"train": [{"input": [[1]], "output": [[10]]}], "test": GOOD["test"]}, "is 10, expected 0..9"),
    ({"train": [{"input": [[1, 2], [3]], "output": [[1]]}], "test": GOOD["test"]}, "ragged"),
    ({"train": [{"input": [[True]], "output": [[1]]}], "test": GOOD["test"]}, "boolean"),
    ({"train": [{"input": [[1.0]], "output": [[1]]}], "test": GOOD["test"]}, "number"),
    ({"train": [{"input": [["1"]], "output": [[1]]}], "test": GOOD["test"]}, "string"),
    ({"train": [{"input": [[None]], "output": [[1]]}], "test": GOOD["test"]}, "null"),
    ({"train": [{"input": [[-1]], "output": [[1]]}], "test": GOOD["test"]}, "is -1"),
    ({"train": [{"input": [[0] * 31] * 31, "output": [[1]]}], "test": GOOD["test"]}, "31 rows"),
    ({"train": [{"input": [[0] * 31], "output": [[1]]}], "test": GOOD["test"]}, "31 columns"),
    ({"train": [{"input": [], "output": [[1]]}], "test": GOOD["test"]}, "0 rows"),
    ({"train": [{"input": [[]], "output": [[1]]}], "test": GOOD["test"]}, "0 columns"),
    ({"train": [{"input": [[1]]}], "test": GOOD["test"]}, "has no 'output'"),
    ({"train": GOOD["train"], "test": GOOD["test"], "extra": 1}, "unexpected key 'extra'"),
    ([1, 2], "expected an object"),
]


@pytest.mark.parametrize(("obj", "message"), BAD_TASKS)
def test_bad_tasks_name_file_task_and_problem(tmp_path, obj, message):
    path = write(tmp_path / "broken.json", obj)
    with pytest.raises(BadInputError, match=message) as info:
        load_tasks(str(path))
    assert str(path) in info.value.where and "broken" in info.value.where


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"{not json", "malformed JSON"),
        (b"\x89PNG\x00\x01", "malformed JSON"),
        (b"[1]", "expected an object"),
    ],
)
def test_unreadable_files(tmp_path, content, message):
    path = write(tmp_path / "x_challenges.json", content)
    with pytest.raises(BadInputError, match=message):
        load_tasks(str(path))


def test_missing_paths_and_empty_folders(tmp_path):
    with pytest.raises(BadInputError, match="no such file"):
        load_tasks(str(tmp_path / "missing.json"))
    with pytest.raises(BadInputError, match="no .json task files"):
        load_tasks(str(tmp_path))


def test_scan_reports_every_bad_task_and_keeps_good_ones(tmp_path):
    write(tmp_path / "good.json", GOOD)
    write(tmp_path / "bad1.json", BAD_TASKS[0][0])
    write(tmp_path / "bad2.json", b"{")
    tasks, problems = scan_source(str(tmp_path))
    assert [t.task_id for t in tasks] == ["good"]
    assert len(problems) == 2 and all("bad" in p.where for p in problems)


grids = st.integers(1, 30).flatmap(
    lambda h: st.integers(1, 30).flatmap(
        lambda w: st.lists(st.lists(st.integers(0, 9), min_size=w, max_size=w), min_size=h, max_size=h)
    )
)


@settings(max_examples=60, deadline=None)
@given(grids)
def test_parse_grid_roundtrips_any_valid_grid(grid):
    array = parse_grid(grid, "g")
    assert array.dtype == np.uint8 and array.tolist() == grid


@settings(max_examples=150, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
        max_leaves=20,
    )
)
def test_parse_task_never_raises_anything_but_bad_input(obj):
    try:
        parse_task(obj, "fuzz", "fuzz.json")
    except BadInputError as err:
        assert "\n" not in err.one_line()


def test_task_to_json_round_trip(tmp_path):
    (task,) = load_tasks(str(write(tmp_path / "t.json", GOOD)))
    assert task_to_json(task) == GOOD
    assert json.loads(json.dumps(task_to_json(task, with_solutions=False)))["test"] == [{"input": [[0, 5]]}]
