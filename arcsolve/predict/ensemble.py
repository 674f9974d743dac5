"""`predict --search`: the program search runs on CPU worker processes while the model answers its
views, and its answers are merged with the model's candidates into one order per test input.

The merge rule (`merge_candidates`), per test input:
1. the best search answer (the simplest program that reproduces every train pair exactly);
2. the model's favourite, if at least `model_share` of the input's valid votes went to it (the model
   agrees with itself across augmented views), or if the search has no answer;
3. the search's further answers, in rank order;
4. the model's other candidates, in their order.
A grid both sides propose appears once, with its votes and its program. With no search answer the
model's order stands unchanged, and with no model vote the search's does, so each part alone is
what the ensemble gives where the other is silent. Why the search comes first: a program that fits
every train pair is right on most tasks where one exists (measured in docs/search.md), while a
model's top vote, unless most views agree on it, is often not.

The search gets the predict run's deadline (no later), and one worker fewer than the CPU cores, so
a core stays free to feed the model.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from arcsolve.data.tasks import Task
from arcsolve.predict.rank import RankedCandidate, RankedTable
from arcsolve.search.config import SearchOptions
from arcsolve.search.run import search_records
from arcsolve.submission.attempts import grid_key


class BackgroundSearch:
    """The search of `tasks` on worker processes, driven from a thread of this process (which only
    waits on pipes, so the model's threads keep the cores they had)."""

    def __init__(self, tasks: Sequence[Task], options: SearchOptions, deadline: float | None) -> None:
        """`deadline` is a `time.monotonic()` value (predict's clock) or None."""
        self.tasks = list(tasks)
        self.options = options
        self.records: list[dict[str, Any]] | None = None
        self.error: str | None = None
        self.started = time.monotonic()
        self.seconds = 0.0
        self._stop = threading.Event()
        until = None if deadline is None else time.perf_counter() + (deadline - time.monotonic())
        self._thread = threading.Thread(target=self._run, args=(until,), name="arcsolve-search", daemon=True)
        self._thread.start()

    def _run(self, until: float | None) -> None:
        try:
            workers = self.options.worker_count(spare=1)
            self.records = search_records(
                self.tasks, self.options, workers, until, should_stop=self._stop.is_set
            )
        except Exception as err:  # the search failing must not cost the model's answers
            self.error = f"{type(err).__name__}: {err}"
        self.seconds = time.monotonic() - self.started

    def stop(self) -> None:
        """Start no more tasks (those running finish within their time)."""
        self._stop.set()

    def wait(self) -> dict[str, dict[str, Any]]:
        """The records by task id, once the search is done ({} if it failed)."""
        self._thread.join()
        return {r["task_id"]: r for r in self.records or []}


def merge_candidates(
    model: list[RankedCandidate], answers: list[tuple[np.ndarray, str]], model_share: float
) -> list[RankedCandidate]:
    """One test input's merged order (the module docstring's rule). `answers` are (grid, program)."""
    votes = sum(c.votes for c in model)
    by_key = {grid_key(c.grid): c for c in model}
    search = []
    for grid, program in answers:
        known = by_key.get(grid_key(grid))
        if known is not None:
            search.append(
                RankedCandidate(
                    known.grid, known.votes, known.mean_confidence, known.poe_score, "search", program
                )
            )
        else:
            search.append(RankedCandidate(grid, 0, 0.0, None, "search", program))
    confident = bool(model) and (not search or model[0].votes >= model_share * votes > 0)
    order = search[:1] + (model[:1] if confident else []) + search[1:] + model
    merged, seen = [], set()
    for candidate in order:
        key = grid_key(candidate.grid)
        if key not in seen:
            seen.add(key)
            merged.append(candidate)
    return merged


def merge_search(
    ranked: RankedTable, tasks: Sequence[Task], records: dict[str, dict[str, Any]], model_share: float
) -> tuple[dict[str, int], frozenset[tuple[str, int]]]:
    """Merge every test input's search answers into `ranked` (in place); return how many inputs
    got their first candidate from the search, from the model, or from neither, and which inputs
    the search's answer leads."""
    counts = {"search": 0, "model": 0, "none": 0}
    led = set()
    for task in tasks:
        programs = (records.get(task.task_id) or {}).get("programs") or []
        for index in range(len(task.test_inputs)):
            answers = [(np.asarray(p["test_outputs"][index], dtype=np.uint8), p["text"]) for p in programs]
            merged = merge_candidates(ranked.candidates(task.task_id, index), answers, model_share)
            ranked.set(task.task_id, index, merged, ranked.poe_views(task.task_id, index))
            first = merged[0].source if merged else None
            counts["none" if first is None else "search" if first == "search" else "model"] += 1
            if first == "search":
                led.add((task.task_id, index))
    return counts, frozenset(led)


def finish_search(
    background: BackgroundSearch | None,
    ranked: RankedTable,
    tasks: Sequence[Task],
    model_share: float,
    until: float | None,
) -> tuple[dict[str, Any] | None, frozenset[tuple[str, int]]]:
    """Wait for the search (told to start nothing new once `until`, a `time.monotonic()` value, has
    passed: a stopped run), merge it into `ranked`; return what the predict summary says of it,
    and the inputs its answers lead."""
    if background is None:
        return None, frozenset()
    if until is not None and time.monotonic() >= until:
        background.stop()
    records = background.wait()
    first, led = merge_search(ranked, tasks, records, model_share)
    fitted = sum(1 for r in records.values() if r.get("programs"))
    seconds = round(background.seconds, 3)
    report = {"tasks_fitted": fitted, "seconds": seconds, "first_candidate": first, "error": background.error}
    return report, led


def search_line(search: dict[str, Any], tasks: int) -> str:
    first = search["first_candidate"]
    line = (
        f"search: {search['tasks_fitted']}/{tasks} task(s) fitted by a program in {search['seconds']:.1f} s; "
        f"first candidate from the search on {first['search']} input(s), the model on {first['model']}, "
        f"neither (fallbacks) on {first['none']}"
    )
    return line + (f" (search failed: {search['error']})" if search["error"] else "")
