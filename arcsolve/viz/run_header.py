"""The text part of `arcsolve report`: what does not change, and the evaluations, as words and a table.

A metric whose every logged value is the same (parameter counts, world size, total steps, a halting
accuracy pinned at 1.0) is not drawn as a flat line: it goes into the header with the run's config
summary (from `config.toml` beside `metrics.jsonl`, when present). The evaluations (`eval/*` keys)
become a table of step, exact accuracy and token accuracy, one row per evaluated step.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

from arcsolve.viz.series import Series

EXACT_KEY = "eval/exact_accuracy"
TOKEN_KEY = "eval/accuracy"


@dataclass(frozen=True)
class EvalRow:
    step: int
    exact: float | None
    token: float | None


@dataclass(frozen=True)
class RunHeader:
    constants: dict[str, float]  # metric key -> its one value (eval keys are in the table instead)
    evals: tuple[EvalRow, ...]
    config: tuple[str, ...]  # config summary lines; () without a config.toml

    def lines(self) -> list[str]:
        """The header as text: config, constants, then the evaluation table."""
        lines = list(self.config)
        if self.constants:
            lines.append("constant: " + ", ".join(f"{k} {_number(v)}" for k, v in self.constants.items()))
        if self.evals:
            lines.append(f"{'step':>8}  {'exact':>7}  {'token acc':>9}")
            lines.extend(f"{r.step:>8}  {_cell(r.exact):>7}  {_cell(r.token):>9}" for r in self.evals)
        return lines

    def html(self) -> str:
        parts = []
        if self.config:
            parts.append("<h2>run</h2><ul>" + "".join(f"<li>{escape(c)}</li>" for c in self.config) + "</ul>")
        if self.constants:
            items = "".join(f"<li>{escape(k)}: {escape(_number(v))}</li>" for k, v in self.constants.items())
            parts.append(f'<h2>constant over the run</h2><ul class="constants">{items}</ul>')
        if self.evals:
            rows = "".join(
                f"<tr><td>{r.step}</td><td>{_cell(r.exact)}</td><td>{_cell(r.token)}</td></tr>"
                for r in self.evals
            )
            head = "<tr><th>step</th><th>exact accuracy</th><th>token accuracy</th></tr>"
            parts.append(f'<h2>evaluations</h2><table class="evals">{head}{rows}</table>')
        return "".join(parts)


def is_constant(series: Series) -> bool:
    """Every logged value is the same: nothing a curve could show."""
    return len(set(series.values)) <= 1


def run_header(series: dict[str, Series], run_dir: Path) -> RunHeader:
    """The header of the series in `series` that never change, their evaluations, and the config."""
    constants = {
        key: one.values[0] for key, one in series.items() if is_constant(one) and not key.startswith("eval/")
    }
    return RunHeader(constants, eval_rows(series), config_summary(run_dir / "config.toml"))


def eval_rows(series: dict[str, Series]) -> tuple[EvalRow, ...]:
    """One row per step with an exact or token accuracy evaluation, in step order."""
    exact, token = series.get(EXACT_KEY), series.get(TOKEN_KEY)
    by_step = {}
    for one in (exact, token):
        if one is not None:
            by_step.update(dict.fromkeys(one.steps))
    lookup = [dict(zip(s.steps, s.values, strict=True)) if s else {} for s in (exact, token)]
    return tuple(EvalRow(step, lookup[0].get(step), lookup[1].get(step)) for step in sorted(by_step))


def config_summary(path: Path) -> tuple[str, ...]:
    """A few lines naming the data, model and training recipe of a run's config.toml; () without one."""
    try:
        config = tomllib.loads(path.read_text())
    except (OSError, ValueError):  # no config (a metrics file given alone) or one we cannot read
        return ()
    data, model, train = (config.get(k, {}) for k in ("data", "model", "train"))
    recipe = next((v for v in data.values() if isinstance(v, dict)), {})
    data_fields = _fields(recipe, ("source", "canvas", "aug")) or f"path {data.get('path')}"
    return (
        f"data: {data_fields}",
        "model: " + _fields(model, ("variant", "hidden_size", "num_layers", "H_cycles", "L_cycles")),
        "train: "
        + _fields(train, ("global_batch_size", "max_steps", "lr", "puzzle_emb_lr", "lr_warmup_steps")),
    )


def _fields(section: dict[str, Any], keys: tuple[str, ...]) -> str:
    return ", ".join(f"{k} {section[k]}" for k in keys if k in section)


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:.4g}"


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
