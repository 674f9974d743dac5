"""`arcsolve import trm`: a reference TRM checkpoint + dataset -> a run directory predict takes, bit-exact.

Fixtures (tests/fixtures/trm-reference/, written by the reference code, see its README): the
checkpoint `step_213` (EMA weights, hidden 64, 2 heads, 2 layers, T=3, n=2, 4 ACT steps) with its
`all_config.yaml`, the dataset it was trained on, and the reference model's own float32 outputs on
every test-split row (`expected/float32/`: argmax tokens, halting logits, logits of rows 0-7).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import orjson
import pytest
import torch
from typer.testing import CliRunner

from arcsolve.augment import decode_views
from arcsolve.cli import app
from arcsolve.data.tasks import load_tasks
from arcsolve.errors import BadInputError
from arcsolve.model.act import evaluate_batch
from arcsolve.model.trm import TRM
from arcsolve.predict.run import load_predict_model
from arcsolve.predict.views import encode_plan_rows, plan_views
from arcsolve.trm_import import import_trm
from arcsolve.trm_import.checkpoint import convert_state, expected_shapes, key_map, load_reference_state
from arcsolve.trm_import.config import model_config, parse_yaml_config, read_reference_config

REF = Path(__file__).parent / "fixtures" / "trm-reference"
CHECKPOINT = REF / "checkpoint" / "step_213"
DATASET = REF / "dataset"
EXPECTED = REF / "expected" / "float32"
EVAL_TASKS = str(REF / "inputs" / "arc-agi_evaluation_challenges.json")
runner = CliRunner()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("import") / "run"
    result = runner.invoke(
        app, ["import", "trm", str(CHECKPOINT), "--dataset", str(DATASET), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "63 test rows matched their identifiers" in result.stdout
    return out


def _reference_rows() -> dict[tuple[int, int], int]:
    """(puzzle id, test index) -> row of the reference test split."""
    index = np.load(DATASET / "test" / "all__puzzle_indices.npy")
    ids = np.load(DATASET / "test" / "all__puzzle_identifiers.npy")
    return {
        (int(ids[p]), k): int(index[p]) + k for p in range(len(ids)) for k in range(index[p + 1] - index[p])
    }


def test_yaml_subset_reads_the_reference_config():
    config = parse_yaml_config((REF / "checkpoint" / "all_config.yaml").read_text(), "all_config.yaml")
    assert (
        config["arch"]["hidden_size"] == 64
        and config["arch"]["loss"]["loss_type"] == "stablemax_cross_entropy"
    )
    assert config["arch"]["mlp_t"] is False and config["load_checkpoint"] is None and config["lr"] == 0.001
    assert config["data_paths"] == ["data/arc1small-aug-8"] and config["data_paths_test"] == []
    assert config["evaluators"] == [{"name": "arc@ARC"}]
    assert parse_yaml_config("a: 1.0e-05\nb: 'x: y'\nc:\n  - 2\n  - name: n\n    k: .inf\n", "x") == {
        "a": 1e-5,
        "b": "x: y",
        "c": [2, {"name": "n", "k": float("inf")}],
    }


def test_run_dir_holds_the_reference_weights(run_dir):
    payload = torch.load(run_dir / "checkpoints" / "latest.pt", weights_only=False)
    ref = torch.load(CHECKPOINT, weights_only=True)
    weights = payload["eval_model"]
    assert torch.equal(weights["y_init"], ref["model.inner.H_init"].float())
    assert torch.equal(weights["puzzle_emb"], ref["model.inner.puzzle_emb.weights"])
    assert torch.equal(
        weights["blocks.1.mlp.down.weight"], ref["model.inner.L_level.layers.1.mlp.down_proj.weight"]
    )
    cfg = payload["config"]["model"]
    assert (cfg["hidden_size"], cfg["num_heads"], cfg["num_layers"], cfg["H_cycles"], cfg["L_cycles"]) == (
        64,
        2,
        2,
        3,
        2,
    )
    assert cfg["halt_max_steps"] == 4 and cfg["puzzle_emb_len"] == 16 and cfg["forward_dtype"] == "auto"
    assert payload["step"] == 213 and payload["dataset"]["num_puzzle_ids"] == 199
    assert payload["config"]["train"]["beta2"] == 0.95 and payload["config"]["train"]["ema_rate"] == 0.9
    assert json.loads((run_dir / "import.json").read_text())["test_rows_checked"] == 63


def test_compiled_keys_import_the_same_weights(run_dir, tmp_path):
    """A torch.compile'd run saves `_orig_mod.model.inner.*`; the import is the same."""
    state = torch.load(CHECKPOINT, weights_only=True)
    compiled = tmp_path / "ckpt" / "step_213"
    compiled.parent.mkdir()
    torch.save({f"_orig_mod.{k}": v for k, v in state.items()}, compiled)
    import_trm(compiled, DATASET, tmp_path / "run", config=REF / "checkpoint" / "all_config.yaml")
    ours = torch.load(tmp_path / "run" / "checkpoints" / "latest.pt", weights_only=False)["eval_model"]
    plain = torch.load(run_dir / "checkpoints" / "latest.pt", weights_only=False)["eval_model"]
    assert ours.keys() == plain.keys() and all(torch.equal(ours[k], plain[k]) for k in ours)


