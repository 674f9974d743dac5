"""Prediction: the view planner, the config, and the whole pipeline on a tiny trained checkpoint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest
import torch
from tiny_runs import CANVAS, OVF_OUT

from arcsolve.augment import decode_views, unpack_views
from arcsolve.data.tasks import Task, load_tasks
from arcsolve.errors import BadInputError, ConfigError
from arcsolve.predict.config import AdaptConfig, PredictConfig
from arcsolve.predict.outcome import answered_line
from arcsolve.predict.run import run_predict
from arcsolve.predict.views import encode_plan_rows, known_versions, plan_views
from arcsolve.runtime import resolve_device
from arcsolve.submission import fallback_submission, submission_bytes, validate_submission
from arcsolve.train.checkpoint import load_checkpoint

IDENTITY = list(range(10))


def g(rows) -> np.ndarray:
    return np.array(rows, dtype=np.uint8)


def make_task(task_id: str, tests, outputs=None) -> Task:
    return Task(
        task_id=task_id,
        train_pairs=((g([[1]]), g([[2]])),),
        test_inputs=tuple(g(t) for t in tests),
        test_outputs=None if outputs is None else tuple(g(o) for o in outputs),
        origin="test",
    )


# A hand-made augmentation table: row = (task index, dihedral, colour map). k1's identity is not its
# first row, to check that the planner puts it first anyway.
MAP_A = [0, 2, 1, 3, 4, 5, 6, 7, 8, 9]
MAP_B = [0, 9, 8, 7, 6, 5, 4, 3, 2, 1]
TABLE = np.array(
    [
        [-1, 0, *IDENTITY],
        [0, 3, *MAP_A],
        [0, 0, *IDENTITY],
        [1, 0, *IDENTITY],
        [0, 5, *MAP_B],
        [1, 2, *MAP_A],
    ],
    dtype=np.int16,
)
TRAINED = ["k1", "k2"]


def plan_tasks() -> list[Task]:
    return [
        make_task("k1", [[[1, 2, 3]]]),
        make_task("u", [[[1, 2], [3, 4], [5, 6]]]),
        make_task("k2", [[[4, 4], [0, 1]], [[7]]]),
    ]


def rows_of(plan, task_index: int, test_index: int) -> np.ndarray:
    picked = np.flatnonzero((plan.task_index == task_index) & (plan.test_index == test_index))
    return picked[np.argsort(plan.rank[picked])]


def test_known_versions_puts_identity_first():
    versions = known_versions(TABLE, TRAINED)
    assert versions["k1"].tolist()[0] == 2 and sorted(versions["k1"].tolist()) == [1, 2, 4]
    assert versions["k2"].tolist() == [3, 5]


def test_known_task_uses_its_versions_identity_first():
    tasks = plan_tasks()
    plan = plan_views(tasks, 3, seed=0, canvas=CANVAS, aug_table=TABLE, trained_task_ids=TRAINED)
    k1 = rows_of(plan, 0, 0)
    assert plan.puzzle_ids[k1][0] == 2 and sorted(plan.puzzle_ids[k1].tolist()) == [1, 2, 4]
    for row in k1:  # each view carries its own version's transform
        assert plan.dihedrals[row] == TABLE[plan.puzzle_ids[row], 1]
        assert plan.colour_maps[row].tolist() == TABLE[plan.puzzle_ids[row], 2:].tolist()
    for test in (0, 1):  # only two versions exist, so two views however many were asked for
        assert plan.puzzle_ids[rows_of(plan, 2, test)].tolist() == [3, 5]
    assert plan.unknown == ("u",) and plan.skipped == ()


def test_unknown_task_uses_blank_id_and_identity_first():
    tasks = plan_tasks()
    plan = plan_views(tasks, 4, seed=0, canvas=CANVAS, aug_table=TABLE, trained_task_ids=TRAINED)
    u = rows_of(plan, 1, 0)
    assert len(u) == 4 and (plan.puzzle_ids[u] == 0).all()
    assert plan.dihedrals[u[0]] == 0 and plan.colour_maps[u[0]].tolist() == IDENTITY
    views = {(int(plan.dihedrals[r]), plan.colour_maps[r].tobytes()) for r in u}
    assert len(views) == 4  # distinct augmentations: a repeated view would only repeat a vote
    assert (plan.colour_maps[u][:, 0] == 0).all()  # black stays black, as in training
    adapted = plan_views(tasks, 4, 0, CANVAS, TABLE, TRAINED, fallback_ids={"u": 5})
    assert (adapted.puzzle_ids[rows_of(adapted, 1, 0)] == 5).all()


def test_plan_sizes_and_rank_major_order():
    plan = plan_views(plan_tasks(), 3, seed=1, canvas=CANVAS, aug_table=TABLE, trained_task_ids=TRAINED)
    assert len(plan) == 3 + 3 + 2 * 2
    assert (np.diff(plan.rank) >= 0).all()  # every input's view 0, then every view 1, ...
    first = plan.rank == 0
    assert plan.grid_index[first].tolist() == [0, 1, 2, 3]  # test inputs in source order
    assert (plan.dihedrals[first] == 0).all() and (plan.colour_maps[first] == np.arange(10)).all()
    for t, task in enumerate(plan_tasks()):
        for i in range(len(task.test_inputs)):
            assert plan.rank[rows_of(plan, t, i)].tolist() == list(range(len(rows_of(plan, t, i))))
    empty = plan_views([], 3, 0, CANVAS)
    assert len(empty) == 0 and empty.colour_maps.shape == (0, 10) and empty.inputs is None


def test_plan_is_deterministic_and_per_task():
    tasks = plan_tasks()
    a = plan_views(tasks, 4, 7, CANVAS, TABLE, TRAINED)
    b = plan_views(tasks, 4, 7, CANVAS, TABLE, TRAINED)
    for field in ("task_index", "test_index", "grid_index", "rank", "puzzle_ids", "dihedrals", "colour_maps"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    other_seed = plan_views(tasks, 4, 8, CANVAS, TABLE, TRAINED)
    assert not np.array_equal(a.colour_maps, other_seed.colour_maps)
    alone = plan_views([tasks[1]], 4, 7, CANVAS, TABLE, TRAINED)  # u's views do not depend on its neighbours
    u = rows_of(a, 1, 0)
    assert np.array_equal(alone.colour_maps, a.colour_maps[u]) and np.array_equal(
        alone.dihedrals, a.dihedrals[u]
    )


def test_subset_keeps_rows_and_inputs():
    plan = plan_views(plan_tasks(), 3, 0, CANVAS, TABLE, TRAINED)
    part = plan.subset(slice(2, 5))
    assert len(part) == 3 and part.inputs is plan.inputs and part.unknown == plan.unknown
    assert np.array_equal(part.colour_maps, plan.colour_maps[2:5])
    assert np.array_equal(part.puzzle_ids, plan.puzzle_ids[2:5])


def test_inputs_too_big_for_the_canvas_get_no_views():
    big = np.zeros((CANVAS + 1, 2), dtype=np.uint8)
    tasks = [make_task("mixed", [big, [[1, 2]]]), make_task("huge", [big])]
    plan = plan_views(tasks, 2, 0, CANVAS)
    assert plan.skipped == (("mixed", 0), ("huge", 0))
    assert set(plan.task_index.tolist()) == {0} and set(plan.test_index.tolist()) == {1}
    assert plan.grid_index.tolist() == [1, 1]  # global index: huge's input would be 2
    side = plan_views([make_task("edge", [np.ones((CANVAS, CANVAS), np.uint8)])], 1, 0, CANVAS)
    assert len(side) == 1 and side.skipped == ()  # a grid as wide as the canvas fits (no EOS border)


def test_encoded_views_decode_back_to_the_test_inputs():
    tasks = plan_tasks()
    plan = plan_views(tasks, 4, 3, CANVAS, TABLE, TRAINED)
    rows = np.arange(len(plan))
    tokens = encode_plan_rows(plan, rows, CANVAS)
    assert tokens.shape == (len(plan), CANVAS * CANVAS) and tokens.dtype == np.uint8
    decoded = unpack_views(*decode_views(tokens, CANVAS, plan.dihedrals, plan.colour_maps))
    for row, grid in zip(rows, decoded, strict=True):
        expected = tasks[plan.task_index[row]].test_inputs[plan.test_index[row]]
        assert np.array_equal(grid, expected)
    # a non-identity view really is transformed (otherwise the round trip proves nothing)
    assert any(not np.array_equal(tokens[r], tokens[plan.rank == 0][0]) for r in rows_of(plan, 0, 0)[1:])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tta": 0}, "tta"),
        ({"batch_size": -1}, "batch_size"),
        ({"attempts": 0}, "attempts"),
        ({"seed": -1}, "seed"),
        ({"device": "tpu"}, "device"),
        ({"time_budget": -1.0}, "time_budget"),
        ({"time_budget": float("nan")}, "time_budget"),
        ({"tasks": " "}, "tasks"),
        ({"predictions_path": "sub.json"}, "predictions_path"),
        ({"out": "predictions.jsonl"}, "predictions_path"),
    ],
)
def test_config_errors_name_the_field(change, field):
    """run_predict's check (arcsolve.config.checked): types and choices, then validate()'s ranges."""
    from arcsolve.config import checked

    base = {"checkpoint": "ck.pt", "tasks": "arc1:training", "out": "sub.json"}
    with pytest.raises(ConfigError, match=field):
        checked(PredictConfig(**{**base, **change}), "predict")


def test_config_defaults():
    cfg = PredictConfig(checkpoint="c.pt", tasks="x", out="/tmp/a/sub.json")
    cfg.validate()
    assert cfg.predictions_file() == Path("/tmp/a/predictions.jsonl") and cfg.attempts == 2


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_a_gpu_is_a_bad_input():
    with pytest.raises(BadInputError, match="cuda"):
        resolve_device("cuda")


# --- the pipeline on a tiny trained checkpoint ------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tiny_trained) -> tuple[Path, Path]:
    """(run dir, task folder): the session's shared tiny run (tests/tiny_runs.py)."""
    return tiny_trained


