"""Pictures: PNG cell colours at cell centres, HTML grid structure and marks, curves, gallery order."""

from __future__ import annotations

import json
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from arcsolve.data.tasks import Task, load_tasks
from arcsolve.errors import BadInputError
from arcsolve.viz import find_task, render_gallery, render_report, render_task, show_task
from arcsolve.viz.curves import Series, group_panels, nice_ticks, panel_of, read_metrics, thin
from arcsolve.viz.palette import ARC_PALETTE, MARK_COLOURS, hex_to_rgb, palette_rgb
from arcsolve.viz.png import MARK_PAD

BIG = [[(r * 7 + c * 3) % 10 for c in range(30)] for r in range(30)]  # every colour, 30x30
TASKS = {
    # Two test inputs; the submission below solves the first only.
    "aaa": {
        "train": [
            {"input": [[0, 1, 2], [3, 4, 5]], "output": [[6, 7], [8, 9], [0, 1]]},
            {"input": [[9]], "output": BIG},
        ],
        "test": [
            {"input": [[1, 2], [3, 4]], "output": [[4, 3], [2, 1]]},
            {"input": [[5]], "output": [[6, 6]]},
        ],
    },
    "bbb": {
        "train": [{"input": [[1]], "output": [[2]]}],
        "test": [{"input": [[3, 3]], "output": [[7], [7]]}],
    },
    "ccc": {
        "train": [{"input": [[4]], "output": [[5]]}],
        "test": [{"input": [[0]], "output": [[8]]}],
    },
    "ddd": {
        "train": [{"input": [[2, 2]], "output": [[1, 1]]}],
        "test": [{"input": [[9, 9, 9]], "output": [[0, 9, 0]]}],
    },
}
SUBMISSION = {
    "aaa": [
        {"attempt_1": [[0]], "attempt_2": [[4, 3], [2, 1]]},  # right by attempt 2
        {"attempt_1": [[6], [6]], "attempt_2": [[6, 6, 6]]},  # both wrong (shape)
    ],
    "bbb": [{"attempt_1": [[7, 7]], "attempt_2": [[1]]}],
    "ccc": [{"attempt_1": [[8]], "attempt_2": [[8]]}],
    "ddd": [{"attempt_1": [[0, 9, 0]], "attempt_2": [[0]]}],
}


def _have_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture
def mpimg():
    """matplotlib.image, for reading PNGs back; PNG tests skip without the viz extra, HTML ones run."""
    return pytest.importorskip("matplotlib.image")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    src = tmp_path / "tasks"
    src.mkdir()
    for task_id, obj in TASKS.items():
        (src / f"{task_id}.json").write_text(json.dumps(obj))
    return src


@pytest.fixture
def tasks(folder: Path) -> list[Task]:
    return load_tasks(str(folder))


def expected_grids(task: Task, with_attempts: bool) -> list[tuple[str, np.ndarray]]:
    grids = []
    for i, (grid_in, grid_out) in enumerate(task.train_pairs, start=1):
        grids += [(f"train {i} input", grid_in), (f"train {i} output", grid_out)]
    for i, grid_in in enumerate(task.test_inputs):
        grids.append((f"test {i + 1} input", grid_in))
        if task.test_outputs is not None:
            grids.append((f"test {i + 1} truth", task.test_outputs[i]))
        if with_attempts:
            for k in (1, 2):
                attempt = SUBMISSION[task.task_id][i][f"attempt_{k}"]
                grids.append((f"test {i + 1} attempt {k}", np.array(attempt)))
    return grids


class GridCollector(HTMLParser):
    """Every `.grid` element: its figure's attributes, its declared size and its cells' colours."""

    def __init__(self) -> None:
        super().__init__()
        self.grids: list[dict] = []
        self.sections: list[dict] = []
        self.series: list[dict] = []
        self.tags: set[str] = set()
        self._figure: dict = {}
        self._grid: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        if tag == "section":
            self.sections.append(attrs)
        elif tag == "figure":
            self._figure = attrs
        elif tag == "g" and "data-key" in attrs:
            self.series.append(attrs)
        elif tag == "div" and "grid" in (attrs.get("class") or "").split():
            self._grid = {"figure": self._figure, **attrs, "cells": []}
        elif tag == "i" and self._grid is not None:
            self._grid["cells"].append(int(attrs["class"][1:]))

    def handle_endtag(self, tag):
        if tag == "div" and self._grid is not None:
            self.grids.append(self._grid)
            self._grid = None


