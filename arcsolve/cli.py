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

from arcsolve.cli_support import OneLineUsageErrors, UsageError, errors_as_lines, run_app
from arcsolve.errors import BadInputError

app = typer.Typer(
    name="arcsolve",
    help="Tiny Recursive Model (TRM) toolkit for the ARC Prize: data, training, TTA voting, submissions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=OneLineUsageErrors,
)
data_app = typer.Typer(help="Load, validate and build datasets.", no_args_is_help=True)
build_app = typer.Typer(help="Build a dataset directory (ARC, sudoku or maze).", no_args_is_help=True)
submission_app = typer.Typer(help="Validate and score Kaggle submission files.", no_args_is_help=True)
kaggle_app = typer.Typer(help="Package a checkpoint for an offline Kaggle run.", no_args_is_help=True)
data_app.add_typer(build_app, name="build")
app.add_typer(data_app, name="data")
app.add_typer(submission_app, name="submission")
app.add_typer(kaggle_app, name="kaggle")


@data_app.command("validate")
@errors_as_lines
def data_validate(
    source: Annotated[
        str,
        typer.Argument(
            help="arc1:training, a folder of task JSONs, or a *_challenges.json; join with commas"
        ),
    ],
) -> None:
    """Check every task of SOURCE: exit 0 when all are valid, else one line per bad task and exit 2."""
    from arcsolve.data.tasks import scan_source

    tasks, problems = scan_source(source)
    for problem in problems:
        typer.echo(problem.one_line(), err=True)
    pairs = sum(len(t.train_pairs) for t in tasks)
    tests = sum(len(t.test_inputs) for t in tasks)
    solved = sum(t.has_solutions for t in tasks)
    typer.echo(
        f"{len(tasks)} valid task(s), {len(problems)} invalid; {pairs} train pairs, {tests} test inputs, "
        f"{solved} task(s) with test outputs"
    )
    if problems:
        raise typer.Exit(2)


@build_app.command("arc")
@errors_as_lines
def data_build_arc(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="dataset directory to write")],
    source: Annotated[
        str | None, typer.Option(help="tasks whose train pairs train and whose test pairs are the test split")
    ] = None,
    aug: Annotated[int, typer.Option(help="augmented versions per task, besides the original")] = 1000,
    extra_train: Annotated[
        str | None, typer.Option(help="tasks whose every pair goes to the train split")
    ] = None,
    canvas: Annotated[int, typer.Option(help="canvas side C (sequence length C*C)")] = 30,
    max_grid: Annotated[int | None, typer.Option(help="leave out tasks with a grid side above this")] = None,
    translate: Annotated[
        bool, typer.Option(help="random translation of train examples on the canvas")
    ] = True,
    seed: Annotated[
        int | None,
        typer.Option(help="random seed; the build is deterministic for it (default 0; 42 with --trm-prefix)"),
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="replace an existing dataset directory")] = False,
    trm_prefix: Annotated[
        str | None,
        typer.Option(
            help="build as the reference TRM code does from PREFIX_<subset>_challenges.json (+ solutions)"
        ),
    ] = None,
    subsets: Annotated[
        str | None,
        typer.Option(help="with --trm-prefix: subsets in order, e.g. --subsets training evaluation concept"),
    ] = None,
    test_set: Annotated[
        str, typer.Option(help="with --trm-prefix: the subset whose test pairs form the test split")
    ] = "evaluation",
    more_subsets: Annotated[list[str] | None, typer.Argument(hidden=True, metavar="SUBSET")] = None,
) -> None:
    """Build an ARC dataset with one puzzle id (task embedding) per augmented task version.

    With --trm-prefix, the reference TRM builder's dataset (same identifiers, rows, puzzle ids and
    offsets for the same files, subsets and seed), plus identifiers.json beside meta.json.
    """
    if trm_prefix is not None:
        if (
            source is not None
            or extra_train is not None
            or canvas != 30
            or max_grid is not None
            or not translate
        ):
            raise UsageError("--trm-prefix builds the reference's recipe: drop --source, --extra-train, "
                             "--canvas, --max-grid and --no-translate", ctx=ctx)  # fmt: skip
        from arcsolve.data.trm_builder import TrmBuildConfig, build_trm_dataset

        names = [n for word in [subsets or "", *(more_subsets or [])] for n in word.split(",") if n]
        trm_cfg = TrmBuildConfig(
            trm_prefix,
            tuple(names or ("training", "evaluation", "concept")),
            test_set,
            aug=aug,
            seed=42 if seed is None else seed,
        )
        meta = build_trm_dataset(trm_cfg, out, overwrite=overwrite)
        train, test = meta["counts"]["train"], meta["counts"]["test"]
        typer.echo(
            f"{out}: {len(meta['task_ids'])} tasks, {meta['num_puzzle_ids']} puzzle ids (with the blank), "
            f"train {train['examples']} examples / {train['puzzles']} puzzles, test {test['examples']} examples, "
            f"{meta['tasks_short_of_aug']} task(s) short of --aug, {meta['seconds']:.1f} s"
        )
        return
    if source is None or more_subsets:  # the same usage error click gives for a missing option
        raise UsageError("Missing option '--source' (or --trm-prefix).", ctx=ctx)
    from arcsolve.data.arc_builder import ArcBuildConfig, build_arc_dataset

    cfg = ArcBuildConfig(source, aug, 0 if seed is None else seed, extra_train, canvas, max_grid, translate)
    cfg.validate("data build arc")
    summary = build_arc_dataset(cfg, out, overwrite=overwrite, progress=sys.stderr.isatty())
    typer.echo(summary.describe())
    if summary.num_left_out:
        task_id, why = summary.left_out[0]
        typer.echo(f"left out {summary.num_left_out} task(s) that do not fit (e.g. {task_id}: {why})")


