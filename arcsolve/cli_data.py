"""The `arcsolve data` commands (validate, build arc / sudoku / maze) and `arcsolve import`: flags in,
one function of `arcsolve/data/` or `arcsolve/trm_import/` called, a report out. Mounted on the root
command by `arcsolve/cli.py`; errors become one line through `arcsolve/cli_support.py`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from arcsolve.cli_support import QuietFlag, UsageError, errors_as_lines, given_flags, with_default


def _arc_help(name: str, text: str) -> str:
    from arcsolve.data.build_configs import ArcBuildConfig

    return with_default(ArcBuildConfig, name, text)


def _sudoku_help(name: str, text: str) -> str:
    from arcsolve.data.build_configs import SudokuBuildConfig

    return with_default(SudokuBuildConfig, name, text)


def _maze_help(name: str, text: str) -> str:
    from arcsolve.data.build_configs import MazeBuildConfig

    return with_default(MazeBuildConfig, name, text)


data_app = typer.Typer(help="Load, validate and build datasets.", no_args_is_help=True)
build_app = typer.Typer(help="Build a dataset directory (ARC, sudoku or maze).", no_args_is_help=True)
data_app.add_typer(build_app, name="build")


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


def _build_trm(prefix: str, given: dict, out: Path, overwrite: bool, materialize: bool) -> None:
    from arcsolve.data.trm_builder import TrmBuildConfig, build_trm_dataset

    meta = build_trm_dataset(
        TrmBuildConfig(prefix, **given_flags(given)), out, overwrite=overwrite, materialize=materialize
    )
    train, test = meta["counts"]["train"], meta["counts"]["test"]
    typer.echo(
        f"{out}: {len(meta['task_ids'])} tasks, {meta['num_puzzle_ids']} puzzle ids (with the blank), "
        f"train {train['examples']} examples / {train['puzzles']} puzzles, test {test['examples']} examples, "
        f"{meta['tasks_short_of_aug']} task(s) short of --aug, {meta['seconds']:.1f} s"
    )


@build_app.command("arc")
@errors_as_lines
def data_build_arc(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="dataset directory to write")],
    source: Annotated[
        str | None, typer.Option(help="tasks whose train pairs train and whose test pairs are the test split")
    ] = None,
    aug: Annotated[
        int | None, typer.Option(help=_arc_help("aug", "versions per task besides the original"))
    ] = None,
    extra_train: Annotated[
        str | None, typer.Option(help="tasks whose every pair goes to the train split")
    ] = None,
    canvas: Annotated[
        int | None, typer.Option(help=_arc_help("canvas", "canvas side C (sequence C*C)"))
    ] = None,
    max_grid: Annotated[int | None, typer.Option(help="leave out tasks with a grid side above this")] = None,
    translate: Annotated[
        bool | None,
        typer.Option(help=_arc_help("translate", "random translation of train examples on the canvas")),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="random seed (default: 0; 42 with --trm-prefix)")] = None,
    overwrite: Annotated[bool, typer.Option(help="replace an existing dataset directory")] = False,
    quiet: QuietFlag = False,
    materialize: Annotated[
        bool,
        typer.Option(
            help="write every token row (the materialized format) instead of the recipe the loader encodes"
        ),
    ] = False,
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
        str | None, typer.Option(help="with --trm-prefix: the subset whose test pairs form the test split")
    ] = None,
    more_subsets: Annotated[list[str] | None, typer.Argument(hidden=True, metavar="SUBSET")] = None,
) -> None:
    """Build an ARC dataset with one puzzle id (task embedding) per augmented task version.

    With --trm-prefix, the reference TRM builder's dataset (same identifiers, rows, puzzle ids and
    offsets for the same files, subsets and seed), plus identifiers.json beside meta.json.
    """
    if trm_prefix is not None:
        if any(flag is not None for flag in (source, extra_train, canvas, max_grid, translate)):
            raise UsageError("--trm-prefix builds the reference's recipe: drop --source, --extra-train, "
                             "--canvas, --max-grid and --no-translate", ctx=ctx)  # fmt: skip
        names = [n for word in [subsets or "", *(more_subsets or [])] for n in word.split(",") if n]
        given = {"subsets": tuple(names) or None, "test_set": test_set, "aug": aug, "seed": seed}
        _build_trm(trm_prefix, given, out, overwrite, materialize)
        return
    if source is None or more_subsets:  # the same usage error click gives for a missing option
        raise UsageError("Missing option '--source' (or --trm-prefix).", ctx=ctx)
    from arcsolve.config import from_dict
    from arcsolve.data.arc_builder import build_arc_dataset
    from arcsolve.data.build_configs import ArcBuildConfig

    given = {"source": source, "aug": aug, "seed": seed, "extra_train": extra_train, "canvas": canvas}
    cfg = from_dict(
        ArcBuildConfig, given_flags(given | {"max_grid": max_grid, "translate": translate}), "data build arc"
    )
    summary = build_arc_dataset(cfg, out, overwrite=overwrite, progress=not quiet, materialize=materialize)
    typer.echo(summary.describe())
    if summary.num_left_out:
        task_id, why = summary.left_out[0]
        typer.echo(f"left out {summary.num_left_out} task(s) that do not fit (e.g. {task_id}: {why})")


@build_app.command("sudoku")
@errors_as_lines
def data_build_sudoku(
    out: Annotated[Path, typer.Option(help="dataset directory to write")],
    n_train: Annotated[int | None, typer.Option(help=_sudoku_help("n_train", "training puzzles"))] = None,
    n_test: Annotated[int | None, typer.Option(help=_sudoku_help("n_test", "held-out test puzzles"))] = None,
    difficulty: Annotated[
        str | None, typer.Option(help=_sudoku_help("difficulty", "easy ... extreme"))
    ] = None,
    aug: Annotated[int | None, typer.Option(help=_sudoku_help("aug", "versions per training puzzle"))] = None,
    seed: Annotated[int | None, typer.Option(help=_sudoku_help("seed", "random seed"))] = None,
    overwrite: Annotated[bool, typer.Option(help="replace an existing dataset directory")] = False,
) -> None:
    """Generate a sudoku dataset (unique solutions, chosen difficulty)."""
    from arcsolve.config import from_dict
    from arcsolve.data.build_configs import SudokuBuildConfig
    from arcsolve.data.puzzle_builders import build_sudoku_dataset

    fields = {"n_train": n_train, "n_test": n_test, "difficulty": difficulty, "aug": aug, "seed": seed}
    cfg = from_dict(SudokuBuildConfig, given_flags(fields), where="data build sudoku")
    meta = build_sudoku_dataset(cfg, out, overwrite=overwrite)
    counts = meta["counts"]
    typer.echo(
        f"{out}: sudoku {cfg.difficulty}, train {counts['train']['examples']} examples, "
        f"test {counts['test']['examples']}, mean blanks {meta['mean_blanks']['test']:.1f}, {meta['seconds']:.1f} s"
    )


@build_app.command("maze")
@errors_as_lines
def data_build_maze(
    out: Annotated[Path, typer.Option(help="dataset directory to write")],
    n_train: Annotated[int | None, typer.Option(help=_maze_help("n_train", "training mazes"))] = None,
    n_test: Annotated[int | None, typer.Option(help=_maze_help("n_test", "held-out test mazes"))] = None,
    size: Annotated[int | None, typer.Option(help=_maze_help("size", "maze side S (sequence S*S)"))] = None,
    min_path: Annotated[
        int | None, typer.Option(help=_maze_help("min_path", "least moves of a path"))
    ] = None,
    dihedral_aug: Annotated[
        bool | None,
        typer.Option(help=_maze_help("dihedral_aug", "add each train maze's 8 dihedral versions")),
    ] = None,
    seed: Annotated[int | None, typer.Option(help=_maze_help("seed", "random seed"))] = None,
    overwrite: Annotated[bool, typer.Option(help="replace an existing dataset directory")] = False,
) -> None:
    """Generate a maze dataset (shortest-path labels)."""
    from arcsolve.config import from_dict
    from arcsolve.data.build_configs import MazeBuildConfig
    from arcsolve.data.puzzle_builders import build_maze_dataset

    fields = dict(n_train=n_train, n_test=n_test, size=size, min_path=min_path, seed=seed)
    fields["dihedral_aug"] = dihedral_aug
    cfg = from_dict(MazeBuildConfig, given_flags(fields), where="data build maze")
    meta = build_maze_dataset(cfg, out, overwrite=overwrite)
    counts = meta["counts"]
    typer.echo(
        f"{out}: maze {cfg.size}x{cfg.size}, train {counts['train']['examples']} examples, test {counts['test']['examples']}, "
        f"mean path {meta['mean_path_length']['test']:.1f}, {meta['seconds']:.1f} s"
    )


import_app = typer.Typer(help="Import models trained elsewhere.", no_args_is_help=True)


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