def predict(trained, out: Path, checkpoint_path: str | None = None, **changes):
    run, tasks = trained
    checkpoint = checkpoint_path or str(run)
    cfg = PredictConfig(checkpoint=checkpoint, tasks=str(tasks), out=str(out), tta=4, device="cpu", **changes)
    return run_predict(cfg)


def read_jsonl(path: Path) -> list[dict]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_submission_is_complete_ordered_and_reproducible(trained, tmp_path):
    summary = predict(trained, tmp_path / "a" / "submission.json", attempts=3)
    again = predict(trained, tmp_path / "b" / "submission.json", attempts=3)
    tasks = load_tasks(str(trained[1]))
    first = (tmp_path / "a" / "submission.json").read_bytes()
    assert first == (tmp_path / "b" / "submission.json").read_bytes()
    submission = orjson.loads(first)
    assert validate_submission(submission, tasks) == []
    assert list(submission) == ["a_new", "b_ovf", "c_big", "d_two"]
    assert [len(submission[t.task_id]) for t in tasks] == [1, 1, 1, 2]
    records = read_jsonl(summary.predictions_path)
    assert summary.predictions_path == tmp_path / "a" / "predictions.jsonl"
    assert [(r["task_id"], r["test_index"]) for r in records] == [
        ("a_new", 0),
        ("b_ovf", 0),
        ("c_big", 0),
        ("d_two", 0),
        ("d_two", 1),
    ]
    for record in records:  # attempt_1 is the most voted grid wherever the model produced one
        entry = submission[record["task_id"]][record["test_index"]]
        if record["candidates"]:
            assert entry["attempt_1"] == record["candidates"][0]["grid"]
        assert (
            record["votes"] + record["invalid"]
            == {"a_new": 4, "b_ovf": 2, "c_big": 0, "d_two": 2}[record["task_id"]]
        )
    # a_new: 4 distinct random views of an unknown task; b_ovf and d_two: their 2 trained versions
    assert (summary.tasks, summary.test_inputs, summary.unknown_tasks, summary.skipped_inputs) == (4, 5, 1, 1)
    assert summary.views == summary.views_planned == 4 + 2 + 2 * 2 and not summary.stopped_early
    assert 0 <= summary.invalid_views <= summary.views and summary.views_per_second > 0
    assert 0 < summary.outside_model_fraction < 1
    assert set(summary.pass_at_k) == {1, 2, 3} and summary.score is None  # a_new's output is unknown
    assert summary.to_dict()["views"] == summary.views and any("views" in line for line in summary.lines())
    assert read_jsonl(tmp_path / "b" / "predictions.jsonl") == records
    assert again.pass_at_k == summary.pass_at_k and again.invalid_views == summary.invalid_views
    written = orjson.loads((tmp_path / "a" / "predict_summary.json").read_bytes())
    assert (summary.model_answered, summary.fallbacks) == (written["model_answered"], written["fallback"])
    assert summary.model_answered + sum(summary.fallbacks.values()) == 5
    assert summary.fallbacks.get("too big for the canvas") == 1  # c_big's one input
    valid = summary.views - summary.invalid_views
    assert f"views: 10 of 10 run, {valid} decoded to a valid grid ({summary.invalid_views} did not)" in (
        "\n".join(summary.lines())
    )


