"""`arcsolve quickstart`: the whole lifecycle on CPU in minutes, on bundled ARC-AGI-1 data.

1. the tiny config's tasks (ARC-AGI-1 training tasks whose grids fit its 8x8 canvas) are written to
   `OUT/tasks/` as task JSONs, a SOURCE any command accepts;
2. a tiny TRM trains on them (`OUT/run/`: config, metrics.jsonl, checkpoints), resuming if interrupted;
3. predict answers their test inputs with test-time augmentation voting into `OUT/submission.json`,
   while the program search runs on the other CPU cores; their answers are merged (predict --search);
4. the submission is validated and scored against the known test outputs, and the solved tasks are
   listed with who solved them (the search, with its program, or the model, with its votes).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import orjson

from arcsolve.data.tasks import load_tasks, task_to_json
from arcsolve.errors import RunFailure
from arcsolve.io import atomic_write_bytes
from arcsolve.paths import shipped_config
from arcsolve.predict.config import PredictConfig
from arcsolve.predict.run import run_predict
from arcsolve.search.config import SearchOptions
from arcsolve.submission import format_report, score_submission, validate_submission
from arcsolve.train.checkpoint import latest_checkpoint
from arcsolve.train.config import RunConfig, load_run_config
from arcsolve.train.loop import run_train

QUICKSTART_CONFIG = "quickstart.toml"
QUICKSTART_TASK_SECONDS = 3.0  # the search's time per task: most quickstart tasks need far less


@dataclass(frozen=True)
class QuickstartPaths:
    out: Path

    @property
    def tasks(self) -> Path:
        return self.out / "tasks"

    @property
    def run(self) -> Path:
        return self.out / "run"

    @property
    def submission(self) -> Path:
        return self.out / "submission.json"


def write_task_folder(cfg: RunConfig, folder: Path) -> int:
    """The tasks the config trains on, as `<task_id>.json` files with their test outputs."""
    recipe = cfg.data.arc
    assert recipe is not None, "the quickstart config names an ARC recipe"
    tasks = [t for t in load_tasks(recipe.source) if t.max_side() <= recipe.grid_limit()]
    for task in tasks:
        atomic_write_bytes(folder / f"{task.task_id}.json", orjson.dumps(task_to_json(task)))
    return len(tasks)


def run_quickstart(
    out: Path, overrides: list[str] | None = None, tta: int = 16, echo=print, progress: bool = True
) -> dict:
    paths = QuickstartPaths(Path(out))
    cfg = load_run_config(shipped_config(QUICKSTART_CONFIG), overrides or [])
    n_tasks = write_task_folder(cfg, paths.tasks)
    echo(
        f"tasks: {n_tasks} ARC-AGI-1 training tasks with grids up to {cfg.data.arc.grid_limit()} -> {paths.tasks}"
    )
    resume = latest_checkpoint(paths.run) is not None
    result = run_train(cfg, paths.run, resume=resume, progress=progress)
    echo(
        f"train: {result.get('step')} steps -> {paths.run} (eval exact accuracy {result.get('exact_accuracy', 0):.3f})"
    )

    predict_cfg = PredictConfig(
        checkpoint=str(paths.run),
        tasks=str(paths.tasks),
        out=str(paths.submission),
        tta=tta,
        search=True,
        # One search worker per core (not cores - 1): the model's views take seconds, the search minutes.
        search_options=SearchOptions(
            task_seconds=QUICKSTART_TASK_SECONDS, workers=len(os.sched_getaffinity(0))
        ),
        progress=progress,
    )
    predicted = run_predict(predict_cfg)
    for line in predicted.lines():
        echo(f"predict: {line}")

    tasks = load_tasks(str(paths.tasks))
    problems = validate_submission(paths.submission, tasks)
    if problems:  # the writer validates before writing, so this would be a bug of ours
        raise RunFailure(str(paths.submission), f"invalid submission: {problems[0]}")
    report = score_submission(paths.submission, tasks)
    echo(f"submission: {paths.submission} is valid for {len(tasks)} tasks")
    for line in format_report(report).splitlines():
        echo(f"score: {line}")
    for line in solved_lines(tasks, predicted.predictions_path):
        echo(f"solved: {line}")
    echo(
        f"next: arcsolve submission score {paths.submission} --tasks {paths.tasks} --verbose --html gallery.html"
    )
    return {"tasks": n_tasks, "train": result, "score": report.score, "paths": paths}


def solved_lines(tasks: list, predictions_path: Path) -> list[str]:
    """One line per test output the submission solved: task, input, and who proposed the right grid
    (the search and its program, the model and its votes, or both)."""
    records = {
        (r["task_id"], r["test_index"]): r
        for r in map(orjson.loads, Path(predictions_path).read_bytes().splitlines())
    }
    lines = []
    for task in tasks:
        for index, truth in enumerate(task.test_outputs or ()):
            candidates = records.get((task.task_id, index), {}).get("candidates", [])[:2]
            hit = next((c for c in candidates if c["grid"] == truth.tolist()), None)
            if hit is None:
                continue
            if hit.get("program"):
                who = f"search ({hit['program']})" + (
                    f" and model ({hit['votes']} votes)" if hit["votes"] else ""
                )
            else:
                who = f"model ({hit['votes']} votes)"
            lines.append(f"{task.task_id} test {index} by {who}")
    return lines or ["none (see the gallery for what each side proposed)"]
