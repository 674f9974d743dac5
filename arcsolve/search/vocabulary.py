"""The search's vocabulary: every family module's ops and fitters, in one ordered list.

Order matters only for ties: among programs of equal depth and cost, the one found first (earlier
family, earlier op) names the state."""

from __future__ import annotations

from arcsolve.search import (
    colours,
    denoise,
    fill,
    geometry,
    gravity,
    local_rule,
    objects,
    part_fitters,
    partition,
    patterns,
    rays,
    symmetry,
)
from arcsolve.search.ops import Fitter, Op, TaskView

FAMILIES = (
    geometry,
    colours,
    objects,
    partition,
    part_fitters,
    symmetry,
    fill,
    rays,
    gravity,
    denoise,
    local_rule,
    patterns,
)


def task_ops(view: TaskView) -> list[Op]:
    return [op for family in FAMILIES for op in family.ops(view)]


def task_fitters() -> list[Fitter]:
    return [fit for family in FAMILIES for fit in family.FITTERS]
