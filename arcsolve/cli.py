"""The `arcsolve` command line: parses flags, builds a config, calls one function per command.

No logic lives here. Every command body runs inside `errors_as_lines`, which turns an
ArcsolveError into one `arcsolve: error: <where>: <what>` line on stderr and its exit code. Usage
errors found while parsing (a missing argument, an unknown option, a value that is not a number)
never reach a command body; `OneLineUsageErrors` prints those as one line too, exit code 2
(both in `arcsolve/cli_support.py`).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from arcsolve.cli_data import data_app, import_app
from arcsolve.cli_search import search
from arcsolve.cli_submission import kaggle_app, submission_app
from arcsolve.cli_support import (
    OneLineUsageErrors,
    QuietFlag,
    errors_as_lines,
    given_flags,
    run_app,
    with_default,
)
from arcsolve.errors import BadInputError
from arcsolve.predict.config import PredictConfig

app = typer.Typer(
    name="arcsolve",
    help="Tiny Recursive Model (TRM) toolkit for the ARC Prize: data, training, TTA voting, submissions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=OneLineUsageErrors,
)
app.add_typer(data_app, name="data")
app.add_typer(import_app, name="import")
app.add_typer(submission_app, name="submission")
app.add_typer(kaggle_app, name="kaggle")
app.command("search")(search)


@app.command()
@errors_as_lines
def quickstart(
    out: Annotated[Path, typer.Option(help="where everything goes")] = Path("runs/quickstart"),
    quiet: QuietFlag = False,
) -> None:
    """The whole lifecycle on CPU in minutes on bundled data: data, train, predict, submission, score."""
    from arcsolve.quickstart import run_quickstart

    run_quickstart(out, echo=typer.echo, progress=not quiet)


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
    quiet: QuietFlag = False,
) -> None:
    """Train a TRM. Works under `torchrun` (gloo on CPU, nccl on GPU)."""
    from arcsolve.train.config import load_run_config
    from arcsolve.train.loop import run_train

    cfg = load_run_config(config, set_ or [])
    result = run_train(cfg, out, max_steps=max_steps, resume=resume, progress=not quiet)
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun, one report is enough
        return
    shown = ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in result.items())
    typer.echo(f"{out}: {shown}")


# A predict flag left out is None, so PredictConfig's default applies (see `given_flags`).
MaybeInt = int | None
MaybeFloat = float | None
MaybeStr = str | None
MaybeBool = bool | None


def _flag(dotted: str, text: str) -> Any:
    """A predict flag whose help ends in PredictConfig's default (None = not given, the default applies)."""
    return typer.Option(help=with_default(PredictConfig, dotted, text))


