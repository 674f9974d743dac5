"""The `arcsolve submission` commands (validate, score) and `arcsolve kaggle bundle`: flags in, one
function of `arcsolve/submission/` or `arcsolve/kaggle/` called, a report out. Mounted on the root
command by `arcsolve/cli.py`; errors become one line through `arcsolve/cli_support.py`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from arcsolve.cli_support import errors_as_lines, given_flags, with_default

submission_app = typer.Typer(help="Validate and score Kaggle submission files.", no_args_is_help=True)
kaggle_app = typer.Typer(help="Package a checkpoint for an offline Kaggle run.", no_args_is_help=True)


@submission_app.command("validate")
@errors_as_lines
def submission_validate(
    submission: Annotated[Path, typer.Argument(help="submission.json")],
    tasks: Annotated[str, typer.Option(help="the task SOURCE it answers")],
) -> None:
    """Exit 0 when SUBMISSION is valid for the tasks, else print every problem and exit 2."""
    from arcsolve.data.tasks import load_tasks
    from arcsolve.submission import validate_submission

    task_list = load_tasks(tasks)
    problems = validate_submission(submission, task_list)
    for problem in problems:
        typer.echo(f"arcsolve: error: {submission}: {problem}", err=True)
    if problems:
        raise typer.Exit(2)
    outputs = sum(len(t.test_inputs) for t in task_list)
    typer.echo(f"{submission}: valid for {len(task_list)} task(s), {outputs} test input(s)")


@submission_app.command("score")
@errors_as_lines
def submission_score(
    submission: Annotated[Path, typer.Argument(help="submission.json")],
    tasks: Annotated[str, typer.Option(help="the task SOURCE, with test outputs")],
    verbose: Annotated[bool, typer.Option(help="a per-task table")] = False,
    html: Annotated[Path | None, typer.Option(help="also write a gallery of every task's attempts")] = None,
) -> None:
    """Per-task mean (the official metric) and per-test-output mean."""
    from arcsolve.data.tasks import load_tasks
    from arcsolve.submission import InvalidSubmissionError, format_report, score_submission

    task_list = load_tasks(tasks)
    try:
        result = score_submission(submission, task_list)
    except InvalidSubmissionError as err:
        for problem in err.problems:
            typer.echo(f"arcsolve: error: {submission}: {problem}", err=True)
        raise typer.Exit(2) from None
    typer.echo(format_report(result, verbose=verbose))
    if html is not None:
        from arcsolve.viz import render_gallery

        render_gallery(task_list, submission, html)
        typer.echo(f"gallery: {html}")


@submission_app.command("merge")
@errors_as_lines
def submission_merge(
    submissions: Annotated[list[Path], typer.Argument(help="submission files, highest priority first")],
    tasks: Annotated[str, typer.Option(help="the task SOURCE they answer")],
    out: Annotated[Path, typer.Option(help="the merged submission.json")],
    order: Annotated[
        str, typer.Option(help="attempts: every file's attempt_1 first; files: file by file")
    ] = "attempts",
) -> None:
    """Combine submissions by priority (the search's, the model's, another team's) into one valid file."""
    from arcsolve.data.tasks import load_tasks
    from arcsolve.errors import BadInputError
    from arcsolve.submission.merge import merge_submissions

    if order not in ("attempts", "files"):
        raise BadInputError("--order", f"must be attempts or files, got {order!r}")
    _, report = merge_submissions(submissions, load_tasks(tasks), out, order)  # type: ignore[arg-type]
    for line in report.lines():
        typer.echo(line)
    typer.echo(f"{out}: merged {len(submissions)} submission(s)")


def _bundle_help(dotted: str, text: str) -> str:
    from arcsolve.kaggle.options import BundleOptions

    return with_default(BundleOptions, dotted, text)


@kaggle_app.command("bundle")
@errors_as_lines
def kaggle_bundle(
    checkpoint: Annotated[Path, typer.Option(help="the checkpoint to ship")],
    out: Annotated[Path, typer.Option(help="folder to upload as a Kaggle dataset")],
    competition: Annotated[
        str | None,
        typer.Option(
            help=_bundle_help(
                "competition",
                "arc-prize-YYYY to answer; none: the only attached one, else the newest by year",
            )
        ),
    ] = None,
    tta: Annotated[
        int | None, typer.Option(help=_bundle_help("tta", "views per test input on Kaggle"))
    ] = None,
    time_budget: Annotated[
        float | None,
        typer.Option(
            help=_bundle_help("time_budget", "seconds run.py may take on the scoring rerun (0 = no limit)")
        ),
    ] = None,
    commit_tasks: Annotated[
        int | None,
        typer.Option(help=_bundle_help("commit_tasks", "evaluation tasks a commit run answers; 0 = all")),
    ] = None,
    adapt_steps: Annotated[
        int | None,
        typer.Option(
            help=_bundle_help(
                "hidden.adapt_steps", "adaptation steps at most (the budget sizes them); 0 = off"
            )
        ),
    ] = None,
    adapt_aug: Annotated[
        int | None, typer.Option(help=_bundle_help("hidden.adapt_aug", "augmented versions per adapted task"))
    ] = None,
    adapt_model: Annotated[
        str | None,
        typer.Option(help=_bundle_help("hidden.adapt_model", "weights adapted too: none, last or all")),
    ] = None,
    forward_dtype: Annotated[
        str | None, typer.Option(help="default: bfloat16 / float16 / float32 by device")
    ] = None,
    batch_size: Annotated[int | None, typer.Option(help="views per forward pass (predict's default)")] = None,
    search: Annotated[
        bool | None, typer.Option(help=_bundle_help("hidden.search", "program search on the CPU cores too"))
    ] = None,
    predict_arg: Annotated[
        list[str] | None, typer.Option(help="one more predict flag or value, e.g. --predict-arg=--adapt-lr")
    ] = None,
    python_version: Annotated[
        list[str] | None,
        typer.Option(help=_bundle_help("python_versions", "Python of the Kaggle image, repeatable")),
    ] = None,
    wheels: Annotated[
        Path | None, typer.Option(help="take the dependency wheels from this folder, not the package index")
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="replace an existing bundle folder")] = False,
) -> None:
    """Write a folder with the wheels, the checkpoint and run.py for an offline Kaggle run.

    Every default is BundleOptions' (arcsolve/kaggle/options.py)."""
    from arcsolve.kaggle.bundle import build_bundle
    from arcsolve.kaggle.options import BundleOptions, HiddenTaskOptions

    hidden = {"adapt_steps": adapt_steps, "adapt_aug": adapt_aug, "adapt_model": adapt_model}
    hidden |= {"forward_dtype": forward_dtype, "batch_size": batch_size, "search": search}
    bundle = {"competition": competition, "tta": tta, "time_budget": time_budget}
    bundle |= {"commit_tasks": commit_tasks}
    bundle |= {"python_versions": tuple(python_version) if python_version else None, "wheels_dir": wheels}
    options = BundleOptions(
        **given_flags(bundle),
        hidden=HiddenTaskOptions(**given_flags(hidden)),
        extra_args=tuple(predict_arg or ()),
    )
    summary = build_bundle(checkpoint, out, options, overwrite=overwrite)
    for line in summary.lines():
        typer.echo(line)