import_app = typer.Typer(help="Import models trained elsewhere.", no_args_is_help=True)
app.add_typer(import_app, name="import")


@import_app.command("trm")
@errors_as_lines
def import_trm_checkpoint(
    checkpoint: Annotated[Path, typer.Argument(help="a reference TRM checkpoint (e.g. step_NNN)")],
    dataset: Annotated[
        Path, typer.Option(help="the reference dataset folder it was trained on, or a --trm-prefix build")
    ],
    out: Annotated[Path, typer.Option(help="run directory to write")],
    config: Annotated[
        Path | None, typer.Option(help="the reference all_config.yaml (default: beside CHECKPOINT)")
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="replace an existing run directory")] = False,
) -> None:
    """Convert a reference TRM checkpoint into a run directory that predict and kaggle bundle take."""
    from arcsolve.trm_import import import_trm

    for line in import_trm(checkpoint, dataset, out, config, overwrite).lines():
        typer.echo(line)


@build_app.command("sudoku")
@errors_as_lines
def data_build_sudoku(
    out: Annotated[Path, typer.Option(help="dataset directory to write")],
    n_train: Annotated[int, typer.Option(help="training puzzles")] = 1000,
    n_test: Annotated[int, typer.Option(help="held-out test puzzles")] = 1000,
    difficulty: Annotated[str, typer.Option(help="easy, medium, hard or extreme")] = "extreme",
    aug: Annotated[int, typer.Option(help="augmented versions per training puzzle")] = 1000,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    overwrite: Annotated[bool, typer.Option(help="replace an existing dataset directory")] = False,
) -> None:
    """Generate a sudoku dataset (unique solutions, chosen difficulty)."""
    from arcsolve.config import from_dict
    from arcsolve.data.puzzle_builders import SudokuBuildConfig, build_sudoku_dataset

    fields = {"n_train": n_train, "n_test": n_test, "difficulty": difficulty, "aug": aug, "seed": seed}
    cfg = from_dict(SudokuBuildConfig, fields, where="data build sudoku")
    meta = build_sudoku_dataset(cfg, out, overwrite=overwrite)
    counts = meta["counts"]
    typer.echo(
        f"{out}: sudoku {difficulty}, train {counts['train']['examples']} examples, "
        f"test {counts['test']['examples']}, mean blanks {meta['mean_blanks']['test']:.1f}, {meta['seconds']:.1f} s"
    )


@build_app.command("maze")
@errors_as_lines
def data_build_maze(
    out: Annotated[Path, typer.Option(help="dataset directory to write")],
    n_train: Annotated[int, typer.Option(help="training mazes")] = 1000,
    n_test: Annotated[int, typer.Option(help="held-out test mazes")] = 1000,
    size: Annotated[int, typer.Option(help="maze side S (sequence length S*S)")] = 30,
    min_path: Annotated[int, typer.Option(help="least moves of a kept maze's shortest path")] = 110,
    dihedral_aug: Annotated[bool, typer.Option(help="add each train maze's 8 dihedral versions")] = False,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
    overwrite: Annotated[bool, typer.Option(help="replace an existing dataset directory")] = False,
) -> None:
    """Generate a maze dataset (shortest-path labels)."""
    from arcsolve.config import from_dict
    from arcsolve.data.puzzle_builders import MazeBuildConfig, build_maze_dataset

    fields = dict(n_train=n_train, n_test=n_test, size=size, min_path=min_path, seed=seed)
    fields["dihedral_aug"] = dihedral_aug
    cfg = from_dict(MazeBuildConfig, fields, where="data build maze")
    meta = build_maze_dataset(cfg, out, overwrite=overwrite)
    counts = meta["counts"]
    typer.echo(
        f"{out}: maze {size}x{size}, train {counts['train']['examples']} examples, test {counts['test']['examples']}, "
        f"mean path {meta['mean_path_length']['test']:.1f}, {meta['seconds']:.1f} s"
    )


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
