"""Enumerative program search with pruning by output equivalence.

Breadth-first over programs of up to `depth` steps from the task's vocabulary. A state is the tuple
of grids a program produces on every input (train inputs, then test inputs); two programs that
produce the same tuple are the same for this task, so only the first (cheapest, shallowest) one is
kept: the number of states is bounded by what the ops can make, not by the number of programs.
Every new state is checked as an answer: it equals the train outputs itself, or a fitter learns a last
step (a colour map, a tile pattern, a lookup table) that maps it onto them. A program counts only when
it reproduces every train pair exactly and runs on every test input.

The search stops at the depth limit, when the time or state budget is spent, or once it holds two
distinct answers at the end of a depth (deeper programs would only rank below them). With the same
vocabulary and limits, and no budget reached, the outcome is always the same.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from arcsolve.search.compose import Composer
from arcsolve.search.grid import Grid, grid_key, is_valid_grid
from arcsolve.search.ops import Fitter, Op, TaskView
from arcsolve.search.plausible import answers_faults, learn_rules
from arcsolve.search.program import Program

# From depth 2, the share of a task's remaining time the plain ops of a depth may take before its
# fitter pass (nearest states first) begins.
PLAIN_SHARE = 0.6
# Fitters marked `shallow_only` (costly ones whose rules read the input itself: a positional lookup
# table, an output picked by the input's class) run on states of at most this depth.
SHALLOW_DEPTH = 1


@dataclass(frozen=True)
class SearchLimits:
    depth: int = 3
    seconds: float = 10.0
    max_states: int = 150_000  # states kept for expansion, over all depths
    max_state_bytes: int = 400 * 2**20  # the grids those states hold
    max_answers: int = 8  # distinct test answers collected before stopping early


@dataclass(frozen=True)
class Solution:
    program: Program
    test_outputs: tuple[Grid, ...]
    faults: int = 0  # train-pair invariants its answers break (plausible.answer_faults)
    support: int = 1  # distinct states (programs) whose answers these are

    def rank_key(self, order: int) -> tuple:
        """Fewest broken invariants, then shallowest, then the answer most programs give, then
        cheapest, then first found."""
        return (self.faults, self.program.depth, -self.support, self.program.cost, order)


@dataclass
class SearchOutcome:
    solutions: list[Solution] = field(default_factory=list)  # best first
    states: int = 0
    depth_done: int = -1  # the deepest depth searched completely
    stopped_by: str | None = None  # "time" or "states" when a budget cut the search short
    op_errors: int = 0  # op or fitter calls that raised (treated as "does not apply")
    seconds: float = 0.0


@dataclass
class _State:
    program: Program
    grids: tuple[Grid, ...]
    distance: float | None = None  # Search._distance, once computed


class _Search:
    fit_later_from = 2  # the first depth whose fitters wait for its plain ops (see _search_depth)

    def __init__(self, view: TaskView, ops: Sequence[Op], fitters: Sequence[Fitter], limits: SearchLimits):
        self.view = view
        self.ops = sorted(ops, key=lambda op: op.cost)  # stable: family order within a cost
        self.fitters = fitters
        self.limits = limits
        self.n_train = len(view.train_inputs)
        self.targets = view.train_outputs
        self.deadline = time.perf_counter() + limits.seconds
        self.seen: set[bytes] = set()
        self.answers: dict[bytes, tuple[int, Solution]] = {}  # test answers -> (first order, best)
        self.rules = learn_rules(view.train_inputs, view.train_outputs)
        self.plausible = 0  # distinct answers that break no invariant
        self.outcome = SearchOutcome()
        self.kept_bytes = 0
        self.composer = Composer(self.targets)
        self.composed: set[bytes] = set()

    def run(self) -> SearchOutcome:
        start = _State(Program(), self.view.inputs)
        self.seen.add(_digest(start.grids))
        self._offer_layer(start)
        self._check(start)
        level = [start]
        self.outcome.depth_done = 0
        for depth in range(1, self.limits.depth + 1):
            if self.plausible >= 2 or self.outcome.stopped_by:
                break
            keep = depth < self.limits.depth
            level = self._search_depth(level, keep, fit_later=keep and depth >= self.fit_later_from)
            self._compose()
            if self.outcome.stopped_by:
                break
            self.outcome.depth_done = depth
        ranked = sorted(self.answers.values(), key=lambda item: item[1].rank_key(item[0]))
        self.outcome.solutions = [solution for _, solution in ranked]
        return self.outcome

    def _search_depth(self, level: list[_State], keep: bool, fit_later: bool) -> list[_State]:
        """One depth: every op on every state of `level`; the new states, nearest first.

        With `fit_later` the fitters wait: the plain ops first make every new state (checked only for
        equality with the targets, the cheap part) within PLAIN_SHARE of the time left, then the
        fitters run on the new states nearest first, so a depth the time cuts short has fitted the
        likeliest states rather than the children of the first parents."""
        if not fit_later:
            return sorted(self._expand(level, keep, self.deadline, None), key=self._distance)
        now = time.perf_counter()
        fresh: list[_State] = []
        plain_deadline = now + PLAIN_SHARE * max(0.0, self.deadline - now)
        kept = list(self._expand(level, keep, plain_deadline, fresh))
        if self.plausible < self.limits.max_answers:
            for state in sorted(fresh, key=self._distance):
                if time.perf_counter() > self.deadline:
                    self.outcome.stopped_by = "time"
                    break
                self._fit(state)
                if self.plausible >= self.limits.max_answers:
                    break
        return sorted(kept, key=self._distance)

    def _expand(
        self, level: list[_State], keep: bool, deadline: float, fresh: list[_State] | None
    ) -> Iterator[_State]:
        """New states from `level`: each checked at once (exact match and fitters), or, given
        `fresh`, checked for an exact match only and collected there for a later fitter pass."""
        for parent in level:
            for op in self.ops:
                if time.perf_counter() > deadline:
                    self.outcome.stopped_by = "time"
                    return
                grids = self._apply(op, parent.grids)
                if grids is None:
                    continue
                digest = _digest(grids)
                if digest in self.seen:
                    continue
                self.seen.add(digest)
                self.outcome.states += 1
                child = _State(parent.program.then(op), grids)
                self._offer_layer(child)
                kept = keep and self._room_for(grids)
                if fresh is None or not kept:
                    self._check(child)
                elif not self._matches(child):
                    fresh.append(child)  # kept states only: the grids are held anyway
                if self.plausible >= self.limits.max_answers:
                    return
                if kept:
                    yield child

    def _distance(self, state: _State) -> float:
        """How far a state's train grids are from the targets (the share of wrong cells, 1 for a wrong
        shape, summed over pairs): the next depth expands the nearest states first, so a depth the
        time cuts short has tried the likeliest parents. Ties keep discovery order."""
        if state.distance is None:
            state.distance = sum(
                float(np.count_nonzero(g != t)) / t.size if g.shape == t.shape else 1.0
                for g, t in zip(state.grids[: self.n_train], self.targets, strict=True)
            )
        return state.distance

    def _room_for(self, grids: tuple[Grid, ...]) -> bool:
        size = sum(g.nbytes for g in grids)
        if (
            self.outcome.states > self.limits.max_states
            or self.kept_bytes + size > self.limits.max_state_bytes
        ):
            self.outcome.stopped_by = self.outcome.stopped_by or "states"
            return False
        self.kept_bytes += size
        return True

    def _apply(self, op: Op, grids: tuple[Grid, ...]) -> tuple[Grid, ...] | None:
        out = []
        for grid in grids:
            try:
                result = op.fn(grid)
            except Exception:  # a primitive that crashes on one grid costs only this branch
                self.outcome.op_errors += 1
                return None
            if result is None or not is_valid_grid(result):
                return None
            out.append(result)
        return tuple(out)

    def _check(self, state: _State) -> None:
        if not self._matches(state):
            self._fit(state)

    def _matches(self, state: _State) -> bool:
        """True (and the state's answers kept) when its train grids are the targets themselves."""
        if not _all_equal(state.grids[: self.n_train], self.targets):
            return False
        self._add(state.program, state.grids[self.n_train :])
        return True

    def _fit(self, state: _State) -> None:
        """Every fitter's last step on the state, kept when it maps the train grids onto the targets."""
        train, tests = state.grids[: self.n_train], state.grids[self.n_train :]
        shallow = state.program.depth <= SHALLOW_DEPTH
        same_shape = all(g.shape == t.shape for g, t in zip(train, self.targets, strict=True))
        for fit in self.fitters:
            if not shallow and getattr(fit, "shallow_only", False):
                continue
            if not same_shape and getattr(fit, "keeps_shape", False):
                continue
            try:
                op = fit(train, self.targets, tests)
            except Exception:
                self.outcome.op_errors += 1
                continue
            if op is None:
                continue
            fitted_train = self._apply(op, train)
            if fitted_train is None or not _all_equal(fitted_train, self.targets):
                continue  # a fitter's claim is checked, never trusted
            fitted_tests = self._apply(op, tests)
            if fitted_tests is not None:
                self._add(state.program.then(op), fitted_tests)

    def _offer_layer(self, state: _State) -> None:
        self.composer.offer(state.program, state.grids[: self.n_train], state.grids[self.n_train :])

    def _compose(self) -> None:
        """The layers met so far stacked into an answer (compose.py), once per distinct answer."""
        found = self.composer.compose()
        if found is None:
            return
        program, tests = found
        key = _answer_key(tests)
        if key not in self.composed:
            self.composed.add(key)
            self._add(program, tests, key)

    def _add(self, program: Program, tests: tuple[Grid, ...], key: bytes | None = None) -> None:
        """Keep `program`'s answers: a new answer, or one more program behind a known answer (its
        support), which names it when it ranks before the program that named it so far."""
        key = _answer_key(tests) if key is None else key
        known = self.answers.get(key)
        if known is None:
            faults = answers_faults(self.rules, self.view.test_inputs, tests)
            self.plausible += faults == 0
            self.answers[key] = (len(self.answers), Solution(program, tests, faults))
            return
        order, best = known  # same answers, so same faults and support: shallower, then cheaper names it
        named_by = (
            program
            if (program.depth, program.cost) < (best.program.depth, best.program.cost)
            else best.program
        )
        self.answers[key] = (order, replace(best, program=named_by, support=best.support + 1))


def _all_equal(grids: Sequence[Grid], targets: Sequence[Grid]) -> bool:
    return all(g.shape == t.shape and np.array_equal(g, t) for g, t in zip(grids, targets, strict=True))


def _answer_key(tests: tuple[Grid, ...]) -> bytes:
    return b"".join(grid_key(g) for g in tests)


def _digest(grids: tuple[Grid, ...]) -> bytes:
    hasher = hashlib.blake2b(digest_size=16)
    for grid in grids:
        hasher.update(grid_key(grid))
    return hasher.digest()


def search_task(
    view: TaskView, ops: Sequence[Op], fitters: Sequence[Fitter], limits: SearchLimits
) -> SearchOutcome:
    """Every program of up to `limits.depth` steps that fits the train pairs, best first (shallowest,
    then cheapest, then first found), one per distinct tuple of test answers."""
    started = time.perf_counter()
    outcome = _Search(view, ops, fitters, limits).run()
    outcome.seconds = time.perf_counter() - started
    return outcome