def test_answered_line_names_the_fallbacks_and_why():
    assert answered_line(5, 5, {}) == "inputs: 5 of 5 answered by the model"
    line = answered_line(0, 81, {"too big for the canvas": 3, "no valid prediction": 78})
    assert line == (
        "inputs: 0 of 81 answered by the model; 81 hold fallback attempts "
        "(78 no valid prediction, 3 too big for the canvas)"
    )


def test_overfit_task_is_answered_by_attempt_1(trained, tmp_path):
    summary = predict(trained, tmp_path / "submission.json")
    submission = orjson.loads((tmp_path / "submission.json").read_bytes())
    assert submission["b_ovf"][0]["attempt_1"] == OVF_OUT
    assert summary.pass_at_k[1] == pytest.approx(1 / 2)  # b_ovf solved, d_two (random grids) not


def test_input_too_big_for_the_canvas_gets_fallback_attempts(trained, tmp_path):
    predict(trained, tmp_path / "submission.json")
    submission = orjson.loads((tmp_path / "submission.json").read_bytes())
    tasks = load_tasks(str(trained[1]))
    big = submission["c_big"][0]
    assert big == fallback_submission(tasks)["c_big"][0] and big["attempt_1"] != big["attempt_2"]


def test_spent_time_budget_still_gives_a_valid_submission(trained, tmp_path):
    summary = predict(trained, tmp_path / "submission.json", time_budget=1e-9)
    tasks = load_tasks(str(trained[1]))
    assert summary.stopped_early and summary.views == 0
    assert (tmp_path / "submission.json").read_bytes() == submission_bytes(fallback_submission(tasks))


