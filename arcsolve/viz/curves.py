"""Training curves from a run's `metrics.jsonl`, as a PNG (matplotlib) or HTML (inline SVG).

Every line is a JSON object with an integer `step`; every other numeric key whose value changes is
a curve. Keys are grouped by name into panels (losses, accuracies, halting, learning rate, other)
that share one step axis. Keys that never change, the run's config and its evaluations are text
(`arcsolve/viz/run_header.py`): a header above the curves and, in the HTML, a table. The file may still be growing, so a line that does not decode (the half-written last
one, or a torn line left by a killed run that was later resumed) is skipped and counted, not an
error. When a resumed run logs a step again, the later value wins.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

from arcsolve.errors import BadInputError
from arcsolve.io import atomic_write_text, read_input_bytes
from arcsolve.viz.html import page
from arcsolve.viz.png import render_curves_png
from arcsolve.viz.run_header import RunHeader, is_constant, run_header
from arcsolve.viz.series import Panel, Series, thin

PANEL_ORDER = ("losses", "accuracies", "halting", "learning rate", "other")
SERIES_COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
# SVG panel geometry, in pixels.
WIDTH, HEIGHT = 860, 240
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 70, 56, 16, 34  # room for a right axis in every panel


@dataclass(frozen=True)
class ReportSummary:
    """What the report shows: panel title -> metric keys, the records read, the lines skipped, and
    the text header (constants, config, evaluations)."""

    panels: dict[str, list[str]]
    records: int
    skipped_lines: int
    last_step: int
    header: RunHeader


def read_metrics(path: Path) -> tuple[dict[str, Series], int, int]:
    """(series by key, records read, lines skipped) from a metrics JSONL file."""
    raw = read_input_bytes(path, "metrics.jsonl")
    points: dict[str, dict[int, float]] = {}
    records = skipped = 0
    for line in raw.splitlines():
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:  # JSONDecodeError, or bytes that are not UTF-8
            skipped += 1
            continue
        step = obj.get("step") if isinstance(obj, dict) else None
        if type(step) is not int:
            skipped += 1
            continue
        records += 1
        for key, value in obj.items():
            number = _finite_number(value)
            if key != "step" and number is not None:
                points.setdefault(key, {})[step] = number
    if records == 0:
        what = "empty file" if skipped == 0 else f"no readable metric lines ({skipped} unreadable)"
        raise BadInputError(str(path), f"{what}; nothing to plot yet")
    series = {}
    for key in sorted(points):
        steps = sorted(points[key])
        series[key] = Series(key, tuple(steps), tuple(points[key][s] for s in steps))
    return series, records, skipped


def _finite_number(value: object) -> float | None:
    """The value as a float when it is a finite number (not a bool, NaN or an int too big)."""
    if type(value) not in (int, float):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def panel_of(key: str) -> str:
    """The panel a metric key belongs to, from the last part of its name (`train/lm_loss` -> losses)."""
    name = key.rsplit("/", 1)[-1].lower()
    if "loss" in name:
        return "losses"
    if "halt" in name or name in ("steps", "num_steps", "act_steps"):
        return "halting"
    if "acc" in name:
        return "accuracies"
    if name in ("lr", "learning_rate") or name.startswith("lr_") or name.endswith("_lr"):
        return "learning rate"
    return "other"


def group_panels(series: dict[str, Series]) -> list[Panel]:
    grouped: dict[str, list[Series]] = {title: [] for title in PANEL_ORDER}
    for key, one in series.items():
        grouped[panel_of(key)].append(one)
    panels = []
    for title, members in grouped.items():
        if not members:
            continue
        right = [m for m in members if title == "halting" and m.key.lower().endswith("steps")]
        left = [m for m in members if m not in right]
        if not left:  # only step counts: they take the left axis
            left, right = right, []
        values = [v for s in left for v in s.values]
        log = title == "losses" and min(values) > 0 and max(values) >= 100 * min(values)
        panels.append(Panel(title, tuple(left), log, tuple(right)))
    return panels


def metrics_path(run_dir: Path) -> Path:
    """`RUN_DIR/metrics.jsonl`; a metrics file given directly is used as it is."""
    run_dir = Path(run_dir)
    return run_dir if run_dir.suffix == ".jsonl" and not run_dir.is_dir() else run_dir / "metrics.jsonl"


def render_report(run_dir: Path, out: Path) -> ReportSummary:
    """Draw the training curves of `run_dir` into `out` (.png or .html), atomically."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".png", ".html"):
        raise BadInputError(str(out), "unknown picture format: use a .png or .html file name")
    path = metrics_path(run_dir)
    series, records, skipped = read_metrics(path)
    if not series:
        raise BadInputError(str(path), "no numeric metrics besides 'step'; nothing to plot")
    header = run_header(series, path.parent)
    panels = group_panels({key: thin(one) for key, one in series.items() if not is_constant(one)})
    last_step = max(s.steps[-1] for s in series.values())
    title = f"training report: {path.parent.name or path.parent}"
    if suffix == ".png":
        if not panels:
            raise BadInputError(str(path), "no metric has changed yet; nothing to plot (try a .html report)")
        render_curves_png(f"{title} (last step {last_step})", panels, out)
    else:
        body = _report_body(title, panels, (records, skipped, last_step), header.html())
        atomic_write_text(out, page(title, body))
    return ReportSummary(
        {p.title: [s.key for s in p.all_series] for p in panels}, records, skipped, last_step, header
    )


