"""The one progress bar of long work (training steps, adaptation steps, predicted views, dataset
builds): `label  ━━━━━━━  done/total  unit  time left`, on stderr so stdout stays the command's report."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


def progress_bar(label: str, unit: str, enabled: bool, transient: bool = False) -> Progress:
    """A rich Progress; `unit` is shown after the count and may name a task field, e.g.
    "{task.fields[info]}" for the training loop's loss line. Disabled, it draws nothing."""
    columns = (
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeRemainingColumn(),
    )
    return Progress(*columns, console=Console(stderr=True), disable=not enabled, transient=transient)
