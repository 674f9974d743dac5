"""Overlay composition: an answer stacked from the outputs of several programs.

Many outputs are the input plus a few additions made by different rules (rays from some cells, a fill
inside a frame): no single chain of steps makes them, but each rule's own output is right wherever it
draws. A state is a *layer* when its train grids have the targets' shapes and every cell it draws (any
colour but the targets' background) is the target's colour there. The composer keeps the layers the
search meets (cheapest first, one per set of drawn train cells) and covers the targets' drawn cells
greedily: the layer drawing the most cells not yet covered, then the next, until all are covered. The
answer paints the chosen layers' test grids on a background canvas, the first chosen on top. Every
chosen layer is right wherever it draws on the train pairs, so the stack reproduces them exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from arcsolve.search.grid import Grid, colour_counts
from arcsolve.search.ops import Op
from arcsolve.search.program import Program

FAMILY = "compose"
MAX_LAYERS_KEPT = 3000
MAX_LAYERS_USED = 4


def overlay_programs(grid: Grid, layers: tuple[Program, ...], bg: int) -> Grid | None:
    """Each layer program run on the grid, painted (all but its `bg` cells) on a `bg` canvas, the
    first layer on top; None when a layer does not run or the layers' shapes differ."""
    made = [layer.run(grid) for layer in layers]
    if any(m is None or m.shape != made[0].shape for m in made):
        return None
    return stack_layers(made, bg)


def stack_layers(grids: Sequence[Grid], bg: int) -> Grid:
    """`grids` (one shape) painted on a `bg` canvas, the first on top."""
    out = np.full(grids[0].shape, bg, dtype=np.uint8)
    for grid in reversed(grids):
        drawn = grid != bg
        out[drawn] = grid[drawn]
    return out


@dataclass
class _Layer:
    program: Program
    tests: tuple[Grid, ...]


class Composer:
    """Collects layers from the states a search offers and stacks them into answers (see module)."""

    def __init__(self, targets: Sequence[Grid], max_kept: int = MAX_LAYERS_KEPT):
        self.shapes = [t.shape for t in targets]
        self.bg = int(np.argmax(sum(colour_counts(t) for t in targets)))
        self.target = np.concatenate([t.ravel() for t in targets])
        self.to_cover = self.target != self.bg
        self.max_kept = max_kept
        self.layers: list[_Layer] = []
        self.drawn: list[np.ndarray] = []
        self.known: set[bytes] = set()

    def offer(self, program: Program, train: Sequence[Grid], tests: Sequence[Grid]) -> None:
        """Keep the state as a layer if it draws only right cells on the train pairs and draws a set
        of cells no earlier layer drew."""
        if len(self.layers) >= self.max_kept or any(
            g.shape != s for g, s in zip(train, self.shapes, strict=True)
        ):
            return
        flat = np.concatenate([g.ravel() for g in train])
        drawn = flat != self.bg
        if not np.any(drawn & self.to_cover) or not np.array_equal(flat[drawn], self.target[drawn]):
            return
        key = np.packbits(drawn).tobytes()
        if key in self.known:
            return
        self.known.add(key)
        self.layers.append(_Layer(program, tuple(tests)))
        self.drawn.append(drawn)

    def cover(self) -> list[int] | None:
        """Indices of the layers chosen greedily (most new cells first, earliest on ties) until every
        drawn target cell is covered; None if that takes one layer (no composition) or too many."""
        if len(self.layers) < 2:
            return None
        drawn = np.stack(self.drawn)
        left = self.to_cover.copy()
        chosen: list[int] = []
        while left.any():
            if len(chosen) == MAX_LAYERS_USED:
                return None
            gains = np.count_nonzero(drawn & left, axis=1)
            best = int(np.argmax(gains))
            if gains[best] == 0:
                return None
            chosen.append(best)
            left &= ~drawn[best]
        return chosen if len(chosen) >= 2 else None

    def compose(self) -> tuple[Program, tuple[Grid, ...]] | None:
        """The stacked program and its test answers, or None when the layers do not cover the targets
        or their test grids differ in shape."""
        chosen = self.cover()
        if chosen is None:
            return None
        layers = [self.layers[i] for i in chosen]
        answers = []
        for index in range(len(layers[0].tests)):
            grids = [layer.tests[index] for layer in layers]
            if any(g.shape != grids[0].shape for g in grids):
                return None
            answers.append(stack_layers(grids, self.bg))
        programs = tuple(layer.program for layer in layers)
        op = Op(
            "overlay",
            FAMILY,
            partial(overlay_programs, layers=programs, bg=self.bg),
            (("layers", tuple(p.text() for p in programs)), ("bg", self.bg)),
            cost=sum(p.cost for p in programs),
            depth=max(p.depth for p in programs) + 1,
            parts=tuple(dict.fromkeys(f for p in programs for f in p.families)),
        )
        return Program((op,)), tuple(answers)
