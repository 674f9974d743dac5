"""`PredictSummary`: what a predict run did, for the command line (`lines`) and predict_summary's
caller (`to_dict`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from arcsolve.predict.adapt import AdaptReport
from arcsolve.predict.ensemble import search_line
from arcsolve.predict.outcome import answered_line


@dataclass(frozen=True)
class PredictSummary:
    out: Path
    predictions_path: Path
    tasks: int
    test_inputs: int
    unknown_tasks: int  # not in the checkpoint and not adapted: answered with the blank task embedding
    skipped_inputs: int  # too big for the checkpoint's canvas: fallback attempts only
    views_planned: int
    views: int  # views answered (fewer than planned only when the time budget ran out)
    invalid_views: int  # predictions that decode to no valid grid (no vote)
    seconds: float  # the whole run, loading included
    model_seconds: float
    outside_model_fraction: float  # share of the view loop spent encoding, decoding, inverting, voting
    views_per_second: float  # over the view loop
    stopped_early: bool
    pass_at_k: dict[int, float] = field(default_factory=dict)  # ranked candidates only; {} if unknown
    score: float | None = None  # the written submission's score, when every task's outputs are known
    adapt: AdaptReport | None = None  # test-time adaptation of the unknown tasks, when asked for
    bad_tasks: int = 0  # tasks left out for failing validation (--skip-bad-tasks)
    rank: str = "votes"  # the --rank mode
    rank_seconds: float = 0.0  # re-ranking after the views (0 for votes)
    store_seconds: float = 0.0  # keeping log-probabilities in the view loop (0 for votes)
    store_mb: float = 0.0  # log-probabilities held at the end of the view loop (their peak)
    scored_inputs: int = 0  # test inputs ranked from their views (the others: by votes)
    search: dict[str, Any] | None = None  # --search: tasks fitted, seconds, first candidate's source
    search_answered: int = 0  # test inputs whose attempt 1 is a program's answer (--search)
    model_answered: int = 0  # test inputs whose attempt 1 is the model's (a view decoded to a valid grid)
    fallbacks: dict[str, int] = field(default_factory=dict)  # {outcome: test inputs holding fallbacks}

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "predictions_path": str(self.predictions_path),
            "tasks": self.tasks,
            "test_inputs": self.test_inputs,
            "unknown_tasks": self.unknown_tasks,
            "skipped_inputs": self.skipped_inputs,
            "views_planned": self.views_planned,
            "views": self.views,
            "invalid_views": self.invalid_views,
            "seconds": round(self.seconds, 3),
            "model_seconds": round(self.model_seconds, 3),
            "outside_model_fraction": round(self.outside_model_fraction, 4),
            "views_per_second": round(self.views_per_second, 2),
            "stopped_early": self.stopped_early,
            "pass_at_k": {str(k): v for k, v in self.pass_at_k.items()},
            "score": self.score,
            "adapt": None if self.adapt is None else asdict(self.adapt),
            "bad_tasks": self.bad_tasks,
            "rank": self.rank,
            "rank_seconds": round(self.rank_seconds, 3),
            "store_seconds": round(self.store_seconds, 3),
            "store_mb": round(self.store_mb, 2),
            "scored_inputs": self.scored_inputs,
            "search": self.search,
            "model_answered": self.model_answered,
            "fallbacks": self.fallbacks,
        }

    def lines(self) -> list[str]:
        """Human-readable report for the CLI."""
        lines = [
            f"{self.out}: {self.tasks} tasks, {self.test_inputs} test inputs "
            f"({self.unknown_tasks} task(s) answered with the blank embedding, "
            f"{self.skipped_inputs} input(s) too big for its canvas)",
            f"views: {self.views} of {self.views_planned} run, {self.views - self.invalid_views} decoded to a "
            f"valid grid ({self.invalid_views} did not), {self.views_per_second:.1f} views/s, "
            f"{self.outside_model_fraction:.1%} of the loop outside the model, "
            f"{self.seconds:.1f} s in all" + (" (time budget reached)" if self.stopped_early else ""),
            answered_line(self.model_answered, self.test_inputs, self.fallbacks, self.search_answered),
        ]
        if self.adapt is not None:
            lines.insert(1, self.adapt.line())
        if self.bad_tasks:
            lines.append(
                f"{self.bad_tasks} task(s) failed validation and were left out (see predict_summary.json)"
            )
        if self.rank != "votes":
            lines.append(
                f"rank {self.rank}: {self.scored_inputs} test input(s) scored over their views, "
                f"{self.store_mb:.2f} MB of log-probabilities, {self.store_seconds + self.rank_seconds:.2f} s"
            )
        if self.search is not None:
            lines.append(search_line(self.search, self.tasks))
        if self.pass_at_k:
            lines.append(f"{self.rank}: " + ", ".join(f"pass@{k} {v:.4f}" for k, v in self.pass_at_k.items()))
        if self.score is not None:
            lines.append(f"submission score: {self.score:.4f}")
        lines.append(f"predictions: {self.predictions_path}")
        return lines
