"""`submission merge`: priority order, holes and invalid grids filled, always valid."""

from __future__ import annotations

import orjson
from typer.testing import CliRunner

from arcsolve.cli import app
from arcsolve.data.tasks import load_tasks
from arcsolve.submission import validate_submission


def write(path, obj):
    path.write_bytes(orjson.dumps(obj))
    return path


def setup(tmp_path):
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    task = {"train": [{"input": [[1]], "output": [[2]]}], "test": [{"input": [[1]]}, {"input": [[3]]}]}
    write(tasks / "t.json", task)
    write(tasks / "u.json", {"train": task["train"], "test": [{"input": [[4]]}]})
    a = write(
        tmp_path / "a.json",
        {"t": [{"attempt_1": [[5]], "attempt_2": [[6]]}, {"attempt_1": "bad", "attempt_2": [[7]]}]},
    )
    b = write(
        tmp_path / "b.json",
        {
            "t": [{"attempt_1": [[8]], "attempt_2": [[5]]}, {"attempt_1": [[9]], "attempt_2": [[9]]}],
            "u": [{"attempt_1": [[1]], "attempt_2": [[2]]}],
        },
    )
    return tasks, a, b


def test_merge_takes_first_attempts_by_priority_and_fills_holes(tmp_path):
    tasks, a, b = setup(tmp_path)
    out = tmp_path / "merged.json"
    result = CliRunner().invoke(
        app, ["submission", "merge", str(a), str(b), "--tasks", str(tasks), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    merged = orjson.loads(out.read_bytes())
    assert merged["t"][0] == {"attempt_1": [[5]], "attempt_2": [[8]]}  # a's first, then b's first
    assert merged["t"][1] == {"attempt_1": [[7]], "attempt_2": [[9]]}  # a's invalid attempt_1 skipped
    assert merged["u"][0] == {"attempt_1": [[1]], "attempt_2": [[2]]}  # a has no u: b's answers
    assert validate_submission(out, load_tasks(str(tasks))) == []
    assert f"{a}: attempt_1 of 2 input(s); no valid answer for 1" in result.output


def test_merge_by_files_keeps_each_files_attempts_together(tmp_path):
    tasks, a, b = setup(tmp_path)
    out = tmp_path / "merged.json"
    args = [
        "submission",
        "merge",
        str(a),
        str(b),
        "--tasks",
        str(tasks),
        "--out",
        str(out),
        "--order",
        "files",
    ]
    assert CliRunner().invoke(app, args).exit_code == 0
    assert orjson.loads(out.read_bytes())["t"][0] == {"attempt_1": [[5]], "attempt_2": [[6]]}


def test_merge_refuses_a_file_that_is_not_json(tmp_path):
    tasks, a, _ = setup(tmp_path)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = CliRunner().invoke(
        app,
        [
            "submission",
            "merge",
            str(a),
            str(broken),
            "--tasks",
            str(tasks),
            "--out",
            str(tmp_path / "m.json"),
        ],
    )
    assert result.exit_code == 2 and "broken.json" in result.output and not (tmp_path / "m.json").exists()
