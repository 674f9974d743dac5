"""Peak host RAM of writing a paper-size training checkpoint, as a ratio to the file's size.

Builds the paper's attention model (hidden 512, 900 tokens) with a full ARC-AGI-1 task table
(876,406 x 512 float32 = 1.7 GiB, filled so its pages are resident), AdamATan2 state after one step,
EMA and the augmentation table, then writes the checkpoint with the training loop's own code
(`state_payload` + `save_checkpoint`). The peak is the process's VmHWM, reset just before the write
(Linux `/proc/self/clear_refs`), so it covers exactly the write. `--old` writes the way arcsolve did
before issue 16 (eval weights cloned, the whole file serialised into a BytesIO first), for comparison;
use `--ids` to scale the table down for it on a small machine (the ratio hardly depends on the size).

    python benchmarks/checkpoint_bench.py                     # paper size, current writer
    python benchmarks/checkpoint_bench.py --old --ids 219101  # a quarter of the table, old writer

On a CUDA run the weights live on the GPU and the host holds only the storage being written; on a
CPU run (this benchmark) the live state is in host RAM already, so `peak / file` counts it once.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from arcsolve.constants import AUG_TABLE_COLUMNS
from arcsolve.model.config import ModelConfig
from arcsolve.train.batches import BatchCursor
from arcsolve.train.checkpoint import save_checkpoint
from arcsolve.train.config import DataConfig, RunConfig, TrainConfig
from arcsolve.train.state import build_state, state_payload


def _status(key: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith(key + ":"))


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


def build(ids: int):
    cfg = RunConfig(data=DataConfig(path="unused"), model=ModelConfig(), train=TrainConfig(device="cpu"))
    dataset = SimpleNamespace(
        fingerprint="bench",
        kind="arc",
        seq_len=900,
        vocab_size=12,
        num_puzzle_ids=ids,
        meta={"canvas": 30, "task_ids": [f"{i:08x}" for i in range(960)]},
        augmentations=np.zeros((ids, AUG_TABLE_COLUMNS), dtype=np.int16),
    )
    state = build_state(cfg, dataset, torch.device("cpu"))  # type: ignore[arg-type]
    with torch.no_grad():
        state.model.puzzle_emb.uniform_(-1, 1)  # resident pages, as after training
    for p in state.model.parameters():
        p.grad = torch.randn_like(p)
    state.optimizer.step()
    state.ema.update(state.model)  # type: ignore[union-attr]
    return cfg, dataset, state


def write_old(folder: Path, cfg, dataset, state) -> Path:
    """The pre-issue-16 writer: cloned eval weights and EMA shadow, then a BytesIO of the whole file."""
    payload = state_payload(state, cfg, dataset, BatchCursor())
    with state.eval_weights() as model:
        payload["eval_model"] = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    payload["ema"] = {"decay": state.ema.decay, "shadow": {k: v.clone() for k, v in state.ema.shadow.items()}}
    buffer = io.BytesIO()
    torch.save({"format": 1, "step": 1, **payload}, buffer)
    path = folder / "old.pt"
    path.write_bytes(buffer.getvalue())
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ids", type=int, default=876_406, help="task-table rows (paper ARC-AGI-1: 876,406)")
    parser.add_argument("--old", action="store_true", help="the pre-issue-16 writer, for comparison")
    args = parser.parse_args()
    torch.set_num_threads(1)
    cfg, dataset, state = build(args.ids)
    with tempfile.TemporaryDirectory(prefix="ckpt-bench-") as tmp:
        before = _status("VmRSS")
        exact = _reset_peak()
        start = time.perf_counter()
        if args.old:
            path = write_old(Path(tmp), cfg, dataset, state)
        else:
            payload = state_payload(state, cfg, dataset, BatchCursor())
            path = save_checkpoint(Path(tmp), 1, payload)
            del payload
        seconds = time.perf_counter() - start
        peak, size = _status("VmHWM"), os.path.getsize(path)
    record = {
        "writer": "old (clone + BytesIO)" if args.old else "current (streamed, table once)",
        "task_table_rows": args.ids,
        "file_bytes": size,
        "rss_before_write_bytes": before,
        "peak_rss_during_write_bytes": peak,
        "peak_over_file": round(peak / size, 3),
        "extra_over_file": round((peak - before) / size, 3),
        "peak_is_exact": exact,
        "seconds": round(seconds, 2),
    }
    print(json.dumps(record))


if __name__ == "__main__":
    main()
