"""Answer invariants: rules every train pair obeys, checked on a program's test answers.

Every kept program reproduces the train pairs, yet several may disagree on the test inputs; most wrong
ones give an answer that breaks a rule all the train pairs keep. A rule is learned only from the train
pairs (and judged on the test inputs), never from test outputs:

- shape: every output has its input's shape, or one fixed shape, or its input's shape scaled by one
  fixed factor (an answer must follow one of the shape rules every train pair follows);
- palette: an answer uses only its input's colours and the colours some train output adds to its input;
- change: when no train output equals its input, an answer must differ from its input;
- uniform: when no train output is one colour throughout, an answer must not be.

`answer_faults` counts the rules an answer breaks; the engine ranks programs with none first.
On arc1:training's own test pairs 1 right answer in 416 breaks one (an output shape no train pair has);
a rule "a colour every train input has and no train output keeps never appears" was dropped: 6 of 416.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from arcsolve.search.grid import Grid, colours_present


@dataclass(frozen=True)
class AnswerRules:
    same_shape: bool  # every train output has its input's shape
    fixed_shape: tuple[int, int] | None  # every train output has this shape
    scale: tuple[Fraction, Fraction] | None  # every train output is its input's shape times this
    added_colours: frozenset[int]  # colours some train output has and its input lacks
    always_changes: bool  # no train output equals its input
    never_uniform: bool  # no train output is a single colour


def learn_rules(inputs: Sequence[Grid], outputs: Sequence[Grid]) -> AnswerRules:
    """The rules every train pair (`inputs[i]` -> `outputs[i]`) obeys."""
    shapes_in = [g.shape for g in inputs]
    shapes_out = [g.shape for g in outputs]
    scales = {
        (Fraction(o[0], i[0]), Fraction(o[1], i[1])) for i, o in zip(shapes_in, shapes_out, strict=True)
    }
    palettes_in = [set(colours_present(g)) for g in inputs]
    palettes_out = [set(colours_present(g)) for g in outputs]
    added = set().union(*(o - i for i, o in zip(palettes_in, palettes_out, strict=True)))
    return AnswerRules(
        same_shape=all(i == o for i, o in zip(shapes_in, shapes_out, strict=True)),
        fixed_shape=shapes_out[0] if len(set(shapes_out)) == 1 else None,
        scale=next(iter(scales)) if len(scales) == 1 else None,
        added_colours=frozenset(added),
        always_changes=not any(
            i.shape == o.shape and np.array_equal(i, o) for i, o in zip(inputs, outputs, strict=True)
        ),
        never_uniform=not any(len(p) == 1 for p in palettes_out),
    )


def shape_fits(rules: AnswerRules, grid_in: Grid, answer: Grid) -> bool:
    """The answer's shape follows one of the shape rules the train pairs follow (or none holds)."""
    held = []
    if rules.same_shape:
        held.append(answer.shape == grid_in.shape)
    if rules.fixed_shape is not None:
        held.append(answer.shape == rules.fixed_shape)
    if rules.scale is not None:
        rows, cols = rules.scale
        held.append(answer.shape == (grid_in.shape[0] * rows, grid_in.shape[1] * cols))
    return not held or any(held)


def answer_faults(rules: AnswerRules, grid_in: Grid, answer: Grid) -> int:
    """How many of the rules the answer `answer` to test input `grid_in` breaks."""
    palette = set(colours_present(answer))
    faults = 0 if shape_fits(rules, grid_in, answer) else 1
    faults += bool(palette - set(colours_present(grid_in)) - rules.added_colours)
    if rules.always_changes and answer.shape == grid_in.shape and np.array_equal(answer, grid_in):
        faults += 1
    if rules.never_uniform and len(palette) == 1:
        faults += 1
    return faults


def answers_faults(rules: AnswerRules, test_inputs: Sequence[Grid], answers: Sequence[Grid]) -> int:
    return sum(answer_faults(rules, g, a) for g, a in zip(test_inputs, answers, strict=True))