@pytest.mark.slow
def test_predict_pipeline_reproduces_reference_rows_and_outputs(run_dir):
    """predict's own loading, view plan and encoding: every trained version of every test input (the
    63 reference test rows) is encoded as the reference's row; the 16 rows holding reference rows
    0..15 (one batch: the model at the reference's size is the slow part), run in float32 with the
    reference eval procedure (all-halted carry, 4 ACT steps), give the reference's argmax tokens and
    halting logits."""
    net = load_predict_model(run_dir, torch.device("cpu"), "float32")
    tasks = load_tasks(EVAL_TASKS)
    plan = plan_views(tasks, 9, 0, net.canvas, net.aug_table, net.task_ids)
    assert len(plan) == 63 and not plan.unknown
    rows = _reference_rows()
    order = np.array([rows[(int(p), int(k))] for p, k in zip(plan.puzzle_ids, plan.test_index, strict=True)])
    assert sorted(order.tolist()) == list(range(63))
    tokens = encode_plan_rows(plan, np.arange(63), net.canvas)
    assert np.array_equal(tokens, np.load(DATASET / "test" / "all__inputs.npy")[order])
    ours = np.argsort(order)[:16]  # our rows holding reference rows 0..15, in that order
    inputs = torch.from_numpy(tokens[ours].astype(np.int64))
    ids = torch.from_numpy(plan.puzzle_ids[ours].astype(np.int64))
    out = evaluate_batch(net.model, {"inputs": inputs, "labels": torch.zeros_like(inputs), "puzzle_ids": ids})
    preds, q_halt, logits = out.logits.argmax(-1).numpy(), out.q_halt_logits.numpy(), out.logits.numpy()
    expected = np.load(EXPECTED / "preds.npy")[:16]
    top2 = np.sort(logits, axis=-1)[..., -2:]
    flips = preds != expected
    assert flips.sum() <= 2 and (top2[..., 1] - top2[..., 0])[flips].max(initial=0) < 1e-3
    np.testing.assert_allclose(q_halt, np.load(EXPECTED / "q_halt_logits.npy")[:16], rtol=0, atol=1e-5)
    # Float32 sums in another order (the CPU's kernels choose it) move a logit of ~2.7 by ~1e-4: the
    # tolerance is relative as well as absolute (seen: 1.06e-4 on one of 86,400 values, 2026-12-05).
    np.testing.assert_allclose(logits[:8], np.load(EXPECTED / "logits_rows0-7.npy"), rtol=1e-4, atol=1e-4)


