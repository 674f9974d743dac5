"""`arcsolve search`: flags in, `arcsolve.search.run.run_search` called, its report out. Mounted on
the root command by `arcsolve/cli.py`; errors become one line through `arcsolve/cli_support.py`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from arcsolve.cli_support import QuietFlag, errors_as_lines, given_flags, with_default


def _flag(dotted: str, text: str) -> Any:
    from arcsolve.search.config import SearchConfig

    return typer.Option(help=with_default(SearchConfig, f"options.{dotted}", text))


@errors_as_lines
def search(
    source: Annotated[str, typer.Argument(help="task SOURCE to answer")],
    out: Annotated[Path, typer.Option(help="submission.json to write")],
    time_budget: Annotated[
        float | None, typer.Option(help="seconds for the whole run (default: 0 = none)")
    ] = None,
    task_seconds: Annotated[float | None, _flag("task_seconds", "the most one task may take")] = None,
    depth: Annotated[int | None, _flag("depth", "steps per program, at most")] = None,
    workers: Annotated[int | None, _flag("workers", "worker processes; 0 = one per core")] = None,
    memory_mb: Annotated[int | None, _flag("memory_mb", "memory limit of each worker")] = None,
    log: Annotated[
        Path | None, typer.Option(help="the per-task record (default: search.jsonl by --out)")
    ] = None,
    quiet: QuietFlag = False,
) -> None:
    """Program search on the CPU: a DSL of grid transforms, enumerated on worker processes.

    Writes a valid submission whatever happens (fallbacks where no program fits) and search.jsonl
    with each task's programs; prints pass@2 when the test outputs are known."""
    from arcsolve.config import from_dict
    from arcsolve.search.config import SearchConfig
    from arcsolve.search.run import run_search

    flags = {"tasks": source, "out": str(out), "time_budget": time_budget}
    flags |= {"options_task_seconds": task_seconds, "options_depth": depth, "options_workers": workers}
    flags |= {"options_memory_mb": memory_mb, "log_path": None if log is None else str(log)}
    fields = {"progress": not quiet, **given_flags(flags, sections=("options",))}
    run = run_search(from_dict(SearchConfig, fields, where="search"), echo=typer.echo)
    for line in run.lines():
        typer.echo(f"search: {line}")
    typer.echo(f"search: {out} and {run.log_file}")
