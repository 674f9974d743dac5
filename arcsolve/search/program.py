"""A program: the steps applied to the input in order, printed as one readable line,
e.g. `largest_object(x, conn=8) |> crop_to_content |> recolor(map={1: 2})`."""

from __future__ import annotations

from dataclasses import dataclass

from arcsolve.search.grid import Grid
from arcsolve.search.ops import Op


@dataclass(frozen=True)
class Program:
    steps: tuple[Op, ...] = ()

    def then(self, op: Op) -> Program:
        return Program((*self.steps, op))

    @property
    def depth(self) -> int:
        return sum(op.depth for op in self.steps)

    @property
    def cost(self) -> float:
        return sum(op.cost for op in self.steps)

    @property
    def families(self) -> tuple[str, ...]:
        """The families of its steps, each once, in order of first use."""
        return tuple(dict.fromkeys(f for op in self.steps for f in (op.family, *op.parts)))

    def text(self) -> str:
        if not self.steps:
            return "x"
        first, *rest = self.steps
        return " |> ".join([first.text("x"), *(op.text(None) for op in rest)])

    def run(self, grid: Grid) -> Grid | None:
        for op in self.steps:
            grid = op(grid)
            if grid is None:
                return None
        return grid