@pytest.mark.slow
def test_predict_cli_votes_equal_votes_from_reference_argmax(run_dir, tmp_path):
    """`arcsolve predict --forward-dtype float32` end to end on one task (9 views): its vote tallies
    equal those of the reference's own argmax grids decoded by arcsolve."""
    task = "0692e18c"
    source = json.loads(Path(EVAL_TASKS).read_text())
    (tmp_path / "one_challenges.json").write_text(json.dumps({task: source[task]}))
    out = tmp_path / "submission.json"
    args = ["predict", str(run_dir), "--tasks", str(tmp_path / "one_challenges.json"), "--tta", "9"]
    result = runner.invoke(app, [*args, "--forward-dtype", "float32", "--device", "cpu", "--out", str(out)])
    assert result.exit_code == 0, result.output
    ours = [orjson.loads(line) for line in (tmp_path / "predictions.jsonl").read_text().splitlines()]
    names = json.loads((DATASET / "identifiers.json").read_text())
    payload = torch.load(run_dir / "checkpoints" / "latest.pt", weights_only=False)
    table = payload["dataset"]["augmentations"]
    rows = [r for (pid, _k), r in _reference_rows().items() if names[pid].split("|||")[0] == task]
    ids = np.load(EXPECTED / "puzzle_identifiers.npy")[rows]
    grids, shapes = decode_views(np.load(EXPECTED / "preds.npy")[rows], 30, table[ids, 1], table[ids, 2:])
    q = 1 / (1 + np.exp(-np.load(EXPECTED / "q_halt_logits.npy")[rows].astype(np.float64)))
    tally: dict[bytes, list[float]] = {}
    for g, (h, w), conf in zip(grids, shapes.tolist(), q, strict=True):
        if h:
            tally.setdefault(orjson.dumps(g[:h, :w].tolist()), []).append(conf)
    assert len(ours) == 1 and ours[0]["invalid"] == 9 - sum(len(v) for v in tally.values())
    got = {orjson.dumps(c["grid"]): (c["votes"], c["mean_confidence"]) for c in ours[0]["candidates"]}
    assert got.keys() == tally.keys()
    for key, confs in tally.items():
        assert got[key][0] == len(confs) and got[key][1] == pytest.approx(np.mean(confs), abs=1e-6)
    submission = json.loads(out.read_text())
    ranked = sorted(got.items(), key=lambda kv: (-kv[1][0], -kv[1][1]))
    assert submission[task][0]["attempt_1"] == orjson.loads(ranked[0][0])


def _invoke_import(checkpoint: Path, dataset: Path, out: Path, config: Path | None = None):
    args = ["import", "trm", str(checkpoint), "--dataset", str(dataset), "--out", str(out)]
    result = runner.invoke(app, args + (["--config", str(config)] if config else []))
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("arcsolve: error: "), result.stderr
    assert not out.exists() and not out.with_name(out.name + ".tmp").exists()
    return lines[0]


def _state_variant(tmp_path: Path, edit) -> Path:
    state = dict(torch.load(CHECKPOINT, weights_only=True))
    edit(state)
    path = tmp_path / "bad" / "step_1"
    path.parent.mkdir(exist_ok=True)
    torch.save(state, path)
    shutil.copy(REF / "checkpoint" / "all_config.yaml", path.parent)
    return path


