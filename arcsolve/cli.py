"""The `arcsolve` command line: parses flags, builds a config, calls one function per command.

No logic lives here. Every command body runs inside `errors_as_lines`, which turns an
ArcsolveError into one `arcsolve: error: <where>: <what>` line on stderr and its exit code. Usage
errors found while parsing (a missing argument, an unknown option, a value that is not a number)
never reach a command body; `OneLineUsageErrors` prints those as one line too, exit code 2
(both in `arcsolve/cli_support.py`).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from arcsolve.cli_data import data_app, import_app
from arcsolve.cli_support import OneLineUsageErrors, errors_as_lines, run_app
from arcsolve.errors import BadInputError

app = typer.Typer(
    name="arcsolve",
    help="Tiny Recursive Model (TRM) toolkit for the ARC Prize: data, training, TTA voting, submissions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=OneLineUsageErrors,
)
submission_app = typer.Typer(help="Validate and score Kaggle submission files.", no_args_is_help=True)
kaggle_app = typer.Typer(help="Package a checkpoint for an offline Kaggle run.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(import_app, name="import")
app.add_typer(submission_app, name="submission")
app.add_typer(kaggle_app, name="kaggle")


@app.command()
@errors_as_lines
def quickstart(
    out: Annotated[Path, typer.Option(help="where everything goes")] = Path("runs/quickstart"),
) -> None:
    """The whole lifecycle on CPU in minutes on bundled data: data, train, predict, submission, score."""
    from arcsolve.quickstart import run_quickstart

    run_quickstart(out, echo=typer.echo)


@app.command()
@errors_as_lines
def info(
    config: Annotated[Path, typer.Argument(help="a training config TOML")],
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="override, e.g. model.hidden_size=128")
    ] = None,
    world_size: Annotated[int, typer.Option(help="devices the global batch is split over")] = 1,
    gpu: Annotated[str, typer.Option(help="GPU of the projected wall time: H100, A100, ...")] = "H100",
    mfu: Annotated[float, typer.Option(help="assumed fraction of the GPU's bf16 peak")] = 0.4,
    split: Annotated[str, typer.Option(help="GROUPS,PUZZLES,EXAMPLES[,TEST_ROWS] of a train split")] = "",
) -> None:
    """Parameters, FLOPs, memory, optimizer steps, evaluations and projected wall time for CONFIG.

    The train split's size comes from the dataset (built or cached), else it is estimated from the
    recipe; --split gives it outright (e.g. of a build you do not have here)."""
    from arcsolve.train.config import load_run_config
    from arcsolve.train.info import info_lines

    for line in info_lines(load_run_config(config, set_ or []), world_size, gpu, mfu, split):
        typer.echo(line)


@app.command()
@errors_as_lines
def train(
    config: Annotated[Path, typer.Argument(help="a training config TOML")],
    out: Annotated[Path, typer.Option(help="run directory")],
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="override, e.g. model.hidden_size=128")
    ] = None,
    max_steps: Annotated[int | None, typer.Option(help="stop after this many steps")] = None,
    resume: Annotated[bool, typer.Option(help="continue from the run's latest checkpoint")] = False,
) -> None:
    """Train a TRM. Works under `torchrun` (gloo on CPU, nccl on GPU)."""
    from arcsolve.train.config import load_run_config
    from arcsolve.train.loop import run_train

    cfg = load_run_config(config, set_ or [])
    result = run_train(cfg, out, max_steps=max_steps, resume=resume)
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun, one report is enough
        return
    shown = ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in result.items())
    typer.echo(f"{out}: {shown}")


@app.command()
@errors_as_lines
def predict(
    checkpoint: Annotated[Path, typer.Argument(help="a checkpoint .pt or a run directory")],
    tasks: Annotated[str, typer.Option(help="task SOURCE to answer")],
    out: Annotated[Path, typer.Option(help="submission.json to write")],
    tta: Annotated[int, typer.Option(help="augmented views per test input")] = 8,
    seed: Annotated[int, typer.Option(help="random seed for the views")] = 0,
    batch_size: Annotated[int, typer.Option(help="views per forward pass")] = 64,
    attempts: Annotated[int, typer.Option(help="K of the pass@K report (the submission holds 2)")] = 2,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda")] = "auto",
    time_budget: Annotated[float, typer.Option(help="seconds for the whole run; 0 = no limit")] = 0.0,
    predictions: Annotated[
        Path | None, typer.Option(help="vote tallies (default: predictions.jsonl beside --out)")
    ] = None,
    forward_dtype: Annotated[
        str | None,
        typer.Option(help="auto, float32, bfloat16 or float16 (no-bf16 GPUs); default: the checkpoint's"),
    ] = None,
    adapt_steps: Annotated[
        int, typer.Option(help="test-time adaptation steps for tasks the checkpoint does not know; 0 = off")
    ] = 0,
    adapt_lr: Annotated[float, typer.Option(help="sign-SGD rate of the new task embeddings")] = 1e-2,
    adapt_aug: Annotated[int, typer.Option(help="augmented versions per adapted task (+ identity)")] = 8,
    adapt_model: Annotated[
        str, typer.Option(help="weights adapted too: none, last (last block + heads) or all")
    ] = "none",
    adapt_model_lr: Annotated[float, typer.Option(help="rate of those weights; 0 = adapt-lr / 10")] = 0.0,
    adapt_batch_size: Annotated[int, typer.Option(help="examples per step; 0 = --batch-size")] = 0,
    adapt_holdout: Annotated[
        bool, typer.Option(help="hold out each task's last train pair and score it before/after adapting")
    ] = False,
    skip_bad_tasks: Annotated[
        bool, typer.Option(help="leave tasks that fail validation out (listed in predict_summary.json)")
    ] = False,
    rank: Annotated[
        str, typer.Option(help="candidate order: votes, poe (summed log-probability over views) or hybrid")
    ] = "votes",
    poe_views: Annotated[int, typer.Option(help="views per test input kept for --rank poe/hybrid")] = 32,
    poe_candidates: Annotated[int, typer.Option(help="top voted candidates scored by poe/hybrid")] = 10,
) -> None:
    """Test-time augmentation voting, pass@2, and always a complete valid submission.

    With --adapt-steps, tasks the checkpoint was not trained on get task embeddings of their own,
    trained on their train pairs first (test-time adaptation).
    """
    from arcsolve.config import from_dict
    from arcsolve.predict.budget import process_age
    from arcsolve.predict.config import PredictConfig
    from arcsolve.predict.run import run_predict

    started = time.monotonic() - process_age()  # the budget covers the imports too
    fields = {
        "checkpoint": str(checkpoint),
        "tasks": tasks,
        "out": str(out),
        "tta": tta,
        "seed": seed,
        "batch_size": batch_size,
        "attempts": attempts,
        "device": device,
        "time_budget": time_budget,
        "predictions_path": None if predictions is None else str(predictions),
        "progress": sys.stderr.isatty(),
        "forward_dtype": forward_dtype,
        "skip_bad_tasks": skip_bad_tasks,
        "rank": rank,
        "poe_views": poe_views,
        "poe_candidates": poe_candidates,
        "adapt": {
            "steps": adapt_steps,
            "lr": adapt_lr,
            "aug": adapt_aug,
            "model": adapt_model,
            "model_lr": adapt_model_lr,
            "batch_size": adapt_batch_size,
            "holdout": adapt_holdout,
        },
    }
    summary = run_predict(from_dict(PredictConfig, fields, where="predict"), started)
    for line in summary.lines():
        typer.echo(line)


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


@app.command()
@errors_as_lines
def bench(
    kind: Annotated[str, typer.Argument(help="sudoku or maze")],
    config: Annotated[
        Path | None, typer.Option(help="a bench config TOML (default configs/<kind>-cpu.toml)")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="run directory (default runs/bench-<kind>-<time>)")] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="override, e.g. train.max_steps=100")
    ] = None,
    max_steps: Annotated[int | None, typer.Option(help="stop training after this many steps")] = None,
) -> None:
    """Generate, train, evaluate and print exact accuracy on a sanity benchmark."""
    from arcsolve.bench.runner import run_bench

    run_bench(kind, config, out, set_ or [], max_steps, progress=sys.stderr.isatty(), echo=typer.echo)


@app.command()
@errors_as_lines
def show(
    source: Annotated[str, typer.Argument(help="task SOURCE")],
    task_id: Annotated[str, typer.Argument(help="the task to draw")],
    out: Annotated[Path, typer.Option(help="FILE.png or FILE.html")],
    submission: Annotated[Path | None, typer.Option(help="draw these attempts too")] = None,
) -> None:
    """Pictures of a task and, with --submission, its attempts marked right or wrong."""
    from arcsolve.viz import show_task

    drawn = show_task(source, task_id, out, submission)
    typer.echo(f"{out}: {len(drawn)} grid(s) of task {task_id}")


@app.command()
@errors_as_lines
def report(
    run_dir: Annotated[Path, typer.Argument(help="a run directory with metrics.jsonl")],
    out: Annotated[Path, typer.Option(help="FILE.png or FILE.html")],
) -> None:
    """Training curves from a run's metrics.jsonl."""
    from arcsolve.viz import render_report

    summary = render_report(run_dir, out)
    typer.echo(f"{out}: {len(summary.panels)} panel(s) up to step {summary.last_step}")