def parse_html(path: Path) -> tuple[GridCollector, str]:
    text = path.read_text(encoding="utf-8")
    collector = GridCollector()
    collector.feed(text)
    collector.close()
    return collector, text


def check_grid(found: dict, role: str, grid: np.ndarray) -> None:
    h, w = grid.shape
    assert found["figure"]["data-role"] == role
    assert (int(found["data-rows"]), int(found["data-cols"])) == (h, w)
    assert found["cells"] == grid.ravel().tolist()


def test_png_cell_centres_have_palette_colours(tasks, tmp_path, mpimg):
    task = find_task(tasks, "aaa")
    out = tmp_path / "aaa.png"
    drawn = render_task(task, out, SUBMISSION)
    image = mpimg.imread(out)
    assert image.dtype == np.float32 and image.shape[2] in (3, 4)
    rgb = np.round(image[:, :, :3] * 255).astype(int)
    palette = palette_rgb().astype(int)
    expected = expected_grids(task, with_attempts=True)
    assert [(d.view.role, d.view.grid.tolist()) for d in drawn] == [(r, g.tolist()) for r, g in expected]
    for item in drawn:
        left, top, right, bottom = item.box
        h, w = item.view.grid.shape
        assert right - left >= 8 * w - 1e-6 and bottom - top >= 8 * h - 1e-6  # at least 8 px per cell
        assert 0 <= left and right <= image.shape[1] and 0 <= top and bottom <= image.shape[0]
        rows = (top + (np.arange(h) + 0.5) * (bottom - top) / h).astype(int)
        cols = (left + (np.arange(w) + 0.5) * (right - left) / w).astype(int)
        centres = rgb[rows[:, None], cols[None, :]]  # (h, w, 3)
        np.testing.assert_array_equal(centres, palette[item.view.grid], err_msg=item.view.role)


def test_png_marks_attempts_with_coloured_frames(tasks, tmp_path, mpimg):
    out = tmp_path / "aaa.png"
    drawn = render_task(find_task(tasks, "aaa"), out, SUBMISSION)
    marks = {d.view.role: d.view.mark for d in drawn if d.view.kind == "attempt"}
    assert marks == {
        "test 1 attempt 1": "wrong",
        "test 1 attempt 2": "right",
        "test 2 attempt 1": "wrong",
        "test 2 attempt 2": "wrong",
    }
    assert all(d.view.mark is None for d in drawn if d.view.kind != "attempt")
    rgb = np.round(mpimg.imread(out)[:, :, :3] * 255).astype(int)
    for item in drawn:
        if item.view.mark is None:
            continue
        left, top, _, bottom = item.box
        frame_pixel = rgb[int((top + bottom) / 2), int(left) - MARK_PAD]
        assert tuple(frame_pixel) == hex_to_rgb(MARK_COLOURS[item.view.mark]), item.view.role


def test_html_holds_one_grid_per_expected_grid(tasks, tmp_path):
    for task in tasks:
        for submission in (None, SUBMISSION):
            out = tmp_path / f"{task.task_id}.html"
            render_task(task, out, submission)
            collector, text = parse_html(out)
            expected = expected_grids(task, with_attempts=submission is not None)
            assert len(collector.grids) == len(expected)
            for found, (role, grid) in zip(collector.grids, expected, strict=True):
                check_grid(found, role, grid)
            assert {"script", "link", "img"}.isdisjoint(collector.tags)  # self-contained
            assert "http://" not in text and "https://" not in text
            for k, colour in enumerate(ARC_PALETTE):
                assert f".c{k}{{background:{colour}}}" in text


def test_html_marks_right_and_wrong(tasks, tmp_path):
    out = tmp_path / "aaa.html"
    render_task(find_task(tasks, "aaa"), out, SUBMISSION)
    collector, _ = parse_html(out)
    marks = {g["figure"]["data-role"]: g["figure"]["data-mark"] for g in collector.grids}
    assert [marks[f"test {i} attempt {k}"] for i in (1, 2) for k in (1, 2)] == [
        "wrong",
        "right",
        "wrong",
        "wrong",
    ]
    right = [g for g in collector.grids if g["figure"]["data-mark"] == "right"]
    assert len(right) == 1 and "right" in right[0]["figure"]["class"].split()
    assert all(
        g["figure"]["data-mark"] == "" for g in collector.grids if g["figure"]["data-kind"] != "attempt"
    )


