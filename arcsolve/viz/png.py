"""PNG pictures with matplotlib (the optional `arcsolve[viz]` extra), imported only when used.

Figures are built with the Agg canvas directly, never through pyplot, so drawing changes no global
matplotlib state and needs no display. A task picture is laid out in pixels by hand: every grid gets
an axes box of exactly `cell` pixels per cell, drawn as a nearest-neighbour image, so the pixel at a
cell's centre is exactly that cell's palette colour. The renderer returns the pixel box of each grid.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from arcsolve.errors import BadInputError
from arcsolve.io import atomic_write_bytes
from arcsolve.viz.palette import GRID_LINE, MARK_COLOURS, DrawnGrid, GridRow, GridView, palette_rgb
from arcsolve.viz.series import Panel, Series

# A power of two: W / DPI inches is exact in binary, so the saved image is exactly W x H pixels and
# the boxes we compute match the file to the pixel.
DPI = 128
CELL_MIN, CELL_MAX = 8, 32  # pixels per cell; 30x30 grids get the minimum
MARGIN = 16
HEADER = 36  # the task id line
LABEL = 36  # two caption lines above each grid
GAP_X = 24
ARROW_GAP = 40  # after the first grid of a row (input -> the rest)
GAP_Y = 24
MIN_SLOT = 120  # a grid narrower than its caption still gets this much room
MARK_PAD = 4  # the right/wrong frame sits this far outside the grid


def _pt(pixels: float) -> float:
    """Matplotlib sizes are in points; the layout is in pixels."""
    return pixels * 72.0 / DPI


def _matplotlib() -> tuple[Any, Any, Any]:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.patches import Rectangle
    except ImportError:
        raise BadInputError("matplotlib", "not installed: pip install 'arcsolve[viz]'") from None
    return Figure, FigureCanvasAgg, Rectangle


def cell_pixels(rows: Sequence[GridRow]) -> int:
    """Pixels per cell for a picture: as large as fits, so that a 30x30 grid stays 240 px wide."""
    side = max(max(view.grid.shape) for row in rows for view in row.views)
    return max(CELL_MIN, min(CELL_MAX, 256 // side))


def _layout(rows: Sequence[GridRow], cell: int) -> tuple[list[list[tuple[int, int]]], int, int]:
    """Top-left pixel of every grid (per row) and the figure's width and height."""
    positions: list[list[tuple[int, int]]] = []
    y = MARGIN + HEADER
    width = MARGIN * 2 + MIN_SLOT
    for row in rows:
        x = MARGIN
        grid_top = y + LABEL
        places = []
        for j, view in enumerate(row.views):
            places.append((x, grid_top))
            x += max(view.grid.shape[1] * cell, MIN_SLOT) + (ARROW_GAP if j == 0 else GAP_X)
        positions.append(places)
        width = max(width, x - GAP_X + MARGIN)
        y = grid_top + max(view.grid.shape[0] * cell for view in row.views) + GAP_Y
    return positions, width, y - GAP_Y + MARGIN


def render_task_png(title: str, rows: Sequence[GridRow], out: Path) -> list[DrawnGrid]:
    """Draw `rows` under `title` into the PNG `out` (atomically); return each grid's pixel box."""
    Figure, FigureCanvasAgg, Rectangle = _matplotlib()
    cell = cell_pixels(rows)
    positions, width, height = _layout(rows, cell)
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor="white")
    canvas = FigureCanvasAgg(fig)
    fig.text(MARGIN / width, 1 - MARGIN / height, title, va="top", ha="left", fontsize=_pt(18))
    colours = palette_rgb()
    placed = []
    for row, places in zip(rows, positions, strict=True):
        for j, (view, (left, top)) in enumerate(zip(row.views, places, strict=True)):
            h, w = view.grid.shape
            box = (left / width, 1 - (top + h * cell) / height, w * cell / width, h * cell / height)
            ax = fig.add_axes(box)
            ax.imshow(colours[view.grid], interpolation="nearest", extent=(0, w, h, 0), aspect="auto")
            ax.hlines(range(1, h), 0, w, colors=GRID_LINE, linewidth=_pt(1))
            ax.vlines(range(1, w), 0, h, colors=GRID_LINE, linewidth=_pt(1))
            ax.set_xlim(0, w)
            ax.set_ylim(h, 0)
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_color(GRID_LINE)
                spine.set_linewidth(_pt(1))
            _caption(fig, view, left, top, cell, Rectangle)
            if j == 0 and len(row.views) > 1:
                arrow_x = (left + max(w * cell, MIN_SLOT) + ARROW_GAP / 2) / width
                arrow_y = 1 - (top + h * cell / 2) / height
                fig.text(arrow_x, arrow_y, "\u2192", ha="center", va="center", fontsize=_pt(22))
            placed.append((view, ax))
    canvas.draw()
    drawn = []
    for view, ax in placed:
        h, w = view.grid.shape
        (x0, y0), (x1, y1) = ax.transData.transform([(0, 0), (w, h)])
        # Display coordinates grow upwards; image rows grow downwards.
        drawn.append(DrawnGrid(view, (float(x0), float(height - y0), float(x1), float(height - y1))))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    atomic_write_bytes(out, buffer.getvalue())
    return drawn


def _caption(fig: Any, view: GridView, left: int, top: int, cell: int, Rectangle: Any) -> None:
    """Role and size above the grid; for an attempt, the mark word and a coloured frame around it."""
    width, height = fig.bbox.width, fig.bbox.height  # pixels, exact at DPI
    label_top = top - LABEL
    fig.text(left / width, 1 - (label_top + 2) / height, view.role, va="top", fontsize=_pt(12))
    detail = view.size_text + (f"  {view.mark}" if view.mark else "")
    colour = MARK_COLOURS.get(view.mark or "", "#333333")
    fig.text(left / width, 1 - (label_top + 17) / height, detail, va="top", fontsize=_pt(12), color=colour)
    if view.mark:
        h, w = view.grid.shape
        frame = Rectangle(
            ((left - MARK_PAD) / width, 1 - (top + h * cell + MARK_PAD) / height),
            (w * cell + 2 * MARK_PAD) / width,
            (h * cell + 2 * MARK_PAD) / height,
            transform=fig.transFigure,
            fill=False,
            edgecolor=colour,
            linewidth=_pt(3),
        )
        fig.add_artist(frame)


def render_curves_png(title: str, panels: Sequence[Panel], out: Path) -> None:
    """One stacked panel per group of metrics, sharing the step axis; written atomically."""
    Figure, FigureCanvasAgg, _ = _matplotlib()
    fig = Figure(figsize=(10, 1 + 2.6 * len(panels)), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for ax, panel in zip(axes, panels, strict=True):
        lines = [_plot(ax, series, f"C{i}") for i, series in enumerate(panel.series)]
        if panel.log:
            ax.set_yscale("log")
        else:
            ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 4))
        if panel.right:
            twin = ax.twinx()
            offset = len(panel.series)
            lines += [_plot(twin, s, f"C{offset + i}", " (right axis)") for i, s in enumerate(panel.right)]
        ax.set_title(panel.title, loc="left", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(handles=lines, fontsize=8, loc="best")
    axes[-1].set_xlabel("step")
    fig.suptitle(title, fontsize=11)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", facecolor="white")
    atomic_write_bytes(out, buffer.getvalue())


def _plot(ax: Any, series: Series, colour: str, suffix: str = "") -> Any:
    marker = "o" if series.sparse else None
    (line,) = ax.plot(
        series.steps, series.values, color=colour, label=series.key + suffix, marker=marker, markersize=3
    )
    return line
