"""Where the shipped configs are: `configs/` of a source checkout (or editable install), else the copy
a wheel install puts under `<prefix>/share/arcsolve/configs` (see pyproject's data-files)."""

from __future__ import annotations

import sys
from pathlib import Path

from arcsolve.errors import BadInputError


def shipped_config(name: str) -> Path:
    candidates = [
        Path(__file__).resolve().parent.parent / "configs" / name,
        Path(sys.prefix) / "share" / "arcsolve" / "configs" / name,
    ]
    for path in candidates:
        if path.is_file():
            return path
    raise BadInputError(name, "shipped config not found (looked in configs/ and share/arcsolve/configs)")
