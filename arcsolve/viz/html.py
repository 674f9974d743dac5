"""Self-contained HTML pictures: one page, inline CSS, no scripts, no network.

A grid is a CSS grid of `<i class="cK">` cells (K = colour 0..9) whose 1 px gaps show the grid lines.
Every grid sits in a `<figure>` whose caption gives its role, size (h x w) and, for an attempt, a
right/wrong mark; the figure carries the same facts as data attributes. All text is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path

import orjson

from arcsolve.data.tasks import Task
from arcsolve.errors import BadInputError
from arcsolve.io import atomic_write_text
from arcsolve.submission.score import ScoreReport, TaskScore, score_submission
from arcsolve.submission.validate import require_valid_submission
from arcsolve.viz.palette import (
    ARC_PALETTE,
    GRID_LINE,
    MARK_COLOURS,
    RIGHT,
    TRAIN_INPUT,
    WRONG,
    DrawnGrid,
    GridRow,
    GridView,
    task_entries,
    task_rows,
)

CELL_MIN, CELL_MAX = 8, 28  # CSS pixels per cell

_MARK_TEXT = {RIGHT: "\u2713 right", WRONG: "\u2717 wrong"}

CSS = "\n".join(
    [
        "body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:16px;"
        "color:#222;background:#fafafa}",
        "h1{font-size:20px;margin:0 0 12px}h2{font-size:16px;margin:0 0 8px}",
        ".program{font-size:13px;font-weight:normal;margin:4px 0 0}.program code{background:#eef;padding:1px 4px}",
        ".task{background:#fff;border:1px solid #ddd;border-radius:6px;padding:12px;margin:0 0 16px}",
        ".row{display:flex;flex-wrap:wrap;align-items:flex-start;gap:16px;margin:0 0 12px}",
        ".arrow{align-self:center;font-size:22px;color:#666}",
        "figure{margin:0;padding:4px;border:3px solid transparent;border-radius:4px}",
        "figcaption{font-size:12px;line-height:1.3;margin:0 0 4px;white-space:nowrap}",
        ".size{color:#666}.mark{font-weight:bold}",
        f"figure.right{{border-color:{MARK_COLOURS[RIGHT]}}}figure.wrong{{border-color:{MARK_COLOURS[WRONG]}}}",
        f".right .mark{{color:{MARK_COLOURS[RIGHT]}}}.wrong .mark{{color:{MARK_COLOURS[WRONG]}}}",
        f".grid{{display:grid;gap:1px;background:{GRID_LINE};border:1px solid {GRID_LINE};width:max-content}}",
        ".grid i{display:block}",
        *(f".c{k}{{background:{colour}}}" for k, colour in enumerate(ARC_PALETTE)),
        "details{margin:0 0 8px}summary{cursor:pointer;font-size:13px;color:#444;margin:0 0 8px}",
        "table{border-collapse:collapse;font-size:13px}td,th{padding:2px 8px;text-align:left}",
        ".summary{background:#fff;border:1px solid #ddd;border-radius:6px;padding:12px;margin:0 0 16px}",
        ".solved{color:#1E8E3E}.partly{color:#B06000}.unsolved{color:#D93025}",
        "a{color:#0b57d0;text-decoration:none}",
    ]
)


def cell_pixels(rows: Sequence[GridRow]) -> int:
    side = max(max(view.grid.shape) for row in rows for view in row.views)
    return max(CELL_MIN, min(CELL_MAX, 240 // side))


def grid_html(view: GridView, cell: int) -> str:
    """One `<figure>` holding one `.grid` element of h*w cells."""
    h, w = view.grid.shape
    mark = view.mark or ""
    cells = "".join(f'<i class="c{int(v)}"></i>' for v in view.grid.ravel())
    mark_html = f' <span class="mark">{_MARK_TEXT[mark]}</span>' if mark else ""
    return (
        f'<figure class="{" ".join(filter(None, (view.kind, mark)))}" data-kind="{view.kind}"'
        f' data-role="{escape(view.role)}"'
        f' data-mark="{mark}">'
        f'<figcaption>{escape(view.role)}<br><span class="size">{h}x{w}</span>{mark_html}</figcaption>'
        f'<div class="grid" data-rows="{h}" data-cols="{w}"'
        f' style="grid-template-columns:repeat({w},{cell}px);grid-auto-rows:{cell}px">{cells}</div>'
        "</figure>"
    )


def row_html(row: GridRow, cell: int) -> str:
    parts = []
    for j, view in enumerate(row.views):
        parts.append(grid_html(view, cell))
        if j == 0 and len(row.views) > 1:
            parts.append('<span class="arrow">\u2192</span>')
    return f'<div class="row" data-row="{escape(row.label)}">{"".join(parts)}</div>'


def task_section(
    task: Task, rows: Sequence[GridRow], heading: str = "", fold_train: bool = False, status: str = ""
) -> str:
    """A `<section>` for one task; with `fold_train`, the train pairs sit in a closed `<details>`.

    `rows` come from `task_rows`: train rows first, then test rows, which is the page order."""
    cell = cell_pixels(rows)
    train = [row_html(r, cell) for r in rows if r.views[0].kind == TRAIN_INPUT]
    test = [row_html(r, cell) for r in rows if r.views[0].kind != TRAIN_INPUT]
    train_html = "".join(train)
    if fold_train:
        train_html = f"<details><summary>train pairs ({len(train)})</summary>{train_html}</details>"
    task_id = escape(task.task_id)
    return (
        f'<section class="task" id="task-{task_id}" data-task-id="{task_id}" data-status="{status}">'
        f"<h2>{task_id}{heading}</h2>{train_html}{''.join(test)}</section>"
    )


def page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def render_task_html(task: Task, rows: Sequence[GridRow], out: Path) -> list[DrawnGrid]:
    """Write the task page to `out` (atomically); return the grids drawn, in page order."""
    title = f"ARC task {task.task_id}"
    body = f"<h1>{escape(title)}</h1>{task_section(task, rows)}"
    atomic_write_text(out, page(title, body))
    return [DrawnGrid(view, None) for row in rows for view in row.views]


def _status(score: float) -> str:
    if score >= 1.0:
        return "solved"
    return "partly" if score > 0 else "unsolved"


_STATUS_ORDER = {"solved": 0, "partly": 1, "unsolved": 2}
_STATUS_TEXT = {"solved": "solved", "partly": "partly solved", "unsolved": "unsolved"}


def render_gallery(
    tasks: Sequence[Task],
    submission_path: str | Path,
    out_html: Path,
    programs: Mapping[str, str] | None = None,
) -> ScoreReport:
    """An HTML page of every task with its attempts next to the truth; return the score report.

    Tasks are ordered solved (score 1), partly solved, unsolved, each by task id, under a summary
    of the scores. The submission must be valid for `tasks` and their test outputs must be known.
    `programs` (task id -> program text, see `programs_beside`) are shown under their task's title.
    """
    programs = programs if programs is not None else programs_beside(submission_path)
    out_html = Path(out_html)
    if out_html.suffix.lower() != ".html":
        raise BadInputError(str(out_html), "the gallery is HTML: use a .html file name")
    submission = require_valid_submission(submission_path, tasks)
    report = score_submission(submission, tasks)
    by_id = {task.task_id: task for task in tasks}
    scores = sorted(report.tasks, key=lambda t: (_STATUS_ORDER[_status(t.score)], t.task_id))
    sections = []
    for task_score in scores:
        task = by_id[task_score.task_id]
        status = _status(task_score.score)
        rows = task_rows(task, task_entries(task, submission))
        heading = (
            f' <span class="{status}">{_STATUS_TEXT[status]}: '
            f"{task_score.n_solved}/{task_score.n_outputs} test outputs</span>"
        )
        program = programs.get(task.task_id)
        if program:
            heading += f'<div class="program">program: <code>{escape(program)}</code></div>'
        sections.append(task_section(task, rows, heading, fold_train=True, status=status))
    title = f"ARC submission gallery: {Path(submission_path).name}"
    body = f"<h1>{escape(title)}</h1>{_summary_html(report, scores)}{''.join(sections)}"
    atomic_write_text(out_html, page(title, body))
    return report


def _summary_html(report: ScoreReport, ordered: Sequence[TaskScore]) -> str:
    counts = {status: 0 for status in _STATUS_ORDER}
    for task_score in ordered:
        counts[_status(task_score.score)] += 1
    task_total = sum(t.score for t in report.tasks)
    lines = [
        f"<tr><th>score (mean over tasks)</th><td>{report.score:.4f}</td>"
        f"<td>{task_total:g} / {len(report.tasks)} tasks</td></tr>",
        f"<tr><th>per-test-output mean</th><td>{report.per_output:.4f}</td>"
        f"<td>{report.n_solved} / {report.n_outputs} test outputs</td></tr>",
        *(
            f'<tr><th class="{status}">{_STATUS_TEXT[status]}</th><td>{counts[status]}</td><td></td></tr>'
            for status in _STATUS_ORDER
        ),
    ]
    links = " ".join(
        f'<a class="{_status(t.score)}" href="#task-{escape(t.task_id)}">{escape(t.task_id)}</a>'
        for t in ordered
    )
    return (
        f'<div class="summary" id="summary" data-score="{report.score:.6f}">'
        f"<table>{''.join(lines)}</table><p>{links}</p></div>"
    )


def programs_beside(submission_path: str | Path) -> dict[str, str]:
    """Task id -> the best program's text, from the `search.jsonl` (arcsolve search) or the
    `predictions.jsonl` (predict --search) beside a submission; {} when neither has programs."""
    folder = Path(submission_path).parent
    programs: dict[str, str] = {}
    for line in _lines(folder / "search.jsonl"):
        if line.get("programs"):
            programs[line["task_id"]] = line["programs"][0]["text"]
    for line in _lines(folder / "predictions.jsonl"):
        first = (line.get("candidates") or [{}])[0]
        if first.get("program") and line.get("test_index") == 0:
            programs.setdefault(line["task_id"], first["program"])
    return programs


def _lines(path: Path) -> list[dict]:
    try:
        return [orjson.loads(x) for x in path.read_bytes().splitlines() if x.strip()]
    except (OSError, orjson.JSONDecodeError):
        return []  # pictures never fail for want of a log