def _report_body(title: str, panels: Sequence[Panel], counts: tuple[int, int, int], header: str) -> str:
    """The page: title, a note of the (records, skipped lines, last step), the header, the panels."""
    records, skipped, last_step = counts
    note = f"{records} records, last step {last_step}"
    if skipped:
        note += f"; {skipped} unreadable line(s) skipped"
    all_steps = [step for p in panels for s in p.all_series for step in s.steps] or [last_step]
    x_range = _padded(min(all_steps), max(all_steps))
    parts = [f"<h1>{escape(title)}</h1><p>{escape(note)}</p>{header}"]
    for panel in panels:
        parts.append(
            f'<section class="task panel" data-panel="{escape(panel.title)}"><h2>{escape(panel.title)}'
            f"{' (log scale)' if panel.log else ''}</h2>{_panel_svg(panel, x_range)}{_legend(panel)}</section>"
        )
    return "".join(parts)


def _padded(lo: float, hi: float) -> tuple[float, float]:
    if hi > lo:
        return lo, hi
    pad = abs(lo) * 0.05 or 1.0
    return lo - pad, hi + pad


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values inside [lo, hi], about `count` intervals apart: steps of 1, 2 or 5 times a
    power of ten."""
    raw = (hi - lo) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = math.ceil(lo / step - 1e-9)
    ticks = []
    k = first
    while k * step <= hi + step * 1e-9:
        ticks.append(k * step)
        k += 1
    return ticks


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _panel_svg(panel: Panel, x_range: tuple[float, float]) -> str:
    x_lo, x_hi = x_range
    inner_w = WIDTH - PAD_LEFT - PAD_RIGHT
    inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM

    def px(step: float) -> float:
        return PAD_LEFT + (step - x_lo) / (x_hi - x_lo) * inner_w

    parts = [
        f'<rect x="{PAD_LEFT}" y="{PAD_TOP}" width="{inner_w}" height="{inner_h}" fill="#fff" stroke="#999"/>'
    ]
    for tick in nice_ticks(x_lo, x_hi):
        x = px(tick)
        parts.append(
            f'<line x1="{x:.1f}" y1="{PAD_TOP}" x2="{x:.1f}" y2="{PAD_TOP + inner_h}" stroke="#eee"/>'
        )
        parts.append(
            f'<text x="{x:.1f}" y="{HEIGHT - 14}" text-anchor="middle" font-size="11">{_fmt(tick)}</text>'
        )
    parts.append(
        f'<text x="{WIDTH - PAD_RIGHT}" y="{HEIGHT - 2}" text-anchor="end" font-size="11">step</text>'
    )
    index = 0
    for side, members, log in (("left", panel.series, panel.log), ("right", panel.right, False)):
        if not members:
            continue
        ys = [math.log10(v) if log else v for s in members for v in s.values]
        y_lo, y_hi = _padded(min(ys), max(ys))
        py = _y_map(y_lo, y_hi, log)
        parts.append(_y_axis_svg(y_lo, y_hi, log, side))
        for series in members:
            parts.append(_series_svg(series, SERIES_COLOURS[index % len(SERIES_COLOURS)], px, py))
            index += 1
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}"'
        f' viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif">{"".join(parts)}</svg>'
    )


def _y_map(y_lo: float, y_hi: float, log: bool) -> Callable[[float], float]:
    """Value -> SVG y coordinate for an axis over [y_lo, y_hi] (in log10 units when `log`)."""
    inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    transform = math.log10 if log else float
    return lambda value: PAD_TOP + (y_hi - transform(value)) / (y_hi - y_lo) * inner_h


def _y_axis_svg(y_lo: float, y_hi: float, log: bool, side: str) -> str:
    """Tick labels (and, on the left, grid lines) for a y axis over [y_lo, y_hi] (log10 units if log)."""
    inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    # A log panel spans two decades or more, so whole powers of ten give at least two ticks.
    ticks = range(math.ceil(y_lo), math.floor(y_hi) + 1) if log else nice_ticks(y_lo, y_hi)
    parts = []
    for tick in ticks:
        y = PAD_TOP + (y_hi - tick) / (y_hi - y_lo) * inner_h
        label = _fmt(10**tick) if log else _fmt(tick)
        if side == "left":
            parts.append(
                f'<line x1="{PAD_LEFT}" y1="{y:.1f}" x2="{WIDTH - PAD_RIGHT}" y2="{y:.1f}" stroke="#eee"/>'
            )
            parts.append(
                f'<text x="{PAD_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{label}</text>'
            )
        else:
            x = WIDTH - PAD_RIGHT + 6
            parts.append(f'<text x="{x}" y="{y + 4:.1f}" text-anchor="start" font-size="11">{label}</text>')
    return "".join(parts)


def _series_svg(
    series: Series, colour: str, px: Callable[[float], float], py: Callable[[float], float]
) -> str:
    pairs = [(px(s), py(v)) for s, v in zip(series.steps, series.values, strict=True)]
    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in pairs)
    dots = ""
    if series.sparse:
        dots = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"/>' for x, y in pairs)
    return (
        f'<g class="series" data-key="{escape(series.key)}" data-points="{len(pairs)}">'
        f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.5"/>{dots}</g>'
    )


def _legend(panel: Panel) -> str:
    items = []
    for index, series in enumerate(panel.all_series):
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        last = f"{_fmt(series.values[-1])} at step {series.steps[-1]}"
        axis = " (right axis)" if series in panel.right else ""
        items.append(
            f'<li><span style="display:inline-block;width:12px;height:12px;background:{colour};'
            f'margin-right:6px"></span>{escape(series.key)}{axis}: {escape(last)}</li>'
        )
    return f'<ul style="list-style:none;padding:0;font-size:13px">{"".join(items)}</ul>'