@app.command()
@errors_as_lines
def predict(
    checkpoint: Annotated[Path, typer.Argument(help="a checkpoint .pt or a run directory")],
    tasks: Annotated[str, typer.Option(help="task SOURCE to answer")],
    out: Annotated[Path, typer.Option(help="submission.json to write")],
    set_: Annotated[list[str] | None, typer.Option("--set", help="any setting, e.g. adapt.steps=500")] = None,
    tta: Annotated[MaybeInt, _flag("tta", "augmented views per test input")] = None,
    seed: Annotated[MaybeInt, _flag("seed", "random seed for the views")] = None,
    batch_size: Annotated[MaybeInt, _flag("batch_size", "views per forward pass")] = None,
    attempts: Annotated[MaybeInt, _flag("attempts", "K of the pass@K report (2 submitted)")] = None,
    device: Annotated[MaybeStr, _flag("device", "auto, cpu or cuda")] = None,
    time_budget: Annotated[MaybeFloat, _flag("time_budget", "seconds in all; 0 = no limit")] = None,
    predictions_path: Annotated[
        Path | None, typer.Option("--predictions", help="vote tallies (default: predictions.jsonl by --out)")
    ] = None,
    forward_dtype: Annotated[
        MaybeStr, _flag("forward_dtype", "float32, bfloat16, ...; none = checkpoint's")
    ] = None,
    adapt_steps: Annotated[MaybeInt, _flag("adapt.steps", "adaptation steps for unknown tasks")] = None,
    adapt_lr: Annotated[MaybeFloat, _flag("adapt.lr", "sign-SGD rate of new task embeddings")] = None,
    adapt_aug: Annotated[MaybeInt, _flag("adapt.aug", "versions per adapted task (+ identity)")] = None,
    adapt_model: Annotated[MaybeStr, _flag("adapt.model", "weights adapted too: none, last, all")] = None,
    adapt_model_lr: Annotated[MaybeFloat, _flag("adapt.model_lr", "their rate; 0 = adapt-lr / 10")] = None,
    adapt_batch_size: Annotated[MaybeInt, _flag("adapt.batch_size", "0 = --batch-size")] = None,
    adapt_holdout: Annotated[MaybeBool, _flag("adapt.holdout", "score a held-out train pair")] = None,
    skip_bad_tasks: Annotated[MaybeBool, _flag("skip_bad_tasks", "leave invalid tasks out")] = None,
    rank: Annotated[MaybeStr, _flag("rank", "candidate order: votes, poe or hybrid")] = None,
    poe_views: Annotated[MaybeInt, _flag("poe_views", "views per test input kept for poe")] = None,
    poe_candidates: Annotated[MaybeInt, _flag("poe_candidates", "top voted grids poe scores")] = None,
    search: Annotated[MaybeBool, _flag("search", "program search on CPU workers, merged in")] = None,
    quiet: QuietFlag = False,
) -> None:
    """Test-time augmentation voting, pass@2, and always a complete valid submission.

    Every default is PredictConfig's (arcsolve/predict/config.py). --set key=value reaches any
    of its fields (applied after the flags).

    With --adapt-steps, tasks the checkpoint was not trained on get task embeddings of their own,
    trained on their train pairs first (test-time adaptation). With --search, the program search
    runs on CPU workers meanwhile and its answers are merged in (search_options.* via --set).
    """
    from arcsolve.config import apply_overrides, from_dict
    from arcsolve.predict.budget import process_age
    from arcsolve.predict.run import run_predict

    started = time.monotonic() - process_age()  # the budget covers the imports too
    flags = {
        **{"checkpoint": str(checkpoint), "tasks": tasks, "out": str(out), "tta": tta, "seed": seed},
        **{"batch_size": batch_size, "attempts": attempts, "device": device, "time_budget": time_budget},
        **{"predictions_path": None if predictions_path is None else str(predictions_path)},
        **{"forward_dtype": forward_dtype, "skip_bad_tasks": skip_bad_tasks, "rank": rank},
        **{"poe_views": poe_views, "poe_candidates": poe_candidates, "adapt_steps": adapt_steps},
        **{"adapt_lr": adapt_lr, "adapt_aug": adapt_aug, "adapt_model": adapt_model},
        **{"adapt_model_lr": adapt_model_lr, "adapt_batch_size": adapt_batch_size},
        **{"adapt_holdout": adapt_holdout, "search": search},
    }  # None = not given: PredictConfig's default applies
    fields = {"progress": not quiet, **given_flags(flags, sections=("adapt",))}
    fields = apply_overrides(fields, set_ or [])
    summary = run_predict(from_dict(PredictConfig, fields, where="predict"), started)
    for line in summary.lines():
        typer.echo(line)


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
    quiet: QuietFlag = False,
) -> None:
    """Generate, train, evaluate and print exact accuracy on a sanity benchmark."""
    from arcsolve.bench.runner import run_bench

    run_bench(kind, config, out, set_ or [], max_steps, progress=not quiet, echo=typer.echo)


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
    for line in summary.header.lines():
        typer.echo(line)


@app.command()
@errors_as_lines
def doctor() -> None:
    """What the toolkit will use here: Python, torch, GPUs, numba, threads, caches, bundled data."""
    from arcsolve.doctor import run_checks
    from arcsolve.errors import RunFailure

    checks = run_checks()
    for check in checks:
        typer.echo(check.line())
    problems = [f"{c.label}: {c.problem}" for c in checks if c.problem]
    if problems:
        raise RunFailure("doctor", "; ".join(problems))


def main() -> None:
    """Console entry point (`arcsolve`, `python -m arcsolve`)."""
    run_app(app)


__all__ = ["app", "main", "BadInputError"]
