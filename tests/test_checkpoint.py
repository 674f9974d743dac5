"""Checkpoints written by the training loop: round trip, `latest.pt`, refusal of foreign files, key names."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import orjson
import pytest
import torch

import arcsolve.train.checkpoint as checkpoint_module
import arcsolve.train.loop as loop
from arcsolve.data.arc_builder import ArcBuildConfig, build_arc_dataset
from arcsolve.data.dataset import TokenDataset
from arcsolve.errors import BadInputError
from arcsolve.model import TRM, ModelConfig, evaluate_batch
from arcsolve.train.checkpoint import (
    CHECKPOINT_FORMAT,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    save_checkpoint,
    strip_compile_prefix,
)
from arcsolve.train.config import DataConfig, RunConfig, TrainConfig
from arcsolve.train.data import rows_to_batch
from arcsolve.train.loop import run_train
from arcsolve.train.run_meta import checkpoint_meta, describe_dataset


def build_dataset(root: Path) -> Path:
    tasks = root / "tasks"
    tasks.mkdir(parents=True)
    pairs = {
        "a": [
            ([[1, 2], [3, 0]], [[2, 1], [0, 3]]),
            ([[0, 4], [5, 6]], [[4, 0], [6, 5]]),
            ([[7, 0], [0, 8]], [[0, 7], [8, 0]]),
        ],
        "b": [([[1, 0, 1]], [[2, 0, 2]]), ([[3, 3, 0]], [[4, 4, 0]]), ([[0, 5, 5]], [[0, 6, 6]])],
    }
    for name, rows in pairs.items():
        items = [{"input": i, "output": o} for i, o in rows]
        (tasks / f"{name}.json").write_bytes(orjson.dumps({"train": items[:-1], "test": items[-1:]}))
    out = root / "data"
    build_arc_dataset(ArcBuildConfig(source=str(tasks), aug=3, canvas=4, seed=1), out, progress=False)
    return out


def tiny_config(dataset: Path, **train) -> RunConfig:
    model = ModelConfig(
        hidden_size=32, num_heads=2, num_layers=1, H_cycles=2, L_cycles=1, halt_max_steps=2, puzzle_emb_len=1
    )
    base = dict(
        global_batch_size=2, lr=1e-3, lr_warmup_steps=1, ema_rate=0.5, eval_every=0, log_every=1, device="cpu"
    )
    return RunConfig(data=DataConfig(path=str(dataset)), model=model, train=TrainConfig(**{**base, **train}))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 6-step run saving every 2 steps (keeping 2), and the loop's live TrainState at the end."""
    root = tmp_path_factory.mktemp("ckpt")
    dataset = build_dataset(root)
    captured = []
    build = loop.build_state

    def capture(*args, **kwargs):
        captured.append(build(*args, **kwargs))
        return captured[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(loop, "build_state", capture)
        run_train(
            tiny_config(dataset, checkpoint_every=2, keep_checkpoints=2),
            root / "run",
            max_steps=6,
            progress=False,
        )
    return root / "run", dataset, captured[-1]


def fresh_model(payload: dict, dataset: TokenDataset, key: str) -> TRM:
    model = TRM(
        ModelConfig(**payload["config"]["model"]), dataset.seq_len, dataset.vocab_size, dataset.num_puzzle_ids
    )
    model.load_state_dict(payload[key])
    return model.eval()


def test_a_saved_checkpoint_loads_into_a_fresh_model_with_identical_outputs(trained):
    run, data, state = trained
    payload = load_checkpoint(run)
    dataset = TokenDataset.open(data)
    batch = rows_to_batch(
        dataset.split("test"), np.arange(dataset.split("test").num_examples), torch.device("cpu")
    )

    live = state.model.eval()
    assert all(torch.equal(v, payload["model"][k]) for k, v in live.state_dict().items())
    expected = evaluate_batch(live, batch)
    got = evaluate_batch(fresh_model(payload, dataset, "model"), batch)
    assert torch.equal(expected.logits, got.logits) and torch.equal(expected.q_halt_logits, got.q_halt_logits)

    with state.eval_weights() as averaged:
        expected = evaluate_batch(averaged.eval(), batch)
    got = evaluate_batch(fresh_model(payload, dataset, "eval_model"), batch)
    assert torch.equal(expected.logits, got.logits) and torch.equal(expected.q_halt_logits, got.q_halt_logits)
    assert not torch.equal(got.logits, evaluate_batch(live, batch).logits)  # EMA differs from live weights


def test_a_checkpoint_describes_itself(trained):
    run, data, _ = trained
    payload = load_checkpoint(run)
    dataset = TokenDataset.open(data)
    assert payload["format"] == CHECKPOINT_FORMAT and payload["step"] == 6
    assert payload["config"]["model"]["hidden_size"] == 32 and payload["config"]["train"]["seed"] == 0
    assert payload["dataset"]["fingerprint"] == dataset.fingerprint
    assert payload["dataset"]["task_ids"] == ["a", "b"] and payload["dataset"]["canvas"] == 4
    np.testing.assert_array_equal(payload["dataset"]["augmentations"], np.asarray(dataset.augmentations))
    assert payload["cursor"].keys() == {"epoch", "batch"}
    assert set(payload["rng"]) == {"halt", "torch"} and "git_revision" in payload
    for key in ("model", "eval_model"):
        assert not any("_orig_mod" in name for name in payload[key])


def test_latest_points_at_the_newest_and_old_ones_are_pruned(trained):
    run, _, _ = trained
    folder = run / "checkpoints"
    assert [p.name for p in list_checkpoints(run)] == ["step_00000004.pt", "step_00000006.pt"]
    assert os.readlink(folder / "latest.pt") == "step_00000006.pt"
    assert latest_checkpoint(run) == (folder / "step_00000006.pt").resolve()
    assert load_checkpoint(run)["step"] == load_checkpoint(folder / "latest.pt")["step"] == 6
    assert load_checkpoint(folder / "step_00000004.pt")["step"] == 4
    assert not list(folder.glob("*.tmp")) and not list(folder.glob(".*"))


def test_without_the_link_the_highest_step_is_latest(tmp_path):
    for step in (3, 12, 7):
        save_checkpoint(tmp_path, step, {"weights": torch.zeros(1)}, keep=0)
    (tmp_path / "checkpoints" / "latest.pt").unlink()
    assert latest_checkpoint(tmp_path).name == "step_00000012.pt"
    assert len(list_checkpoints(tmp_path)) == 3  # keep=0 keeps everything


def test_a_failed_write_leaves_the_previous_checkpoint_latest(tmp_path, monkeypatch):
    save_checkpoint(tmp_path, 1, {"weights": torch.ones(2)})

    def disk_full(path, data):
        raise OSError("No space left on device")

    monkeypatch.setattr(checkpoint_module, "atomic_torch_save", disk_full)
    with pytest.raises(OSError):
        save_checkpoint(tmp_path, 2, {"weights": torch.ones(2)})
    assert latest_checkpoint(tmp_path).name == "step_00000001.pt"
    assert load_checkpoint(tmp_path)["step"] == 1


def test_foreign_or_broken_files_are_refused_with_bad_input(trained, tmp_path):
    run, _, _ = trained
    good = (run / "checkpoints" / "step_00000006.pt").read_bytes()
    cases = {
        "random.pt": random.Random(0).randbytes(4096),
        "truncated.pt": good[: len(good) // 2],
        "empty.pt": b"",
        "text.pt": b"not a checkpoint\n",
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    torch.save({"model": {}}, tmp_path / "no_format.pt")
    torch.save({"format": CHECKPOINT_FORMAT + 99, "step": 1}, tmp_path / "future.pt")
    torch.save([1, 2, 3], tmp_path / "list.pt")
    for name in [*cases, "no_format.pt", "future.pt", "list.pt"]:
        with pytest.raises(BadInputError) as err:
            load_checkpoint(tmp_path / name)
        assert err.value.where == str(tmp_path / name) and "checkpoint" in err.value.what, name
    with pytest.raises(BadInputError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")
    (tmp_path / "empty_run").mkdir()
    with pytest.raises(BadInputError, match="no checkpoint"):
        load_checkpoint(tmp_path / "empty_run")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.compile's import-time warnings
def test_strip_compile_prefix_gives_the_plain_names():
    model = TRM(ModelConfig(hidden_size=32, num_heads=2, num_layers=1, puzzle_emb_len=1), 4, 12, 3)
    wrapped = torch.compile(model)  # wrapping only; nothing is compiled until it is called
    assert all(k.startswith("_orig_mod.") for k in wrapped.state_dict())
    stripped = strip_compile_prefix(wrapped.state_dict())
    assert list(stripped) == list(model.state_dict())
    assert strip_compile_prefix({"_orig_mod.blocks.0._orig_mod.w": 1, "plain": 2}) == {
        "blocks.0.w": 1,
        "plain": 2,
    }
    TRM(model.cfg, 4, 12, 3).load_state_dict(stripped)  # loads without renaming


def test_the_task_table_is_stored_once(trained):
    """Weights and eval weights share the live task table; torch.save writes a shared storage once."""
    import zipfile

    run, data, state = trained
    table_bytes = state.model.puzzle_emb.numel() * state.model.puzzle_emb.element_size()
    with zipfile.ZipFile(latest_checkpoint(run)) as archive:
        sizes = [info.file_size for info in archive.infolist() if "/data/" in info.filename]
    assert sizes.count(table_bytes) == 1
    payload = load_checkpoint(run)
    assert payload["eval_model"]["puzzle_emb"].data_ptr() == payload["model"]["puzzle_emb"].data_ptr()


def test_a_checkpoint_from_before_step_accounting_resumes_only_with_whole_batches(trained, tmp_path):
    """Old checkpoints have no train.step_accounting: their data cursor counts whole-batch epochs."""
    run, data, _ = trained
    payload = load_checkpoint(run)
    del payload["config"]["train"]["step_accounting"]
    old = tmp_path / "old"
    save_checkpoint(old, payload["step"], {k: v for k, v in payload.items() if k not in ("format", "step")})
    with pytest.raises(BadInputError, match="train.step_accounting=whole_batches"):
        run_train(tiny_config(data), old, max_steps=7, resume=True, progress=False)
    result = run_train(
        tiny_config(data, step_accounting="whole_batches"), old, max_steps=7, resume=True, progress=False
    )
    assert result["step"] == 7


def test_a_checkpoint_reads_back_as_typed_configs(trained):
    """Config and dataset description come back as the dataclasses they were written from."""
    run, data, state = trained
    cfg, meta = checkpoint_meta(load_checkpoint(run), "ckpt")
    assert cfg == state.cfg
    expected = describe_dataset(TokenDataset.open(data))
    assert meta.to_dict().keys() == expected.to_dict().keys()
    assert (meta.fingerprint, meta.task_ids, meta.canvas) == (expected.fingerprint, expected.task_ids, 4)
    np.testing.assert_array_equal(meta.augmentations, expected.augmentations)


@pytest.mark.parametrize(
    "section, change, needle",
    [
        ("config", lambda c: c["train"].update(bogus=1), "unknown key 'train.bogus'"),
        ("config", lambda c: c["model"].update(hidden_size="wide"), "'model.hidden_size' must be an integer"),
        ("dataset", lambda d: d.pop("fingerprint"), "missing key"),
        ("dataset", lambda d: d.update(augmentations=np.zeros((3, 12), np.int16)), "one row per puzzle id"),
        ("config", lambda c: c.clear(), "[data] needs exactly one of"),
    ],
)
def test_a_damaged_description_is_one_error_naming_the_key(trained, section, change, needle):
    run, _, _ = trained
    payload = load_checkpoint(run)
    change(payload[section])
    with pytest.raises(BadInputError) as err:
        checkpoint_meta(payload, "ckpt.pt")
    assert needle in err.value.one_line() and err.value.one_line().startswith("arcsolve: error: ckpt.pt")