def test_unknown_truth_draws_attempts_unmarked(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "eee.json").write_text(json.dumps({"train": TASKS["bbb"]["train"], "test": [{"input": [[3, 3]]}]}))
    (task,) = load_tasks(str(src))
    assert task.test_outputs is None
    submission = {"eee": [{"attempt_1": [[7], [7]], "attempt_2": [[1]]}]}
    out = tmp_path / "eee.html"
    render_task(task, out, submission)
    collector, _ = parse_html(out)
    roles = [g["figure"]["data-role"] for g in collector.grids]
    assert roles == [
        "train 1 input",
        "train 1 output",
        "test 1 input",
        "test 1 attempt 1",
        "test 1 attempt 2",
    ]
    assert all(g["figure"]["data-mark"] == "" for g in collector.grids)
    if _have_matplotlib():
        drawn = render_task(task, tmp_path / "eee.png", submission)
        assert [(d.view.role, d.view.mark) for d in drawn] == [(role, None) for role in roles]


def test_text_is_escaped(tmp_path):
    nasty = '<script>alert("x")</script>&'
    challenges = tmp_path / "odd_challenges.json"
    challenges.write_text(json.dumps({nasty: TASKS["bbb"]}))
    (task,) = load_tasks(str(challenges))
    out = tmp_path / "odd.html"
    render_task(task, out)
    collector, text = parse_html(out)
    assert "<script>" not in text and "script" not in collector.tags
    assert collector.sections[0]["data-task-id"] == nasty  # the parser unescapes it back


def test_bad_inputs_are_bad_input_errors(tasks, tmp_path, folder):
    task = find_task(tasks, "bbb")
    with pytest.raises(BadInputError, match="png or .html"):
        render_task(task, tmp_path / "bbb.jpg")
    with pytest.raises(BadInputError, match="zzz"):
        find_task(tasks, "zzz")
    with pytest.raises(BadInputError, match="zzz"):
        show_task(str(folder), "zzz", tmp_path / "x.html")
    with pytest.raises(BadInputError, match="bbb is not in the submission"):
        render_task(task, tmp_path / "bbb.html", {"aaa": SUBMISSION["aaa"]})
    with pytest.raises(BadInputError, match="attempt_2"):
        render_task(task, tmp_path / "bbb.html", {"bbb": [{"attempt_1": [[1]]}]})
    assert not list(tmp_path.glob("bbb.*"))


def test_missing_matplotlib_is_a_clear_error(tasks, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)  # import now fails
    with pytest.raises(BadInputError, match=r"pip install 'arcsolve\[viz\]'") as info:
        render_task(find_task(tasks, "bbb"), tmp_path / "bbb.png")
    assert info.value.where == "matplotlib"


def test_show_task_reads_the_submission_file(folder, tmp_path):
    path = tmp_path / "submission.json"
    path.write_text(json.dumps(SUBMISSION))
    drawn = show_task(str(folder), "ddd", tmp_path / "ddd.html", path)
    assert [d.view.mark for d in drawn if d.view.kind == "attempt"] == ["right", "wrong"]
    with pytest.raises(BadInputError, match="no such file"):
        show_task(str(folder), "ddd", tmp_path / "ddd.html", tmp_path / "missing.json")


def test_gallery_orders_solved_first(tasks, tmp_path):
    path = tmp_path / "submission.json"
    path.write_text(json.dumps(SUBMISSION))
    out = tmp_path / "gallery.html"
    report = render_gallery(tasks, path, out)
    assert report.score == pytest.approx((0.5 + 0 + 1 + 1) / 4)
    collector, text = parse_html(out)
    order = [(s["data-task-id"], s["data-status"]) for s in collector.sections]
    assert order == [("ccc", "solved"), ("ddd", "solved"), ("aaa", "partly"), ("bbb", "unsolved")]
    assert "0.6250" in text.split('data-task-id="ccc"')[0]  # the summary comes before the tasks
    by_task = [expected_grids(find_task(tasks, task_id), with_attempts=True) for task_id, _ in order]
    expected = [item for grids in by_task for item in grids]
    assert len(collector.grids) == len(expected)
    for found, (role, grid) in zip(collector.grids, expected, strict=True):
        check_grid(found, role, grid)
    with pytest.raises(BadInputError, match=r"\.html"):
        render_gallery(tasks, path, tmp_path / "gallery.png")
    unknown_truth = [Task(t.task_id, t.train_pairs, t.test_inputs, None, t.origin) for t in tasks]
    with pytest.raises(BadInputError, match="test outputs unknown"):
        render_gallery(unknown_truth, path, tmp_path / "other.html")
    assert not (tmp_path / "other.html").exists()


