"""`arcsolve bench sudoku|maze`: generate the puzzles, train a TRM, evaluate it on the held-out split.

Everything goes through the ordinary training code: the config's `[data.sudoku]` / `[data.maze]`
recipe is built once into the recipe cache, `run_train` trains (with cheap evaluations on a subset of
the test split along the way, which make the accuracy-vs-steps curve), and the final weights (the EMA
weights when EMA is on) are then evaluated on the *whole* test split.

Two reference points come with every result:
- the copy-the-input baseline: exact and token accuracy of answering each puzzle with its own input
  tokens (sudoku: the givens are right, every blank is wrong; maze: everything but the path is
  right), so token accuracy has a floor to be read against;
- the setting's difficulty, read from the dataset's meta (mean blanks, mean path length), so a
  number is never quoted without the setting it was measured on.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import torch

import arcsolve
from arcsolve.constants import PAD_TOKEN
from arcsolve.data.dataset import TokenDataset
from arcsolve.errors import BadInputError, ConfigError, RunFailure
from arcsolve.io import atomic_write_bytes
from arcsolve.model.trm import TRM
from arcsolve.runtime import resolve_device, set_cpu_threads
from arcsolve.train.checkpoint import latest_checkpoint, load_checkpoint
from arcsolve.train.config import RunConfig, load_run_config
from arcsolve.train.data import open_dataset
from arcsolve.train.evaluate import evaluate_split
from arcsolve.train.loop import run_train
from arcsolve.train.metrics import read_metrics

BENCH_KINDS = ("sudoku", "maze")
_DIFFICULTY_KEYS = {"sudoku": "mean_blanks", "maze": "mean_path_length"}


@dataclass(frozen=True)
class CurvePoint:
    """One evaluation logged during training (on `count` test examples, often a subset)."""

    step: int
    exact_accuracy: float
    token_accuracy: float
    count: int


@dataclass
class BenchResult:
    kind: str
    config_path: Path
    run_dir: Path
    dataset_path: Path
    steps: int
    num_test: int  # examples in the final (full) evaluation
    exact_accuracy: float
    token_accuracy: float
    baseline_exact_accuracy: float  # copy-the-input
    baseline_token_accuracy: float
    curve: list[CurvePoint] = field(default_factory=list)
    setting: dict[str, Any] = field(default_factory=dict)  # recipe fields and difficulty stats
    seconds: dict[str, float] = field(default_factory=dict)  # wall: data, train, eval, total; cpu

    def lines(self) -> list[str]:
        """The human-readable report: the two headline lines first, then baseline, curve and timings."""
        out = [
            f"exact accuracy: {self.exact_accuracy:.4f}",
            f"token accuracy: {self.token_accuracy:.4f}",
            f"copy-input baseline: exact {self.baseline_exact_accuracy:.4f}, "
            f"token {self.baseline_token_accuracy:.4f}",
            f"{self.kind}: {_describe_setting(self.setting)}; {self.num_test} held-out test examples",
            f"steps {self.steps}; run {self.run_dir}; data {self.dataset_path}",
        ]
        if self.curve:
            out.append("eval curve (step: exact / token on n examples):")
            out += [
                f"  {p.step:>7}: {p.exact_accuracy:.4f} / {p.token_accuracy:.4f} (n={p.count})"
                for p in self.curve
            ]
        timing = ", ".join(f"{k} {v:.0f}s" for k, v in self.seconds.items())
        out.append(f"time: {timing}")
        return out

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("config_path", "run_dir", "dataset_path"):
            data[key] = str(data[key])
        return data


def _describe_setting(setting: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in setting.items())


def default_config(kind: str) -> Path:
    """The CPU config of a benchmark: `configs/<kind>-cpu.toml` of the source tree this package runs
    from (a checkout or an editable install), else of the current directory."""
    _check_kind(kind)
    name = f"{kind}-cpu.toml"
    candidates = [
        Path(arcsolve.__file__).resolve().parent.parent / "configs" / name,
        Path.cwd() / "configs" / name,
    ]
    for path in candidates:
        if path.is_file():
            return path
    tried = ", ".join(str(p) for p in candidates)
    raise BadInputError(name, f"default bench config not found (looked in {tried}); pass --config")


def _check_kind(kind: str) -> None:
    if kind not in BENCH_KINDS:
        raise BadInputError("bench", f"unknown benchmark {kind!r}; choose one of {', '.join(BENCH_KINDS)}")


def copy_input_baseline(inputs: np.ndarray, labels: np.ndarray, chunk: int = 65_536) -> tuple[float, float]:
    """(exact, token) accuracy of predicting each example's input tokens as its output.

    Same definitions as the model's metrics: positions whose label is PAD are not scored, token
    accuracy is the per-example fraction of scored positions right, averaged over examples, and
    examples with no scored position are left out.
    """
    exact = token = 0.0
    counted = 0
    if inputs.shape != labels.shape or inputs.ndim != 2:
        raise ValueError(f"inputs {inputs.shape} and labels {labels.shape} must both be [N, L]")
    for start in range(0, inputs.shape[0], chunk):
        guess = np.asarray(inputs[start : start + chunk])  # chunks keep a memmapped split out of RAM
        truth = np.asarray(labels[start : start + chunk])
        valid = truth != PAD_TOKEN
        num_valid = valid.sum(axis=1)
        right = (valid & (guess == truth)).sum(axis=1)
        keep = num_valid > 0
        exact += float((right[keep] == num_valid[keep]).sum())
        token += float((right[keep] / num_valid[keep]).sum())
        counted += int(keep.sum())
    if counted == 0:
        return 0.0, 0.0
    return exact / counted, token / counted


def eval_curve(metrics_path: Path) -> list[CurvePoint]:
    """The evaluations a run logged to metrics.jsonl, in step order (a resumed run's repeats dropped)."""
    if not metrics_path.exists():
        return []
    points: dict[int, CurvePoint] = {}
    for record in read_metrics(metrics_path):
        if "eval/exact_accuracy" not in record:
            continue
        step = int(record["step"])
        points[step] = CurvePoint(
            step,
            float(record["eval/exact_accuracy"]),
            float(record.get("eval/accuracy", float("nan"))),
            int(record.get("eval/count", 0)),
        )
    return [points[s] for s in sorted(points)]


def load_bench_config(
    kind: str, config_path: Path | None = None, overrides: Sequence[str] = ()
) -> tuple[Path, RunConfig]:
    """The resolved config for a benchmark; its [data] must be the matching recipe (or dataset)."""
    _check_kind(kind)
    path = Path(config_path) if config_path is not None else default_config(kind)
    cfg = load_run_config(path, list(overrides))
    recipe = cfg.data.recipe()
    if recipe is not None and recipe[0] != kind:
        raise ConfigError(str(path), f"[data.{recipe[0]}] is not a {kind} recipe; use a [data.{kind}] table")
    return path, cfg


def _final_weights(cfg: RunConfig, dataset: TokenDataset, run_dir: Path, device: torch.device) -> TRM:
    """The run's evaluation weights (EMA when on) from its latest checkpoint, ready for eval."""
    checkpoint = latest_checkpoint(run_dir)
    if checkpoint is None:
        raise RunFailure(str(run_dir), "training wrote no checkpoint to evaluate")
    payload = load_checkpoint(checkpoint, map_location=device)
    model = TRM(cfg.model, dataset.seq_len, dataset.vocab_size, dataset.num_puzzle_ids).to(device)
    model.load_state_dict(payload["eval_model"])
    return model.eval()


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_bench(
    kind: str,
    config_path: Path | None = None,
    out: Path | None = None,
    overrides: Sequence[str] = (),
    max_steps: int | None = None,
    progress: bool | None = None,
    echo: Callable[[str], None] | None = print,
) -> BenchResult:
    """Generate (or reuse) the benchmark data, train, evaluate on the whole test split, report.

    kind: "sudoku" or "maze". config_path: default `configs/<kind>-cpu.toml`. out: the run
    directory (default `runs/bench-<kind>-<timestamp>`). overrides: `--set` style `key=value`.
    max_steps: stop training early. The report goes line by line to `echo` (None: silent) and,
    as JSON, to `<out>/bench.json`.
    """
    started, cpu_started = time.perf_counter(), _cpu_seconds()
    path, cfg = load_bench_config(kind, config_path, overrides)
    if out is None:
        out = Path("runs") / f"bench-{kind}-{datetime.now():%Y%m%d-%H%M%S}"
    out = Path(out)

    dataset = open_dataset(cfg.data, progress=bool(progress))
    if dataset.kind != kind:
        raise ConfigError(str(path), f"the dataset at {dataset.path} is {dataset.kind}, not {kind}")
    test = dataset.split("test")
    data_done = time.perf_counter()
    if echo is not None:
        echo(
            f"{kind}: data {dataset.path} ({dataset.split('train').num_examples} train / "
            f"{test.num_examples} test examples); training into {out}"
        )

    metrics = run_train(cfg, out, max_steps=max_steps, progress=progress)
    train_done = time.perf_counter()

    subset = 0 < cfg.train.eval_max_examples < test.num_examples
    if subset or "exact_accuracy" not in metrics:
        device = resolve_device(cfg.train.device, "train.device")
        set_cpu_threads(cfg.train.cpu_threads)
        model = _final_weights(cfg, dataset, out, device)
        metrics = {
            "step": metrics.get("step", 0),
            **evaluate_split(model, test, cfg.train.global_batch_size, 0, device),
        }
    eval_done = time.perf_counter()

    baseline_exact, baseline_token = copy_input_baseline(test.inputs, test.labels)
    recipe = cfg.data.recipe()
    setting: dict[str, Any] = dict(asdict(recipe[1])) if recipe is not None else {"path": cfg.data.path}
    stats = dataset.meta.get(_DIFFICULTY_KEYS[kind])
    if isinstance(stats, dict):
        setting.update({f"{_DIFFICULTY_KEYS[kind]}_{k}": float(v) for k, v in stats.items()})
    result = BenchResult(
        kind=kind,
        config_path=path,
        run_dir=out,
        dataset_path=dataset.path,
        steps=int(metrics.get("step", 0)),
        num_test=int(metrics.get("count", test.num_examples)),
        exact_accuracy=float(metrics["exact_accuracy"]),
        token_accuracy=float(metrics["accuracy"]),
        baseline_exact_accuracy=baseline_exact,
        baseline_token_accuracy=baseline_token,
        curve=eval_curve(out / "metrics.jsonl"),
        setting=setting,
        seconds={
            "data": data_done - started,
            "train": train_done - data_done,
            "eval": eval_done - train_done,
            "total": time.perf_counter() - started,
            "cpu": _cpu_seconds() - cpu_started,
        },
    )
    atomic_write_bytes(out / "bench.json", orjson.dumps(result.to_json(), option=orjson.OPT_INDENT_2))
    if echo is not None:
        for line in result.lines():
            echo(line)
    return result
