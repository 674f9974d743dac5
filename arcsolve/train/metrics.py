"""`metrics.jsonl`: one JSON object per logged step or evaluation, each with an integer `step`.

Lines are appended and flushed one at a time, so a reader (or `arcsolve report`) sees whole lines
plus, at worst, one partial last line while a run is writing. Live trackers (TensorBoard, W&B:
arcsolve/train/trackers.py) get each record after its line is written.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import orjson

from arcsolve.io import atomic_write_bytes
from arcsolve.train.trackers import Tracker


class MetricsLog:
    def __init__(self, path: Path, enabled: bool = True) -> None:
        self.path = Path(path)
        self.enabled = enabled
        self._handle = None
        self.trackers: list[Tracker] = []  # closed with the log
        if enabled:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = open(self.path, "ab")  # noqa: SIM115 - closed in close()

    def write(self, step: int, values: dict[str, Any]) -> None:
        if self._handle is None:
            return
        clean = {k: (float(v) if isinstance(v, float) and math.isfinite(v) else v) for k, v in values.items()}
        clean = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in clean.items()}
        self._handle.write(orjson.dumps({"step": int(step), **clean}) + b"\n")
        self._handle.flush()
        for tracker in self.trackers:
            tracker.write(int(step), values)

    def truncate_after(self, step: int) -> None:
        """On resume, drop lines logged after the checkpoint's step (they will be logged again)."""
        if not self.enabled or not self.path.exists():
            return  # under torchrun only rank 0 owns the file; another rank rewriting it would race
        kept = []
        for line in self.path.read_bytes().splitlines():
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue  # a partial line from a killed run
            if isinstance(record, dict) and int(record.get("step", 0)) <= step:
                kept.append(line)
        if self._handle is not None:
            self._handle.close()
        # Atomic: a kill while resuming must not leave the history emptied or cut in half.
        atomic_write_bytes(self.path, b"".join(line + b"\n" for line in kept))
        if self.enabled:
            self._handle = open(self.path, "ab")  # noqa: SIM115

    def close(self, failed: bool = False) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        for tracker in self.trackers:
            tracker.close(failed)
        self.trackers = []

    def __enter__(self) -> MetricsLog:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        self.close(failed=kind is not None)


def read_metrics(path: Path) -> list[dict[str, Any]]:
    """Every complete JSON line; a garbled or partial line (a run still writing) is skipped."""
    out = []
    for line in Path(path).read_bytes().splitlines():
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(record, dict) and "step" in record:
            out.append(record)
    return out
