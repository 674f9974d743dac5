"""Peak memory of `arcsolve import trm` on a paper-size reference checkpoint (synthetic weights).

    python benchmarks/trm_import_bench.py [--rows 876407] [--hidden 512]

Writes a reference-format checkpoint (keys `model.inner.*`, the paper's ARC model: hidden 512, 8
heads, 2 layers, bfloat16 H_init/L_init) whose task table has `--rows` x hidden float32 numbers
(876,407 x 512 = 1.8 GB by default), its all_config.yaml, and a minimal reference dataset folder
with as many identifiers (tasks of 1,001 versions each). The import runs in a child process
(`child_peak.run_child`) that reports its wall time and peak RSS. The claim checked: the table is
held at most twice at once (it is memory-mapped and passed on, so about once). The last line is JSON.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from child_peak import run_child  # noqa: E402

IMPORT = """
import sys
from pathlib import Path
from arcsolve.trm_import import import_trm
import_trm(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
"""

CONFIG = """arch:
  H_cycles: 3
  H_layers: 0
  L_cycles: 4
  L_layers: 2
  expansion: 4
  forward_dtype: bfloat16
  halt_exploration_prob: 0.1
  halt_max_steps: 16
  hidden_size: {hidden}
  loss:
    loss_type: stablemax_cross_entropy
    name: losses@ACTLossHead
  mlp_t: false
  name: recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1
  no_ACT_continue: true
  num_heads: 8
  pos_encodings: rope
  puzzle_emb_len: 16
  puzzle_emb_ndim: {hidden}
lr: 0.0001
"""


def write_checkpoint(folder: Path, rows: int, hidden: int) -> Path:
    inner = -(-round(4 * hidden * 2 / 3) // 256) * 256
    gen = torch.Generator().manual_seed(0)
    state = {
        "H_init": torch.randn(hidden, generator=gen).bfloat16(),
        "L_init": torch.randn(hidden, generator=gen).bfloat16(),
        "embed_tokens.embedding_weight": torch.randn(12, hidden, generator=gen),
        "lm_head.weight": torch.randn(12, hidden, generator=gen),
        "q_head.weight": torch.zeros(2, hidden),
        "q_head.bias": torch.full((2,), -5.0),
        "puzzle_emb.weights": torch.randn(rows, hidden, generator=gen),
    }
    for i in range(2):
        layer = f"L_level.layers.{i}."
        state[layer + "self_attn.qkv_proj.weight"] = torch.randn(3 * hidden, hidden, generator=gen)
        state[layer + "self_attn.o_proj.weight"] = torch.randn(hidden, hidden, generator=gen)
        state[layer + "mlp.gate_up_proj.weight"] = torch.randn(2 * inner, hidden, generator=gen)
        state[layer + "mlp.down_proj.weight"] = torch.randn(hidden, inner, generator=gen)
    path = folder / "checkpoint" / "step_518071"
    path.parent.mkdir()
    torch.save({f"model.inner.{k}": v for k, v in state.items()}, path)
    (path.parent / "all_config.yaml").write_text(CONFIG.format(hidden=hidden))
    return path


def write_dataset(folder: Path, rows: int) -> Path:
    perms = ["0" + "".join(p) for p in itertools.islice(itertools.permutations("123456789"), 1000)]
    names = ["<blank>"]
    for task in itertools.count():
        names.append(f"task{task:05d}")
        names += [f"task{task:05d}|||t{k % 8}|||{perm}" for k, perm in enumerate(perms)]
        if len(names) >= rows:
            break
    names = names[:rows]
    dataset = folder / "dataset"
    (dataset / "train").mkdir(parents=True)
    (dataset / "identifiers.json").write_text(json.dumps(names))
    info = {"pad_id": 0, "ignore_label_id": 0, "blank_identifier_id": 0, "vocab_size": 12, "seq_len": 900,
            "num_puzzle_identifiers": rows, "total_groups": 1, "mean_puzzle_examples": 1.0, "total_puzzles": 1,
            "sets": ["all"]}  # fmt: skip
    (dataset / "train" / "dataset.json").write_text(json.dumps(info))
    np.save(dataset / "train" / "all__inputs.npy", np.zeros((1, 900), np.uint8))
    np.save(dataset / "train" / "all__labels.npy", np.zeros((1, 900), np.uint8))
    np.save(dataset / "train" / "all__puzzle_identifiers.npy", np.array([1], np.int32))
    np.save(dataset / "train" / "all__puzzle_indices.npy", np.array([0, 1], np.int32))
    np.save(dataset / "train" / "all__group_indices.npy", np.array([0, 1], np.int32))
    return dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=876_407)
    parser.add_argument("--hidden", type=int, default=512)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="trm-import-bench-") as tmp:
        folder = Path(tmp)
        checkpoint = write_checkpoint(folder, args.rows, args.hidden)
        dataset = write_dataset(folder, args.rows)
        _, wall, peak = run_child(IMPORT, [str(checkpoint), str(dataset), str(folder / "run")])
        out = next((folder / "run" / "checkpoints").glob("step_*.pt"))
        sizes = {
            "checkpoint_mib": checkpoint.stat().st_size / 2**20,
            "run_checkpoint_mib": out.stat().st_size / 2**20,
        }
    table = args.rows * args.hidden * 4 / 2**20
    record = {"rows": args.rows, "hidden": args.hidden, "table_mib": round(table), "wall_seconds": round(wall, 1),
              "peak_rss_mib": round(peak), "peak_over_table": round(peak / table, 2),
              **{k: round(v) for k, v in sizes.items()}}  # fmt: skip
    print(f"import trm, table {args.rows:,} x {args.hidden} ({table:.0f} MiB): {wall:.1f} s, "
          f"peak RSS {peak:.0f} MiB = {peak / table:.2f} x the table")  # fmt: skip
    print(json.dumps(record))


if __name__ == "__main__":
    main()