def test_a_bad_checkpoint_leaves_the_fallback_submission(trained, tmp_path):
    _, tasks_dir = trained
    out = tmp_path / "submission.json"
    cfg = PredictConfig(checkpoint=str(tmp_path / "missing.pt"), tasks=str(tasks_dir), out=str(out))
    with pytest.raises(BadInputError, match="missing.pt"):
        run_predict(cfg)
    assert validate_submission(orjson.loads(out.read_bytes()), load_tasks(str(tasks_dir))) == []


def test_a_checkpoint_of_another_kind_is_refused(trained, tmp_path):
    payload = load_checkpoint(trained[0])
    payload["dataset"]["kind"] = "sudoku"
    torch.save(payload, tmp_path / "sudoku.pt")
    with pytest.raises(BadInputError, match="sudoku"):
        predict(trained, tmp_path / "submission.json", checkpoint_path=str(tmp_path / "sudoku.pt"))


# --- --rank votes | poe | hybrid -------------------------------------------------------------------


@pytest.mark.parametrize("rank", ["votes", "poe", "hybrid"])
def test_every_rank_mode_gives_a_valid_reproducible_submission(trained, tmp_path, rank):
    summary = predict(trained, tmp_path / "a" / "submission.json", rank=rank, poe_views=3)
    predict(trained, tmp_path / "b" / "submission.json", rank=rank, poe_views=3)
    first = (tmp_path / "a" / "submission.json").read_bytes()
    assert first == (tmp_path / "b" / "submission.json").read_bytes()
    submission = orjson.loads(first)
    assert validate_submission(submission, load_tasks(str(trained[1]))) == []
    assert submission["b_ovf"][0]["attempt_1"] == OVF_OUT
    records = read_jsonl(summary.predictions_path)
    assert read_jsonl(tmp_path / "b" / "predictions.jsonl") == records
    assert [r["rank"] for r in records] == [rank] * 5 and summary.rank == rank
    # views kept per input: a_new (unknown, blank embedding) 3 of its 4, b_ovf and d_two their 2
    kept = {"a_new": 3, "b_ovf": 2, "c_big": 0, "d_two": 2}
    for record in records:
        candidates = record["candidates"]
        entry = submission[record["task_id"]][record["test_index"]]
        if candidates:
            assert entry["attempt_1"] == candidates[0]["grid"]
        scores = [c["poe_score"] for c in candidates if c["poe_score"] is not None]
        if rank == "votes":
            assert record["poe_views"] == 0 and not scores
            continue
        assert record["poe_views"] == kept[record["task_id"]]
        # every candidate is scored here; an input without a valid vote gets its PoE argmax grid
        assert len(scores) == len(candidates) and (len(candidates) > 0) == (record["poe_views"] > 0)
        if rank == "poe":
            assert scores == sorted(scores, reverse=True)
    assert summary.scored_inputs == (0 if rank == "votes" else 4)
    assert (summary.store_mb > 0) == (rank != "votes")


