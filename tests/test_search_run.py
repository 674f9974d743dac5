"""The search run: worker faults cost only their task, the submission is complete and valid,
test outputs are never read, same options give the same files, and the CLI."""

from __future__ import annotations

import numpy as np
import orjson
import pytest
from search_faults import misbehaving_solve
from typer.testing import CliRunner

from arcsolve.cli import app
from arcsolve.data.tasks import load_tasks
from arcsolve.errors import RunFailure
from arcsolve.search.config import SearchConfig, SearchOptions
from arcsolve.search.engine import SearchLimits
from arcsolve.search.ops import TaskView
from arcsolve.search.pool import Schedule, run_pool
from arcsolve.search.run import run_search
from arcsolve.submission import validate_submission


def flip_task(rng, n_train=3, shape=(4, 5)):
    pairs = []
    for _ in range(n_train + 1):
        grid = rng.integers(0, 6, shape, dtype=np.uint8)
        pairs.append({"input": grid.tolist(), "output": grid[:, ::-1].tolist()})
    return {"train": pairs[:-1], "test": pairs[-1:]}


def write_tasks(folder, tasks):
    folder.mkdir(parents=True, exist_ok=True)
    for task_id, task in tasks.items():
        (folder / f"{task_id}.json").write_bytes(orjson.dumps(task))
    return folder


@pytest.mark.slow
def test_worker_faults_cost_only_their_task():
    rng = np.random.default_rng(0)
    grid = rng.integers(0, 5, (3, 3), dtype=np.uint8)
    ids = ["ok_1", "raises", "killed", "hangs", "eats_memory", "ok_2"]
    views = [TaskView(i, (grid,), (grid.T.copy(),), (grid,)) for i in ids]
    records = {}
    schedule = Schedule(task_seconds=1.0, workers=2, kill_grace=1.0)
    limits = lambda s: SearchLimits(depth=1, seconds=s)  # noqa: E731
    never = run_pool(views, schedule, limits, records.__setitem__, 1024, solve=misbehaving_solve)
    assert never == [] and sorted(records) == list(range(len(ids)))
    status = {ids[i]: r["status"] for i, r in records.items()}
    assert status == {
        "ok_1": "solved",
        "raises": "error",
        "killed": "died",
        "hangs": "timeout",
        "eats_memory": "error",
        "ok_2": "solved",
    }
    assert "planted crash" in records[1]["reason"] and "out of memory" in records[4]["reason"]


def poisoned(task):
    """The same task with a wrong test output: the search must not notice."""
    task = dict(task)
    task["test"] = [{"input": t["input"], "output": [[9]]} for t in task["test"]]
    return task


@pytest.mark.slow
def test_run_is_complete_deterministic_and_never_reads_test_outputs(tmp_path):
    rng = np.random.default_rng(1)
    big = flip_task(rng, n_train=10, shape=(30, 30))
    bad = {"train": [{"input": [[1, 2], [3]], "output": [[1]]}], "test": [{"input": [[1]]}]}
    tasks = {"flip": flip_task(rng), "big_ten_pairs": big, "noise": flip_task(rng), "malformed": bad}
    tasks["noise"]["train"][0]["output"] = [[7]]  # no program can fit this one
    clean = write_tasks(tmp_path / "clean", tasks)
    dirty = write_tasks(tmp_path / "dirty", {k: poisoned(v) for k, v in tasks.items() if k != "malformed"})
    runs = {}
    for name, folder in (("clean", clean), ("again", clean), ("dirty", dirty)):
        out = str(tmp_path / "out" / name / "submission.json")
        cfg = SearchConfig(tasks=str(folder), out=out, options=SearchOptions(workers=2, depth=1))
        runs[name] = run_search(cfg)
    clean_run = runs["clean"]
    assert clean_run.bad and clean_run.bad[0].startswith("malformed")
    status = {r["task_id"]: r["status"] for r in clean_run.records}
    assert status == {"flip": "solved", "big_ten_pairs": "solved", "noise": "unsolved"}
    assert clean_run.score == pytest.approx(2 / 3)
    valid_tasks = load_tasks(str(dirty))
    assert validate_submission(tmp_path / "out" / "clean" / "submission.json", valid_tasks) == []
    files = {n: (tmp_path / "out" / n / "submission.json").read_bytes() for n in runs}
    assert files["clean"] == files["again"] == files["dirty"]
    logs = [[{k: v for k, v in r.items() if k != "seconds"} for r in run.records] for run in runs.values()]
    assert logs[0] == logs[1] == logs[2]


def test_search_command_writes_submission_and_log(tmp_path):
    rng = np.random.default_rng(2)
    folder = write_tasks(tmp_path / "tasks", {"a": flip_task(rng), "b": flip_task(rng)})
    out = tmp_path / "out" / "submission.json"
    result = CliRunner().invoke(
        app, ["search", str(folder), "--out", str(out), "--workers", "1", "--depth", "1"]
    )
    assert result.exit_code == 0, result.output
    assert "pass@2 task score 1.0000" in result.output
    lines = [orjson.loads(x) for x in (out.parent / "search.jsonl").read_bytes().splitlines()]
    assert [r["task_id"] for r in lines] == ["a", "b"]
    assert lines[0]["programs"][0]["text"] == "flip_horizontal(x)"
    assert lines[0]["programs"][0]["train_fit"] == 1.0
    gallery = tmp_path / "gallery.html"
    args = ["submission", "score", str(out), "--tasks", str(folder), "--html", str(gallery)]
    assert CliRunner().invoke(app, args).exit_code == 0
    assert "program: <code>flip_horizontal(x)</code>" in gallery.read_text()


def test_search_command_rejects_bad_options(tmp_path):
    result = CliRunner().invoke(
        app, ["search", "arc1:training", "--out", str(tmp_path / "s.json"), "--depth", "0"]
    )
    assert result.exit_code == 2 and "depth" in result.output


@pytest.mark.slow
def test_workers_that_cannot_start_fail_the_run_loudly(tmp_path):
    rng = np.random.default_rng(3)
    folder = write_tasks(tmp_path / "tasks", {"a": flip_task(rng)})
    out = tmp_path / "submission.json"
    cfg = SearchConfig(tasks=str(folder), out=str(out), options=SearchOptions(workers=1, memory_mb=1))
    with pytest.raises(RunFailure, match="keep dying before their first task"):
        run_search(cfg)
    assert validate_submission(out, load_tasks(str(folder))) == []  # the fallbacks stay on disk


def test_warm_up_compiles_every_search_kernel():
    """A kernel first compiled inside a timed task can outlast the task's time and get its worker
    killed, again and again: warm_up must reach every one (add a task to WARM_UP_TASKS if not)."""
    import importlib
    import pkgutil

    from numba.core.registry import CPUDispatcher

    import arcsolve.search as package
    from arcsolve.search.solve import warm_up

    warm_up()
    modules = [
        importlib.import_module(f"arcsolve.search.{m.name}") for m in pkgutil.iter_modules(package.__path__)
    ]
    inner = {"_mirror_of", "_spread"}  # called only from inside other kernels: compiled with them
    kernels = {
        f"{m.__name__}.{name}": obj
        for m in modules
        for name, obj in vars(m).items()
        if isinstance(obj, CPUDispatcher) and obj.__module__ == m.__name__ and name not in inner
    }
    assert len(kernels) >= 15 and [name for name, k in kernels.items() if not k.signatures] == []
