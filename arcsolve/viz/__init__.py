"""Pictures: a task and its attempts (PNG or HTML), training curves, and a submission gallery.

PNG output needs matplotlib, the optional `arcsolve[viz]` extra; HTML output needs nothing beyond
the standard library and is one self-contained file (inline CSS/SVG, no scripts, no network).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from arcsolve.data.tasks import Task, load_tasks
from arcsolve.errors import BadInputError
from arcsolve.submission.validate import load_submission
from arcsolve.viz.curves import ReportSummary, render_report
from arcsolve.viz.html import render_gallery, render_task_html
from arcsolve.viz.palette import ARC_PALETTE, DrawnGrid, GridView, task_entries, task_rows
from arcsolve.viz.png import render_task_png

__all__ = [
    "ARC_PALETTE",
    "DrawnGrid",
    "GridView",
    "ReportSummary",
    "find_task",
    "render_gallery",
    "render_report",
    "render_task",
    "show_task",
]


def render_task(task: Task, out: Path, submission: Mapping[str, Any] | None = None) -> list[DrawnGrid]:
    """Draw `task` (train pairs, test inputs, true outputs when known) into `out`, a .png or .html.

    With a decoded Kaggle `submission`, attempt_1 and attempt_2 of every test input are drawn too,
    marked right or wrong when the truth is known. Returns the grids drawn in order; for a PNG each
    carries its pixel box. The file is written atomically.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".png", ".html"):
        raise BadInputError(str(out), "unknown picture format: use a .png or .html file name")
    rows = task_rows(task, task_entries(task, submission))
    if suffix == ".png":
        return render_task_png(f"ARC task {task.task_id}", rows, out)
    return render_task_html(task, rows, out)


def find_task(tasks: Sequence[Task], task_id: str, source: str = "the task source") -> Task:
    """The task with `task_id`; BadInputError naming it when it is not there."""
    for task in tasks:
        if task.task_id == task_id:
            return task
    raise BadInputError(f"task {task_id}", f"not in {source}")


def show_task(
    source: str, task_id: str, out: Path, submission_path: str | Path | None = None
) -> list[DrawnGrid]:
    """`arcsolve show`: load SOURCE, pick TASK_ID, read the submission if given, and draw."""
    task = find_task(load_tasks(source), task_id, source)
    submission = None
    if submission_path is not None:
        submission, problems = load_submission(submission_path)
        if problems:
            raise BadInputError("submission", problems[0])
    return render_task(task, out, submission)