def write_metrics(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(lines))


TRAIN_KEYS = [
    "train/lm_loss",
    "train/q_halt_loss",
    "train/accuracy",
    "train/exact_accuracy",
    "train/q_halt_accuracy",
    "train/steps",
    "train/lr",
]


def metrics_lines() -> list[str]:
    lines = []
    for step in range(1, 21):
        record = {"step": step, **{key: 1.0 / step + i for i, key in enumerate(TRAIN_KEYS)}}
        record["train/tokens_per_s"] = 1000 + step
        lines.append(json.dumps(record) + "\n")
        if step % 10 == 0:
            lines.append(
                json.dumps({"step": step, "eval/exact_accuracy": step / 40, "eval/accuracy": 0.5}) + "\n"
            )
    lines.append('{"step": 21, "train/lm_lo')  # still being written
    return lines


def test_report_html_skips_partial_last_line_and_plots_every_key(tmp_path):
    run = tmp_path / "run"
    write_metrics(run / "metrics.jsonl", metrics_lines())
    out = tmp_path / "report.html"
    summary = render_report(run, out)
    assert summary.records == 22 and summary.skipped_lines == 1 and summary.last_step == 20
    assert summary.panels == {
        "losses": ["train/lm_loss", "train/q_halt_loss"],
        "accuracies": ["eval/exact_accuracy", "train/accuracy", "train/exact_accuracy"],
        "halting": ["train/q_halt_accuracy", "train/steps"],
        "learning rate": ["train/lr"],
        "other": ["train/tokens_per_s"],
    }
    collector, text = parse_html(out)
    points = {g["data-key"]: int(g["data-points"]) for g in collector.series}
    assert points == {
        **dict.fromkeys(TRAIN_KEYS, 20),
        "train/tokens_per_s": 20,
        "eval/exact_accuracy": 2,
    }  # eval/accuracy stays 0.5: a table cell, not a flat line
    assert [(r.step, r.exact, r.token) for r in summary.header.evals] == [(10, 0.25, 0.5), (20, 0.5, 0.5)]
    assert "<td>10</td><td>0.250</td><td>0.500</td>" in text
    assert text.count("<svg") == 5 and "<polyline" in text and "script" not in collector.tags


def test_report_constants_are_a_header_not_curves(tmp_path):
    run = tmp_path / "run"
    header = {"step": 0, "params": 527618, "world_size": 1, "total_steps": 400}
    lines = [json.dumps(header) + "\n"] + [
        json.dumps({"step": s, "train/lm_loss": 2.0 / s, "train/steps": 4.0}) + "\n" for s in (20, 40, 60)
    ]
    lines.append(json.dumps({"step": 60, "eval/exact_accuracy": 0.125}) + "\n")
    write_metrics(run / "metrics.jsonl", lines)
    (run / "config.toml").write_text(
        '[data.arc]\nsource = "arc1:training"\ncanvas = 8\n[model]\nhidden_size = 64\n[train]\nlr = 0.001\n'
    )
    summary = render_report(run, tmp_path / "r.html")
    assert summary.panels == {"losses": ["train/lm_loss"]}
    constants = {"params": 527618, "total_steps": 400, "train/steps": 4.0, "world_size": 1}
    assert summary.header.constants == constants
    assert summary.header.config == (
        "data: source arc1:training, canvas 8",
        "model: hidden_size 64",
        "train: lr 0.001",
    )
    text = (tmp_path / "r.html").read_text()
    assert text.count("<svg") == 1 and "params: 527,618" in text
    assert summary.header.lines()[3:] == [
        "constant: params 527,618, total_steps 400, train/steps 4, world_size 1",
        "    step    exact  token acc",
        "      60    0.125          -",
    ]
    write_metrics(run / "metrics.jsonl", lines[:1])
    with pytest.raises(BadInputError, match="nothing to plot"):  # a PNG of flat lines only says so
        render_report(run, tmp_path / "r.png")


def test_report_png(tmp_path, mpimg):
    run = tmp_path / "run"
    write_metrics(run / "metrics.jsonl", metrics_lines())
    out = tmp_path / "report.png"
    summary = render_report(run, out)
    assert "eval/exact_accuracy" in summary.panels["accuracies"]
    image = mpimg.imread(out)
    assert image.shape[0] > 500 and image.shape[1] > 500