def test_bad_checkpoints_are_one_line_exit_2(tmp_path):
    out = tmp_path / "run"
    truncated = tmp_path / "trunc" / "step_213"
    truncated.parent.mkdir()
    truncated.write_bytes(CHECKPOINT.read_bytes()[: CHECKPOINT.stat().st_size // 2])
    config = REF / "checkpoint" / "all_config.yaml"
    assert "not a readable PyTorch checkpoint" in _invoke_import(truncated, DATASET, out, config)
    p = "model.inner."

    def hrm(state):
        state[p + "H_level.layers.0.mlp.down_proj.weight"] = state.pop(
            p + "L_level.layers.1.mlp.down_proj.weight"
        )

    assert "H_level" in _invoke_import(_state_variant(tmp_path, hrm), DATASET, out)
    line = _invoke_import(_state_variant(tmp_path, lambda s: s.pop(p + "q_head.bias")), DATASET, out)
    assert "missing key model.inner.q_head.bias" in line
    line = _invoke_import(_state_variant(tmp_path, lambda s: s.update({p + "L_level.layers.2.mlp.down_proj.weight": s[p + "lm_head.weight"]})), DATASET, out)  # fmt: skip
    assert "unexpected key model.inner.L_level.layers.2.mlp.down_proj.weight" in line
    line = _invoke_import(_state_variant(tmp_path, lambda s: s.update({p + "puzzle_emb.weights": s[p + "puzzle_emb.weights"][:-1]})), DATASET, out)  # fmt: skip
    assert "puzzle_emb.weights has 198 rows" in line and "199 identifiers" in line
    line = _invoke_import(_state_variant(tmp_path, lambda s: s.update({p + "lm_head.weight": s[p + "lm_head.weight"][:, :32]})), DATASET, out)  # fmt: skip
    assert "model.inner.lm_head.weight has shape (12, 32)" in line
    hrm_config = tmp_path / "hrm.yaml"
    hrm_config.write_text(
        config.read_text().replace(
            "recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1",
            "hrm.hrm_act_v1@HierarchicalReasoningModel_ACTV1",
        )
    )
    assert "HRM" in _invoke_import(CHECKPOINT, DATASET, out, hrm_config)


def test_bad_datasets_are_one_line_exit_2(tmp_path):
    out = tmp_path / "run"
    short = tmp_path / "short"
    shutil.copytree(DATASET, short)
    names = json.loads((short / "identifiers.json").read_text())
    (short / "identifiers.json").write_text(json.dumps(names[:-1]))
    assert "short/identifiers.json: holds 198 names, train/dataset.json counts 199" in _invoke_import(
        CHECKPOINT, short, out
    )
    # identifiers.json of another build (seed 43) beside this build's arrays: same count, other names
    other = tmp_path / "other"
    shutil.copytree(DATASET, other)
    built = tmp_path / "seed43"
    result = runner.invoke(app, ["data", "build", "arc", "--trm-prefix", str(REF / "inputs" / "arc-agi"), "--subsets",
                                 "training", "evaluation", "concept", "--aug", "8", "--seed", "43", "--out", str(built)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(json.loads((built / "identifiers.json").read_text())) == len(names)
    shutil.copy(built / "identifiers.json", other / "identifiers.json")
    assert "come from different builds" in _invoke_import(CHECKPOINT, other, out)
    with pytest.raises(BadInputError, match="no such dataset folder"):
        import_trm(CHECKPOINT, tmp_path / "nowhere", out)


def test_arcsolve_trm_build_imports_like_the_reference_folder(run_dir, tmp_path):
    built = tmp_path / "built"
    result = runner.invoke(app, ["data", "build", "arc", "--trm-prefix", str(REF / "inputs" / "arc-agi"), "--subsets",
                                 "training,evaluation,concept", "--aug", "8", "--seed", "42", "--out", str(built)])  # fmt: skip
    assert result.exit_code == 0, result.output
    import_trm(CHECKPOINT, built, tmp_path / "run")
    ours = torch.load(tmp_path / "run" / "checkpoints" / "latest.pt", weights_only=False)["dataset"]
    ref = torch.load(run_dir / "checkpoints" / "latest.pt", weights_only=False)["dataset"]
    assert ours["task_ids"] == ref["task_ids"] and np.array_equal(ours["augmentations"], ref["augmentations"])
    (built / "identifiers.json").write_text("[]")
    assert "does not belong to this build" in _invoke_import(CHECKPOINT, built, tmp_path / "run2")


@pytest.mark.parametrize(
    "arch_edit",
    [
        {},
        {"pos_encodings": "learned"},
        {"mlp_t": True, "expansion": 2},
        {"puzzle_emb_ndim": 32, "puzzle_emb_len": 0},
    ],
)
def test_expected_shapes_are_arcsolve_model_shapes(arch_edit):
    """The shape table the importer checks equals the shapes of arcsolve's own model for the config."""
    config = read_reference_config(REF / "checkpoint" / "all_config.yaml")
    config["arch"].update(arch_edit)
    arch = model_config(config, "cfg")
    shapes = expected_shapes(arch, 7)
    model = TRM(arch.model, 900, 12, 7).state_dict()
    assert {ours: tuple(model[ours].shape) for ours in key_map(arch).values()} == {
        ours: shapes[ref] for ref, ours in key_map(arch).items()
    }
    if arch_edit.get("puzzle_emb_len") == 0:
        assert arch.model.puzzle_emb_len == 1  # the reference's ceil(ndim / hidden)


def test_task_table_is_passed_on_not_copied():
    """Memory: the memory-mapped table tensor itself goes into the run's weights (no clone), so a
    paper-size table is held once while the run directory is written."""
    config = read_reference_config(REF / "checkpoint" / "all_config.yaml")
    state = load_reference_state(CHECKPOINT)
    weights = convert_state(state, model_config(config, "cfg"), 199, "ckpt", "dataset")
    assert weights["puzzle_emb"] is state["puzzle_emb.weights"]
    assert weights["y_init"].dtype == torch.float32 and state["H_init"].dtype == torch.bfloat16


def test_kaggle_bundle_accepts_the_imported_checkpoint(run_dir):
    from arcsolve.kaggle.bundle import _check_checkpoint

    assert _check_checkpoint((run_dir / "checkpoints" / "latest.pt").resolve())["step"] == 213
