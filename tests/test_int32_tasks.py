"""Task indices are int32 everywhere (issue 26, item 4): predict adapts more than 32,767 unseen tasks
and every version stays on its own task (the int16 adaptation table overflowed at 32,768 tasks:
`table[:, 0] = len(ids)`)."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import numpy as np
import orjson
import pytest
from tiny_runs import tiny_run_config

from arcsolve.data.arc_builder import ArcBuildConfig, build_arc_dataset
from arcsolve.data.dataset import TokenDataset
from arcsolve.data.tasks import load_tasks
from arcsolve.predict.adapt import start_adaptation
from arcsolve.predict.config import AdaptConfig, PredictConfig
from arcsolve.predict.run import run_predict
from arcsolve.submission import validate_submission
from arcsolve.train.loop import run_train

NUM_TASKS = 32_770  # past int16's 32,767
CANVAS = 2


def write_challenges(path: Path, prefix: str, count: int, solutions: bool) -> None:
    """`count` 1x1 tasks: colour c -> (c + k) % 10 with k from the task's number."""
    challenges, answers = {}, {}
    for i in range(count):
        c, k = i % 10, 1 + i % 9
        pair = {"input": [[c]], "output": [[(c + k) % 10]]}
        challenges[f"{prefix}{i:05d}"] = {"train": [pair], "test": [{"input": [[(c + 1) % 10]]}]}
        answers[f"{prefix}{i:05d}"] = [[[(c + 1 + k) % 10]]]
    path.write_bytes(orjson.dumps(challenges))
    if solutions:
        path.with_name(path.name.replace("challenges", "solutions")).write_bytes(orjson.dumps(answers))


@pytest.mark.slow
def test_predict_adapts_more_than_32767_tasks_each_on_its_own_row(tmp_path):
    known, unseen = tmp_path / "known_challenges.json", tmp_path / "unseen_challenges.json"
    write_challenges(known, "k", 12, solutions=True)
    write_challenges(unseen, "u", NUM_TASKS, solutions=False)
    build_arc_dataset(
        ArcBuildConfig(source=str(known), aug=1, canvas=CANVAS), tmp_path / "ds", progress=False
    )
    assert TokenDataset.open(tmp_path / "ds").augmentations.dtype == np.int32
    cfg = tiny_run_config(tmp_path / "ds", halt_max_steps=1, global_batch_size=8, max_steps=1)
    run_train(cfg, tmp_path / "run", progress=False)

    out = tmp_path / "submission.json"
    cfg = PredictConfig(
        checkpoint=str(tmp_path / "run"), tasks=str(unseen), out=str(out), tta=1, batch_size=4096,
        adapt=AdaptConfig(steps=1, aug=0, batch_size=64),
    )  # fmt: skip
    results = []

    def keep_result(*args, **kwargs):
        results.append(start_adaptation(*args, **kwargs))
        return results[-1]

    with mock.patch("arcsolve.predict.budget.start_adaptation", keep_result):
        summary = run_predict(cfg)
    adapted, _ = results[0]
    assert summary.adapt is not None and summary.adapt.tasks == NUM_TASKS
    new_rows = adapted.aug_table[-NUM_TASKS:]
    assert adapted.aug_table.dtype == np.int32
    assert np.array_equal(new_rows[:, 0], 12 + np.arange(NUM_TASKS))  # no wrap past 32,767
    assert adapted.task_ids[int(new_rows[-1, 0])] == f"u{NUM_TASKS - 1:05d}"
    tasks = load_tasks(str(unseen))
    assert validate_submission(orjson.loads(out.read_bytes()), tasks) == []
