"""The data of a metrics plot: one `Series` per metric key and the `Panel`s that group them; drawn as
SVG by `arcsolve/viz/curves.py` and as PNG by `arcsolve/viz/png.py`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MARKERS_UP_TO = 40  # draw a dot per point for sparse series (eval runs every few thousand steps)
MAX_POINTS = 1500  # per drawn curve: about two per pixel of the plot's width


@dataclass(frozen=True)
class Series:
    key: str
    steps: tuple[int, ...]
    values: tuple[float, ...]

    @property
    def sparse(self) -> bool:
        """Few enough points (eval runs, single points) that each is drawn as a dot too."""
        return len(self.steps) <= MARKERS_UP_TO


def thin(series: Series, limit: int = MAX_POINTS) -> Series:
    """At most about `limit` points: per bucket of consecutive points, the lowest and the highest
    (in step order), so spikes survive; the first and last points always stay."""
    n = len(series.steps)
    if n <= limit:
        return series
    values = np.asarray(series.values)
    keep = {0, n - 1}
    edges = np.linspace(0, n, limit // 2 + 1).astype(int)
    for start, stop in zip(edges[:-1], edges[1:], strict=True):
        if stop > start:
            chunk = values[start:stop]
            keep.update((start + int(chunk.argmin()), start + int(chunk.argmax())))
    order = sorted(keep)
    return Series(series.key, tuple(series.steps[i] for i in order), tuple(series.values[i] for i in order))


@dataclass(frozen=True)
class Panel:
    title: str
    series: tuple[Series, ...]  # on the left y axis
    log: bool  # log left axis: positive values spanning two decades or more
    # On a second, linear axis at the right: ACT step counts (up to 16) beside rates in 0..1, which
    # would otherwise be flattened to a line at the bottom.
    right: tuple[Series, ...] = ()

    @property
    def all_series(self) -> tuple[Series, ...]:
        return self.series + self.right
