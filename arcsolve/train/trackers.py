"""Live experiment tracking beside `metrics.jsonl`: TensorBoard event files and Weights & Biases runs.

Both are optional (`pip install arcsolve[track]`) and only ever copies: `metrics.jsonl` is written
first and stays the source of truth. A tracker receives exactly the records `metrics.jsonl` gets, at
the same steps, as Python numbers the loop has already read from the device, so tracking adds no
device sync. A tracker that fails, whether at start (package missing, W&B not logged in, no network)
or later (disk full), prints one warning line and is dropped; the run goes on without it.

Resuming: TensorBoard appends new event files to the same directory, each starting with a purge
marker at the first step logged again, so TensorBoard's reader hides what a killed run logged past
its checkpoint. A W&B history cannot be rewound offline, so the run's id and the last step sent are
kept in `RUN/wandb.json`; a resumed run continues that W&B run and sends only later steps (resume is
bit-for-bit, so the skipped values are the ones it would have sent again, bar `steps_per_s`).
"""

from __future__ import annotations

import contextlib
import os
import sys
import textwrap
from collections.abc import Callable
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import orjson

from arcsolve.config import to_toml
from arcsolve.io import atomic_write_bytes
from arcsolve.train.config import RunConfig

TENSORBOARD_DIR = "tensorboard"
WANDB_STATE_FILE = "wandb.json"


class WandbTarget(NamedTuple):
    project: str
    name: str  # the run's display name
    folder: Path  # where W&B keeps its local files unless WANDB_DIR says otherwise


class Tracker(Protocol):
    name: str

    def write(self, step: int, values: dict[str, Any]) -> None: ...

    def close(self, failed: bool) -> None: ...


