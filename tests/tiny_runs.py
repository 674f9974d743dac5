"""The one tiny trained run the tests share (session-scoped `tiny_trained` in tests/conftest.py):
predict, PoE, the Kaggle bundle and its runs all use it; tests that train for their own sake
(golden losses, resume, faults, learning, distributed) keep their own runs.

Canvas 5 (grids up to 4x4). The model trains on b_ovf, d_two and the three Kaggle test tasks of
tests/kaggle_support.py; the task folder to predict holds b_ovf, d_two, a_new (unknown) and c_big
(too big for the canvas).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
from kaggle_support import CHALLENGES, SOLUTIONS

from arcsolve.data.arc_builder import ArcBuildConfig, build_arc_dataset
from arcsolve.model.config import ModelConfig
from arcsolve.train.config import DataConfig, RunConfig, TrainConfig
from arcsolve.train.loop import run_train

CANVAS = 5

OVF_IN = [[1, 0, 2], [0, 1, 0], [2, 2, 1]]
OVF_OUT = [[3, 0, 2], [0, 3, 0], [2, 2, 3]]


def write_task(folder: Path, task_id: str, train: list, test: list) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{task_id}.json").write_bytes(orjson.dumps({"train": train, "test": test}))


def train_tiny_run(root: Path) -> tuple[Path, Path]:
    """(checkpoint run dir, task folder to predict). Trained on b_ovf and d_two; a_new and c_big are not.

    b_ovf (recolour 1 -> 3) has its test pair among its train pairs, so a tiny model overfits it.
    """
    rng = np.random.default_rng(0)

    def grid(h: int, w: int) -> list:
        return rng.integers(0, 10, (h, w)).tolist()

    ovf_train = [
        {"input": OVF_IN, "output": OVF_OUT},
        {"input": [[1, 1], [0, 2]], "output": [[3, 3], [0, 2]]},
        {"input": [[2, 1, 1], [1, 0, 0]], "output": [[2, 3, 3], [3, 0, 0]]},
    ]
    two = (
        [{"input": grid(2, 3), "output": grid(3, 2)} for _ in range(3)],
        [{"input": grid(2, 3), "output": grid(3, 2)} for _ in range(2)],
    )
    for folder in (root / "train_tasks", root / "tasks"):
        write_task(folder, "b_ovf", ovf_train, [{"input": OVF_IN, "output": OVF_OUT}])
        write_task(folder, "d_two", *two)
    for task_id, task in CHALLENGES.items():  # the Kaggle tests' tasks, so its bundle answers them
        test = [
            {"input": p["input"], "output": out}
            for p, out in zip(task["test"], SOLUTIONS[task_id], strict=True)
        ]
        write_task(root / "train_tasks", task_id, task["train"], test)
    write_task(
        root / "tasks", "a_new", [{"input": grid(3, 3), "output": grid(3, 3)}], [{"input": grid(3, 3)}]
    )
    write_task(
        root / "tasks", "c_big", [{"input": grid(3, 3), "output": grid(2, 2)}], [{"input": grid(8, 8)}]
    )
    build_arc_dataset(
        ArcBuildConfig(source=str(root / "train_tasks"), aug=1, canvas=CANVAS), root / "ds", progress=False
    )
    cfg = tiny_run_config(root / "ds", halt_max_steps=1, global_batch_size=12, max_steps=200, lr=2e-3)
    run_train(cfg, root / "run", progress=False)  # at conftest's pinned thread count
    return root / "run", root / "tasks"


def tiny_run_config(dataset: Path, halt_max_steps: int, **train) -> RunConfig:
    """One-layer hidden-64 TRM, AdamW without EMA, evaluated only at the end: the shape of the tests'
    small learning runs (this module's and tests/test_adapt.py's), with their own train settings."""
    model = ModelConfig(
        hidden_size=64, num_heads=2, num_layers=1, H_cycles=1, L_cycles=1, halt_max_steps=halt_max_steps,
        puzzle_emb_len=1,
    )  # fmt: skip
    settings = dict(optimizer="adamw", lr_warmup_steps=5, weight_decay=0.0, ema=False, eval_every=0,
                    log_every=50, device="cpu", compile="off")  # fmt: skip
    return RunConfig(
        data=DataConfig(path=str(dataset)), model=model, train=TrainConfig(**{**settings, **train})
    )