def test_ranking_fits_the_time_budget_and_adapted_tasks_are_ranked(trained, tmp_path):
    adapt = AdaptConfig(steps=2, aug=3, batch_size=4)
    summary = predict(trained, tmp_path / "submission.json", rank="hybrid", time_budget=60.0, adapt=adapt)
    assert summary.adapt is not None and summary.unknown_tasks == 0  # a_new now has adapted versions
    assert summary.scored_inputs == 4 and not summary.stopped_early and summary.seconds < 60
    records = {r["task_id"]: r for r in read_jsonl(summary.predictions_path)}
    assert records["a_new"]["poe_views"] == 4  # its identity + 3 adapted versions
    assert (
        validate_submission(
            orjson.loads((tmp_path / "submission.json").read_bytes()), load_tasks(str(trained[1]))
        )
        == []
    )
    spent = predict(trained, tmp_path / "spent" / "submission.json", rank="poe", time_budget=1e-9)
    assert spent.views == 0 and spent.scored_inputs == 0


def test_rank_benchmark_compares_the_modes_on_the_same_views(trained, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from predict_bench import Options
    from rank_sweep import MODES, RankOptions, rank_sweep

    run, tasks = trained
    result = rank_sweep(Options(checkpoint=str(run), tta=[1, 4]), RankOptions(poe_views=2), str(tasks))
    assert [row["tta"] for row in result["sweep"]] == [1, 4] and result["test_inputs"] == 5
    for row in result["sweep"]:
        for name, _, _ in MODES:
            r = row[name]
            assert r["tasks"] == 2 and r["pass@1"] <= r["pass@2"] <= r["any"]  # b_ovf, d_two known
            assert r["pass@1"] >= 0.5 and r["pass@1_tasks"] == pytest.approx(2 * r["pass@1"])
        assert row["poe"]["any"] >= row["votes"]["any"]  # PoE only adds candidates
        assert row["overhead"] >= 0
    assert "| poe | pass@2 |" in capsys.readouterr().out
