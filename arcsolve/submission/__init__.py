"""Kaggle submission files: write (`writer`), check (`validate`) and score (`score`)."""

from arcsolve.submission.score import ScoreReport, TaskScore, format_report, score_submission
from arcsolve.submission.validate import (
    InvalidSubmissionError,
    require_valid_submission,
    validate_submission,
)
from arcsolve.submission.writer import (
    build_submission,
    fallback_submission,
    submission_bytes,
    write_fallback_submission,
    write_submission,
)

__all__ = [
    "InvalidSubmissionError",
    "ScoreReport",
    "TaskScore",
    "build_submission",
    "fallback_submission",
    "format_report",
    "require_valid_submission",
    "score_submission",
    "submission_bytes",
    "validate_submission",
    "write_fallback_submission",
    "write_submission",
]