@kaggle_app.command("bundle")
@errors_as_lines
def kaggle_bundle(
    checkpoint: Annotated[Path, typer.Option(help="the checkpoint to ship")],
    out: Annotated[Path, typer.Option(help="folder to upload as a Kaggle dataset")],
    competition: Annotated[str, typer.Option(help="arc-prize-2025 or arc-prize-2024")] = "arc-prize-2025",
    tta: Annotated[int, typer.Option(help="views per test input on Kaggle")] = 32,
    time_budget: Annotated[
        float, typer.Option(help="seconds run.py may take on the scoring rerun (0 = no limit)")
    ] = 39600.0,
    commit_tasks: Annotated[int, typer.Option(help="evaluation tasks a commit run answers; 0 = all")] = 20,
    adapt_steps: Annotated[
        int, typer.Option(help="adaptation steps at most (the budget sizes them); 0 = off")
    ] = 100_000,
    adapt_aug: Annotated[int, typer.Option(help="augmented versions per adapted task")] = 8,
    adapt_model: Annotated[str, typer.Option(help="weights adapted too: none, last or all")] = "all",
    forward_dtype: Annotated[
        str | None, typer.Option(help="default: bfloat16 / float16 / float32 by device")
    ] = None,
    batch_size: Annotated[int | None, typer.Option(help="views per forward pass (predict's default)")] = None,
    predict_arg: Annotated[
        list[str] | None, typer.Option(help="one more predict flag or value, e.g. --predict-arg=--adapt-lr")
    ] = None,
    python_version: Annotated[
        list[str] | None, typer.Option(help="Python of the Kaggle image, repeatable (default 3.11 and 3.12)")
    ] = None,
    wheels: Annotated[
        Path | None, typer.Option(help="take the dependency wheels from this folder, not the package index")
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="replace an existing bundle folder")] = False,
) -> None:
    """Write a folder with the wheels, the checkpoint and run.py for an offline Kaggle run."""
    from arcsolve.kaggle import BundleOptions, HiddenTaskOptions, build_bundle

    hidden = HiddenTaskOptions(adapt_steps, adapt_aug, adapt_model, None, forward_dtype, batch_size)
    options = BundleOptions(
        tta=tta,
        time_budget=time_budget,
        competition=competition,
        commit_tasks=commit_tasks,
        hidden=hidden,
        extra_args=tuple(predict_arg or ()),
        wheels_dir=wheels,
        **({"python_versions": tuple(python_version)} if python_version else {}),
    )
    summary = build_bundle(checkpoint, out, options, overwrite=overwrite)
    for line in summary.lines():
        typer.echo(line)


def main() -> None:
    """Console entry point (`arcsolve`, `python -m arcsolve`)."""
    run_app(app)


__all__ = ["app", "main", "BadInputError"]