def _numbers(values: dict[str, Any]) -> dict[str, float]:
    """The numeric entries of a record (bools, strings and None are not curves)."""
    return {k: v for k, v in values.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


class TensorBoardTracker:
    name = "tensorboard"

    def __init__(self, folder: Path, first_step: int, config_text: str | None) -> None:
        from torch.utils.tensorboard import SummaryWriter  # needs the optional `tensorboard` package

        # The purge marker hides events at or after first_step written by earlier processes.
        self.writer = SummaryWriter(str(folder), purge_step=first_step)
        if config_text is not None:  # indented: TensorBoard renders text as Markdown
            self.writer.add_text("config", textwrap.indent(config_text, "    "), first_step)

    def write(self, step: int, values: dict[str, Any]) -> None:
        for key, value in _numbers(values).items():
            self.writer.add_scalar(key, value, step)
        # On disk now, like the metrics.jsonl line: a killed run must not lose what came before its
        # last checkpoint (the writer's own timer flushes every two minutes).
        self.writer.flush()

    def close(self, failed: bool) -> None:
        self.writer.close()


class WandbTracker:
    """One W&B run. Every record is a row with a `step` entry that all curves use as their x axis,
    so several records at one step (train, then eval) are rows of their own."""

    name = "wandb"

    def __init__(
        self, project: str, name: str, folder: Path, config: dict[str, Any], state_file: Path | None
    ) -> None:
        import wandb  # the optional `wandb` package

        self.state_file = state_file
        state = _read_state(state_file, project)
        self.skip_through = int(state["last_step"]) if state else -1
        # WANDB_DIR, when set, says where W&B keeps its local files; otherwise beside the run's own.
        # Passed on every init: W&B reads the variable once per process, so a second run in one
        # process (a notebook's resume) would otherwise reuse the first folder and, within the same
        # second, write over the first run's files.
        folder.mkdir(parents=True, exist_ok=True)
        self.run = wandb.init(
            project=project,
            name=name,
            id=state["run_id"] if state else None,
            resume="allow",
            config=config,
            dir=os.environ.get("WANDB_DIR") or str(folder),
        )
        self.run.define_metric("step")
        self.run.define_metric("*", step_metric="step")
        self.project, self.last_step = project, self.skip_through
        if state_file is not None:
            atomic_write_bytes(state_file, self._state())

    def write(self, step: int, values: dict[str, Any]) -> None:
        if step <= self.skip_through:  # sent by the process this run resumes from
            return
        self.run.log({**_numbers(values), "step": step})
        if step != self.last_step and self.state_file is not None:
            self.last_step = step
            # Renamed into place but not fsynced (an fsync took 11 ms on a loaded machine, more than
            # the whole write): a killed process leaves a whole file; only a machine crash can lose
            # the last steps, which a resume then sends again.
            temporary = self.state_file.with_name(f".{self.state_file.name}.{os.getpid()}.tmp")
            temporary.write_bytes(self._state())
            os.replace(temporary, self.state_file)

    def _state(self) -> bytes:
        return orjson.dumps({"run_id": self.run.id, "project": self.project, "last_step": self.last_step})

    def close(self, failed: bool) -> None:
        self.run.finish(exit_code=1 if failed else 0)


def _read_state(path: Path | None, project: str) -> dict[str, Any] | None:
    """The stored W&B run of this run directory, when there is one for this project."""
    if path is None or not path.is_file():
        return None
    try:
        state = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError:
        return None
    return state if isinstance(state, dict) and state.get("project") == project else None


class Guarded:
    """A tracker that turns its first failure into one warning line and is silent from then on."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker: Tracker | None = tracker
        self.name = tracker.name

    def write(self, step: int, values: dict[str, Any]) -> None:
        if self.tracker is not None:
            try:
                self.tracker.write(step, values)
            except Exception as err:  # any failure of an optional copy: keep training
                self._drop(err)

    def close(self, failed: bool) -> None:
        if self.tracker is not None:
            try:
                self.tracker.close(failed)
            except Exception as err:
                self._drop(err)
            self.tracker = None

    def _drop(self, err: Exception) -> None:
        warn(self.name, err)
        tracker, self.tracker = self.tracker, None
        if tracker is not None:
            with contextlib.suppress(Exception):  # already failing; the warning has been given
                tracker.close(failed=True)


def warn(name: str, err: BaseException) -> None:
    what = " ".join(str(err).split()) or type(err).__name__
    print(f"arcsolve: warning: {name}: {what}; going on without it", file=sys.stderr)


def start_trackers(
    tensorboard_dir: Path | None,
    wandb: WandbTarget | None,
    first_step: int,
    config: dict[str, Any],
    config_text: str | None = None,
    wandb_state: Path | None = None,
) -> list[Guarded]:
    """The trackers asked for: TensorBoard into `tensorboard_dir`; a W&B run, continuing the one stored
    in `wandb_state` when there is one. A tracker that cannot start is one warning line and left out."""
    makers: list[tuple[str, Callable[[], Tracker]]] = []
    if tensorboard_dir is not None:
        makers.append(("tensorboard", partial(TensorBoardTracker, tensorboard_dir, first_step, config_text)))
    if wandb is not None:
        makers.append(("wandb", partial(WandbTracker, *wandb, config, wandb_state)))
    started = []
    for kind, make in makers:
        try:
            started.append(Guarded(make()))
        except ImportError as err:
            warn(kind, ImportError(f"cannot import it ({err}); pip install 'arcsolve[track]'"))
        except Exception as err:  # a W&B login or network error, an unwritable folder
            warn(kind, err)
    return started


def train_trackers(cfg: RunConfig, out: Path, first_step: int, is_main: bool) -> list[Guarded]:
    """Rank 0's trackers of the training run in `out`, whose next record is at `first_step`."""
    tc = cfg.train
    if not is_main or not (tc.tensorboard or tc.wandb_project):
        return []
    resolved = asdict(cfg)
    name = tc.wandb_run_name or out.resolve().name
    wandb = WandbTarget(tc.wandb_project, name, out) if tc.wandb_project else None
    board = out / TENSORBOARD_DIR if tc.tensorboard else None
    return start_trackers(board, wandb, first_step, resolved, to_toml(resolved), out / WANDB_STATE_FILE)
