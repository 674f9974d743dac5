"""Submission files: writer, validator (including fuzzing), scorer, and the golden file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from arcsolve.data.tasks import Task, load_tasks
from arcsolve.errors import BadInputError, RunFailure
from arcsolve.predict.vote import VoteTable, vote_attempts
from arcsolve.submission import (
    InvalidSubmissionError,
    build_submission,
    fallback_submission,
    format_report,
    score_submission,
    submission_bytes,
    validate_submission,
    write_fallback_submission,
    write_submission,
)
from arcsolve.submission.attempts import default_fallbacks

FIXTURES = Path(__file__).parent / "fixtures"
CHALLENGES = FIXTURES / "kaggle" / "arc-agi_fixture_challenges.json"
GOLDEN = FIXTURES / "golden_submission.json"

# The fixture tasks' test outputs, in source order: f00dcafe has two test inputs, 0a1b2c3d one.
SOLUTIONS = {"f00dcafe": [[[0, 6, 5], [7, 0, 0]], [[8], [9]]], "0a1b2c3d": [[[3]]]}
WRONG = [[0]]


@pytest.fixture(scope="module")
def tasks() -> list[Task]:
    return load_tasks(str(CHALLENGES))


def entries(*pairs) -> list[dict]:
    return [{"attempt_1": a, "attempt_2": b} for a, b in pairs]


def golden_table() -> VoteTable:
    """Votes for the golden file: a tie on votes broken by confidence, a test input with no votes at
    all, and a test input with a single candidate (plus invalid predictions, which must not count)."""
    table = VoteTable()
    for _ in range(3):
        table.add("f00dcafe", 0, np.array([[0, 6, 5], [7, 0, 0]]), 0.9)
        table.add("f00dcafe", 0, np.array([[5, 6, 0], [0, 0, 7]]), 0.4)
    table.add("f00dcafe", 0, None, 0.7)
    table.add("0a1b2c3d", 0, np.array([[3]]), 0.8)
    table.add("0a1b2c3d", 0, None, 0.1)
    return table


def test_fixture_sources_agree(tasks):
    folder = {t.task_id: t for t in load_tasks(str(FIXTURES / "tasks"))}
    assert [t.task_id for t in tasks] == ["f00dcafe", "0a1b2c3d"]  # source order, not sorted
    for task in tasks:
        other = folder[task.task_id]
        assert task.test_outputs is not None and other.test_outputs is not None
        for mine, theirs in zip(task.test_outputs, other.test_outputs, strict=True):
            assert np.array_equal(mine, theirs)


def test_golden_submission_byte_for_byte(tasks, tmp_path):
    out = tmp_path / "submission.json"
    write_submission(out, tasks, vote_attempts(golden_table(), tasks))
    assert out.read_bytes() == GOLDEN.read_bytes()
    assert validate_submission(out, tasks) == []
    assert score_submission(out, load_tasks(str(FIXTURES / "tasks"))).score == 1.0


def test_writer_output_is_deterministic_and_plain_ints(tasks):
    attempts = vote_attempts(golden_table(), tasks)
    reordered = dict(reversed(list(attempts.items())))  # the tasks' order rules, not the mapping's
    assert submission_bytes(build_submission(tasks, reordered)) == GOLDEN.read_bytes()
    submission = build_submission(tasks, attempts)
    assert list(submission) == ["f00dcafe", "0a1b2c3d"]
    cells = [c for e in submission["f00dcafe"] for g in e.values() for row in g for c in row]
    assert cells and all(type(c) is int for c in cells)
    assert all(list(e) == ["attempt_1", "attempt_2"] for e in submission["f00dcafe"])


def test_fallback_submission_is_complete_and_valid(tasks, tmp_path):
    submission = fallback_submission(tasks)
    assert validate_submission(submission, tasks) == []
    for task in tasks:
        for test_input, entry in zip(task.test_inputs, submission[task.task_id], strict=True):
            assert entry["attempt_1"] == test_input.tolist()
            assert entry["attempt_2"] != entry["attempt_1"]
    path = tmp_path / "deep" / "submission.json"
    write_fallback_submission(path, tasks)
    assert orjson.loads(path.read_bytes()) == submission


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda a: a.pop("0a1b2c3d"), "task 0a1b2c3d: no attempts"),
        (lambda a: a["f00dcafe"].pop(), "attempts for 1 test input(s), expected 2"),
        (lambda a: a["f00dcafe"][1].pop(), "task f00dcafe test 1: 1 attempt(s), expected 2"),
        (lambda a: a["0a1b2c3d"][0].append(np.zeros((1, 1), np.uint8)), "3 attempt(s)"),
        (lambda a: a["0a1b2c3d"][0].__setitem__(1, np.array([[12]])), "test 0: attempt_2 is not"),
        (lambda a: a["0a1b2c3d"][0].__setitem__(0, np.zeros((31, 2), np.uint8)), "attempt_1 is not"),
        (lambda a: a["0a1b2c3d"][0].__setitem__(0, np.array([[0.0]])), "attempt_1 is not"),
        (lambda a: a.__setitem__("cafebabe", [[WRONG, WRONG]]), "task cafebabe: attempts given but not"),
    ],
)
def test_writer_refuses_anything_incomplete(tasks, tmp_path, change, needle):
    attempts = vote_attempts(VoteTable(), tasks)
    change(attempts)
    out = tmp_path / "submission.json"
    out.write_bytes(b"previous")
    with pytest.raises(RunFailure, match="refusing") as info:
        write_submission(out, tasks, attempts)
    assert needle in info.value.what
    assert out.read_bytes() == b"previous"  # nothing half-written, the old file intact
    assert [p.name for p in tmp_path.iterdir()] == ["submission.json"]


@st.composite
def task_sets(draw) -> list[Task]:
    side = st.integers(1, 30) if draw(st.booleans()) else st.integers(1, 4)
    grid = arrays(np.uint8, st.tuples(side, side), elements=st.integers(0, 9))
    ids = draw(st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=4, unique=True))
    tasks = []
    for task_id in ids:
        train = draw(st.lists(st.tuples(grid, grid), min_size=1, max_size=3))
        tests = draw(st.lists(grid, min_size=1, max_size=3))
        tasks.append(Task(task_id, tuple(train), tuple(tests), None, "hypothesis"))
    return tasks


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tasks=task_sets(), data=st.data())
def test_any_partial_vote_table_gives_a_valid_complete_submission(tasks, data):
    small = arrays(np.uint8, st.tuples(st.integers(1, 3), st.integers(1, 3)), elements=st.integers(0, 9))
    table = VoteTable()
    for task in tasks:
        for index, test_input in enumerate(task.test_inputs):
            votes = data.draw(st.lists(st.one_of(st.none(), small, st.just(test_input)), max_size=4))
            for grid in votes:
                table.add(task.task_id, index, grid, data.draw(st.floats(0, 1) | st.just(float("nan"))))
    submission = build_submission(tasks, vote_attempts(table, tasks))
    raw = submission_bytes(submission)
    assert validate_submission(raw, tasks) == []
    assert list(orjson.loads(raw)) == [t.task_id for t in tasks]
    for task in tasks:
        got = submission[task.task_id]
        assert len(got) == len(task.test_inputs)
        for index, entry in enumerate(got):
            ranked = table.ranked(task.task_id, index)
            first = ranked[0][0] if ranked else next(default_fallbacks(task, index))
            assert entry["attempt_1"] == first.tolist()  # each entry belongs to its own test input
            assert entry["attempt_2"] != entry["attempt_1"]


def only(problems: list[str]) -> str:
    assert len(problems) == 1, problems
    return problems[0]


def perfect() -> dict:
    return {
        "f00dcafe": entries(*[(g, WRONG) for g in SOLUTIONS["f00dcafe"]]),
        "0a1b2c3d": entries((SOLUTIONS["0a1b2c3d"][0], WRONG)),
    }


@pytest.mark.parametrize(
    ("grid", "needle"),
    [
        ([], "has 0 rows"),
        ([[0]] * 31, "has 31 rows"),
        ([[0] * 31], "has 31 columns"),
        ([[]], "has 0 columns"),
        ([[1, 2], [3]], "ragged"),
        ([[True]], "boolean"),
        ([[1.0]], "a number (1.0)"),
        ([[None]], "null"),
        ([[10]], "is 10, expected 0..9"),
        ([[-1]], "is -1, expected 0..9"),
        ([["1"]], "a string"),
        ([1, 2], "row 0"),
        ("[[1]]", "a string"),
        (None, "null"),
        ({"0": [1]}, "a dict"),
        ([[10**5000]], "too large"),
    ],
)
def test_each_bad_grid_is_named(tasks, grid, needle):
    submission = perfect()
    submission["f00dcafe"][1]["attempt_2"] = grid
    message = only(validate_submission(submission, tasks))
    assert message.startswith("task f00dcafe test 1: attempt_2")
    assert needle in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda s: s.pop("0a1b2c3d"), "task 0a1b2c3d: missing (expected 1 entry)"),
        (lambda s: s.update(deadbeef=[]), "task deadbeef: unknown task id, not in the task source"),
        (lambda s: s.update(f00dcafe={}), "task f00dcafe: is an object, expected a list of 2 entries"),
        (lambda s: s["f00dcafe"].pop(), "task f00dcafe: has 1 entry, expected 2 (one per test input)"),
        (
            lambda s: s["f00dcafe"].__setitem__(1, [[8], [9]]),
            "task f00dcafe test 1: entry is a list of 2 item(s), expected an object with attempt_1 and attempt_2",
        ),
        (lambda s: s["0a1b2c3d"][0].pop("attempt_1"), "task 0a1b2c3d test 0: missing attempt_1"),
        (
            lambda s: s["0a1b2c3d"][0].update(attempt_3=[[1]]),
            "task 0a1b2c3d test 0: unexpected key(s) 'attempt_3'; only attempt_1 and attempt_2 are allowed",
        ),
    ],
)
def test_each_structural_problem_is_named(tasks, change, expected):
    submission = perfect()
    change(submission)
    assert validate_submission(submission, tasks) == [expected]


def test_every_problem_is_reported_not_just_the_first(tasks):
    submission = {
        "f00dcafe": [{"attempt_1": [[11]]}, {"attempt_1": [[1]], "attempt_2": [[2]], "x": 1, "y": 2}, {}],
        "zz\n\x00": 5,
        "other": [],
    }
    problems = validate_submission(submission, tasks)
    assert problems == [
        "task f00dcafe: has 3 entries, expected 2 (one per test input)",
        "task f00dcafe test 0: attempt_1 cell (0,0) is 11, expected 0..9",
        "task f00dcafe test 0: missing attempt_2",
        "task f00dcafe test 1: unexpected key(s) 'x', 'y'; only attempt_1 and attempt_2 are allowed",
        "task 0a1b2c3d: missing (expected 1 entry)",
        "task zz\\n\\x00: unknown task id, not in the task source",
        "task other: unknown task id, not in the task source",
    ]


def test_top_level_and_file_problems_are_one_message(tasks, tmp_path):
    assert only(validate_submission([], tasks)).startswith(
        "submission is a list of 0 item(s), expected an object"
    )
    assert only(validate_submission(None, tasks)).startswith("submission is null")
    cases = {
        "missing.json": (None, "no such file"),
        "empty.json": (b"", "empty file"),
        "blank.json": (b" \n\t", "empty file"),
        "binary.json": (bytes(range(256)) * 4, "malformed JSON"),
        "truncated.json": (GOLDEN.read_bytes()[:-5], "malformed JSON"),
        "bom.json": (b"\xef\xbb\xbf{}", "malformed JSON"),
        "array.json": (b"[1, 2]", "submission is a list of 2 item(s)"),
    }
    for name, (content, needle) in cases.items():
        path = tmp_path / name
        if content is not None:
            path.write_bytes(content)
        message = only(validate_submission(path, tasks))
        assert needle in message and "\n" not in message
        if needle != "submission is a list of 2 item(s)":
            assert message.startswith(str(path))
    assert "is a directory" in only(validate_submission(tmp_path, tasks))
    assert "cannot read" in only(validate_submission(str(tmp_path / "nul\x00.json"), tasks))
    assert validate_submission(str(GOLDEN), tasks) == []
    assert validate_submission(GOLDEN.read_bytes(), tasks) == []


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def check_messages(problems) -> None:
    assert isinstance(problems, list)
    for message in problems:
        assert isinstance(message, str) and message and "\n" not in message and "\r" not in message


def test_pathological_values_never_raise(tasks):
    deep = nested(100_000)
    for value in [
        deep,
        {"f00dcafe": deep},
        {"f00dcafe": [deep, deep]},
        {"f00dcafe": [{"attempt_1": deep, "attempt_2": [deep]}]},
        {"f00dcafe": [{"attempt_1": [[10**5000]], "attempt_2": 10**5000}, {"attempt_1": [[-(10**40)]]}]},
        {1: [], (2, 3): None, None: 1, "0a1b2c3d": [{1: 2, None: [[1]]}]},
        {
            "f00dcafe": [
                {"attempt_1": [[float("nan")]], "attempt_2": [[float("inf")]]},
                {"attempt_1": object()},
            ]
        },
        {
            "f00dcafe": (({"attempt_1": [[1]]},),),
            "0a1b2c3d": [{"attempt_1": np.zeros((1, 1)), "attempt_2": "x"}],
        },
        {"\u2028é\U0001f600" * 50: [], "f00dcafe": [{"\ud800": 1}]},
    ]:
        check_messages(validate_submission(value, tasks))
    for raw in [b"[" * 100_000, b"[" * 100_000 + b"]" * 100_000, b"[18446744073709551616]", b"NaN", b"\xff"]:
        check_messages(validate_submission(raw, tasks))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=25,
)
KEYS = st.sampled_from(["f00dcafe", "0a1b2c3d", "attempt_1", "attempt_2"]) | st.text()
GRIDLIKE = st.lists(st.lists(st.integers(-2, 11) | JSON, max_size=4), max_size=4)
SHAPED = st.dictionaries(
    KEYS, st.lists(st.dictionaries(KEYS, GRIDLIKE | JSON, max_size=3), max_size=3) | JSON
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(value=JSON | SHAPED)
def test_fuzz_decoded_values_never_raise(tasks, value):
    check_messages(validate_submission(value, tasks))
    check_messages(validate_submission(json.dumps(value).encode(), tasks))  # NaN/huge ints via bytes


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=200) | SHAPED.map(lambda v: json.dumps(v).encode()[:-1]))
def test_fuzz_raw_bytes_never_raise(tasks, raw):
    check_messages(validate_submission(raw, tasks))


def test_score_perfect_and_all_wrong(tasks):
    report = score_submission(perfect(), tasks)
    assert (report.score, report.per_output, report.n_tasks_solved) == (1.0, 1.0, 2)
    assert [t.solved_by for t in report.tasks] == [(1, 1), (1,)]
    wrong = {"f00dcafe": entries((WRONG, WRONG), (WRONG, WRONG)), "0a1b2c3d": entries((WRONG, WRONG))}
    report = score_submission(wrong, tasks)
    assert (report.score, report.per_output, report.n_solved) == (0.0, 0.0, 0)
    # Right colours in the wrong shape is still wrong.
    flat = {
        "f00dcafe": entries(([[0, 6, 5, 7, 0, 0]], WRONG), ([[8, 9]], WRONG)),
        "0a1b2c3d": entries(([[3, 3]], WRONG)),
    }
    assert score_submission(flat, tasks).score == 0.0


def test_score_half_right_and_attempt_2_counts(tasks):
    submission = {
        "f00dcafe": entries((WRONG, WRONG), (WRONG, WRONG)),
        "0a1b2c3d": entries((WRONG, SOLUTIONS["0a1b2c3d"][0])),
    }
    report = score_submission(submission, tasks)
    assert report.score == 0.5
    assert report.tasks[1].solved_by == (2,)


def test_per_task_mean_differs_from_per_output_mean(tasks):
    # f00dcafe: 1 of its 2 test outputs (task score 0.5); 0a1b2c3d: wrong (0).
    submission = {
        "f00dcafe": entries((WRONG, SOLUTIONS["f00dcafe"][0]), (WRONG, WRONG)),
        "0a1b2c3d": entries((WRONG, WRONG)),
    }
    report = score_submission(submission, tasks)
    assert [t.score for t in report.tasks] == [0.5, 0.0]
    assert report.score == pytest.approx(0.25)  # (0.5 + 0) / 2 tasks
    assert report.per_output == pytest.approx(1 / 3)  # 1 of 3 test outputs
    text = format_report(report)
    assert "score (mean over tasks): 0.2500" in text and "0.3333  (1 / 3 test outputs)" in text
    assert "f00dcafe" not in text
    table = format_report(report, verbose=True).splitlines()
    assert table[0].split() == ["task", "score", "solved", "attempts"]
    assert table[1].split() == ["f00dcafe", "0.500", "1/2", "2", "."]
    assert table[2].split() == ["0a1b2c3d", "0.000", "0/1", "."]
    assert report.to_dict()["per_task"]["f00dcafe"] == {"score": 0.5, "solved_by": [2, 0]}


def test_score_rejects_invalid_submissions_listing_problems(tasks, tmp_path):
    submission = perfect()
    submission.pop("0a1b2c3d")
    submission["f00dcafe"][0]["attempt_1"] = [[True]]
    with pytest.raises(InvalidSubmissionError) as info:
        score_submission(submission, tasks)
    assert info.value.exit_code == 2 and isinstance(info.value, BadInputError)
    assert len(info.value.problems) == 2 and "2 problem(s)" in info.value.what
    with pytest.raises(InvalidSubmissionError, match="no such file"):
        score_submission(tmp_path / "nope.json", tasks)


def test_score_needs_solutions(tmp_path):
    shutil.copy(CHALLENGES, tmp_path / "alone_challenges.json")
    unsolved = load_tasks(str(tmp_path / "alone_challenges.json"))
    with pytest.raises(BadInputError, match="test outputs unknown for 2 task") as info:
        score_submission(GOLDEN, unsolved)
    assert "f00dcafe, 0a1b2c3d" in info.value.what
    with pytest.raises(BadInputError, match="no tasks"):
        score_submission(GOLDEN, [])
