"""The search vocabulary's types: a program step (`Op`), what the search may see of a task (`TaskView`),
and the two ways a family contributes steps.

A family module (`geometry`, `colours`, `objects`, ...) exposes
- `ops(view) -> list[Op]`: unary grid -> grid steps, their parameters chosen from the task
  (the colours it uses, the scale factors its shapes suggest) rather than enumerated blindly;
- `FITTERS`: functions `fit(train_candidates, train_targets, test_candidates) -> Op | None` that learn a
  final step's parameters from the train pairs (a colour map, a lookup table, a tile pattern). A fitter
  returns a step that maps every train candidate to its target exactly and applies to every test
  candidate, or None. The engine checks both again, so a wrong fitter costs time, never a wrong answer.

An op returns None where it does not apply (no object to select, a factor that does not divide the
shape); the engine also treats a raised exception or an invalid grid as "does not apply".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from arcsolve.data.tasks import Task
from arcsolve.search.grid import Grid


@dataclass(frozen=True)
class Op:
    """One step of a program: a named grid -> grid function with its parameters bound.

    `name` says what it does to a grid (`largest_object`, `flip_horizontal`); `args` are printed
    as `name(x, conn=8)`; `cost` is its weight in a program's simplicity (cheaper ranks first)."""

    name: str
    family: str
    fn: Callable[[Grid], Grid | None] = field(compare=False, repr=False)
    args: tuple[tuple[str, Any], ...] = ()
    cost: float = 1.0
    depth: int = 1  # steps it counts for (a composition counts its deepest layer's and one)
    parts: tuple[str, ...] = ()  # families of the programs it composes

    def __call__(self, grid: Grid) -> Grid | None:
        return self.fn(grid)

    def text(self, inner: str | None) -> str:
        """This step printed around `inner` (the text of what it is applied to; None inside a pipe)."""
        args = ", ".join(f"{key}={format_arg(value)}" for key, value in self.args)
        if inner is not None:
            return f"{self.name}({inner}{', ' + args if args else ''})"
        return f"{self.name}({args})" if args else self.name


def format_arg(value: Any) -> str:
    """Arguments as short literal text: dicts `{1: 2}`, tuples `(1, 2)`, numpy scalars as ints."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{format_arg(k)}: {format_arg(v)}" for k, v in value.items()) + "}"
    if isinstance(value, tuple | list):
        return "(" + ", ".join(format_arg(v) for v in value) + ")"
    if hasattr(value, "item"):
        return str(value.item())
    return str(value)


@dataclass(frozen=True)
class TaskView:
    """What the search may see of a task: its train pairs and test inputs. Test outputs are never
    copied in, so no search code can read them."""

    task_id: str
    train_inputs: tuple[Grid, ...]
    train_outputs: tuple[Grid, ...]
    test_inputs: tuple[Grid, ...]

    @classmethod
    def from_task(cls, task: Task) -> TaskView:
        return cls(
            task_id=task.task_id,
            train_inputs=tuple(i for i, _ in task.train_pairs),
            train_outputs=tuple(o for _, o in task.train_pairs),
            test_inputs=tuple(task.test_inputs),
        )

    @property
    def inputs(self) -> tuple[Grid, ...]:
        """Train inputs then test inputs: the grids every program runs on."""
        return self.train_inputs + self.test_inputs


Fitter = Callable[[Sequence[Grid], Sequence[Grid], Sequence[Grid]], Op | None]


def keeps_shape(fit: Fitter) -> Fitter:
    """Mark a fitter whose last step keeps the candidate's shape: the engine does not call it on a
    state whose grids differ in shape from the targets (it could only refuse)."""
    fit.keeps_shape = True  # type: ignore[attr-defined]
    return fit