def test_report_resume_duplicates_and_torn_lines(tmp_path):
    path = tmp_path / "run" / "metrics.jsonl"
    lines = [
        '{"step": 1, "train/lm_loss": 5.0}\n',
        '{"step": 2, "train/lm_loss": 4.0}\n',
        '{"step": 3, "train/lm_lo{"step": 2, "train/lm_loss": 3.5}\n',  # killed mid-line, then resumed
        '{"step": 3, "train/lm_loss": NaN, "note": "text", "flag": true}\n',
        '{"no_step": 1}\n',
        '{"step": 4, "train/lm_loss": 3.0}\n',
    ]
    write_metrics(path, lines)
    summary = render_report(path, tmp_path / "r.html")  # a metrics file given directly works too
    assert summary.records == 4 and summary.skipped_lines == 2
    assert summary.panels == {"losses": ["train/lm_loss"]}
    collector, _ = parse_html(tmp_path / "r.html")
    assert [(g["data-key"], g["data-points"]) for g in collector.series] == [("train/lm_loss", "3")]
    write_metrics(path, [*lines, '{"step": 2, "train/lm_loss": 3.5}\n'])  # a resumed run logs step 2 again
    series, records, skipped = read_metrics(path)
    assert (records, skipped) == (5, 2)
    assert series["train/lm_loss"].steps == (1, 2, 4) and series["train/lm_loss"].values == (5.0, 3.5, 3.0)


def test_halting_steps_get_their_own_axis(tmp_path):
    path = tmp_path / "metrics.jsonl"
    write_metrics(path, metrics_lines())
    panels = {p.title: p for p in group_panels(read_metrics(path)[0])}
    halting = panels["halting"]
    assert [s.key for s in halting.series] == ["train/q_halt_accuracy"]
    assert [s.key for s in halting.right] == ["train/steps"]
    assert all(not p.right for title, p in panels.items() if title != "halting")
    only_steps = group_panels({"eval/steps": Series("eval/steps", (1, 2), (9.0, 8.0))})
    assert [(p.title, len(p.series), len(p.right)) for p in only_steps] == [("halting", 1, 0)]
    render_report(path, tmp_path / "r.html")
    assert "train/steps (right axis)" in (tmp_path / "r.html").read_text()


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no such file"), ("", "empty file"), ("\n\n", "empty file"), ('{"step": 1, "x', "no readable")],
)
def test_report_missing_or_empty_metrics(tmp_path, content, message):
    run = tmp_path / "run"
    run.mkdir()
    if content is not None:
        (run / "metrics.jsonl").write_text(content)
    with pytest.raises(BadInputError, match=message) as info:
        render_report(run, tmp_path / "r.html")
    assert info.value.where == str(run / "metrics.jsonl")
    assert not (tmp_path / "r.html").exists()


def test_report_needs_png_or_html(tmp_path):
    write_metrics(tmp_path / "run" / "metrics.jsonl", metrics_lines())
    with pytest.raises(BadInputError, match="png or .html"):
        render_report(tmp_path / "run", tmp_path / "report.svg")


def test_panel_grouping_and_ticks():
    assert panel_of("train/lm_loss") == "losses"
    assert panel_of("eval/q_halt_loss") == "losses"
    assert panel_of("train/q_halt_accuracy") == "halting"
    assert panel_of("eval/steps") == "halting"
    assert panel_of("eval/exact_accuracy") == "accuracies"
    assert panel_of("train/lr") == "learning rate"
    assert panel_of("train/grad_norm") == "other"
    assert nice_ticks(0, 1) == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert nice_ticks(3, 97) == pytest.approx([20, 40, 60, 80])
    assert nice_ticks(0.001, 0.002) == pytest.approx([0.001, 0.0012, 0.0014, 0.0016, 0.0018, 0.002])


def test_long_curves_are_thinned_keeping_spikes_and_ends():
    steps = tuple(range(100_000))
    values = [1.0] * 100_000
    values[51_234] = 50.0  # a loss spike
    values[77_777] = -3.0
    thinned = thin(Series("train/lm_loss", steps, tuple(values)), limit=1000)
    assert len(thinned.steps) <= 1002
    assert list(thinned.steps) == sorted(thinned.steps)
    assert thinned.steps[0] == 0 and thinned.steps[-1] == 99_999
    assert (51_234, 50.0) in zip(thinned.steps, thinned.values, strict=True)
    assert (77_777, -3.0) in zip(thinned.steps, thinned.values, strict=True)
    short = Series("x", (1, 2), (0.5, 0.25))
    assert thin(short) is short and short.sparse
