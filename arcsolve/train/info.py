"""`arcsolve info`: size, compute and memory of a config, without building its dataset or the model.

The dataset's shape comes from its meta.json when the dataset (or the recipe's cache) exists, else it
is derived from the recipe: ARC seq_len = canvas², vocab 12, and at most (aug + 1) puzzle ids per task
(fewer when symmetric tasks have duplicate versions); sudoku 81 / 11; maze size² / 6.
"""

from __future__ import annotations

from dataclasses import dataclass

from arcsolve.constants import ARC_VOCAB_SIZE
from arcsolve.data.dataset import read_meta
from arcsolve.model.layers import swiglu_width
from arcsolve.model.trm import count_parameters_for, flops_per_example
from arcsolve.train.config import RunConfig

_SUDOKU = (81, 11)
_MAZE_VOCAB = 6
_BYTES_FP32 = 4


@dataclass(frozen=True)
class ConfigInfo:
    seq_len: int
    vocab_size: int
    num_puzzle_ids: int
    puzzle_ids_exact: bool  # False: an upper bound from the recipe
    weights: int
    puzzle_embedding: int
    train_flops: int  # one example, one supervision step, forward + backward
    eval_flops: int  # one example, one supervision step, forward only
    state_bytes: int  # weights + grads + 2 optimizer moments + EMA + task table
    activation_bytes_per_example: int

    def lines(self, batch: int, world_size: int = 1) -> list[str]:
        per_device = max(1, batch // world_size)
        act = self.activation_bytes_per_example * per_device
        ids = f"{self.num_puzzle_ids:,}" + ("" if self.puzzle_ids_exact else " (at most; from the recipe)")
        return [
            f"{self.weights:,} params (trainable weights)",
            f"{self.puzzle_embedding:,} task-embedding numbers ({ids} puzzle ids), trained by sign-SGD",
            f"sequence {self.seq_len} tokens, vocabulary {self.vocab_size}",
            f"{self.train_flops / 1e9:.2f} GFLOP per example per supervision step (train, fwd+bwd)",
            f"{self.eval_flops / 1e9:.2f} GFLOP per example per supervision step (eval, fwd)",
            f"memory: {self.state_bytes / 2**30:.2f} GiB of weights, optimizer, EMA and task table; "
            f"about {act / 2**30:.2f} GiB of activations at {per_device} rows per device",
        ]


def _dataset_shape(cfg: RunConfig) -> tuple[int, int, int, bool]:
    data = cfg.data
    existing = data.path or (
        data.cache_path() if data.cache_path() and (data.cache_path() / "meta.json").exists() else None
    )
    if existing is not None:
        meta = read_meta(existing)
        return int(meta["seq_len"]), int(meta["vocab_size"]), int(meta["num_puzzle_ids"]), True
    kind, recipe = data.recipe()  # type: ignore[misc]
    if kind == "sudoku":
        return (*_SUDOKU, 1, True)
    if kind == "maze":
        return recipe.size * recipe.size, _MAZE_VOCAB, 1, True  # type: ignore[union-attr]
    from arcsolve.data.tasks import load_tasks

    sources = ",".join(s for s in (recipe.source, recipe.extra_train) if s)  # type: ignore[union-attr]
    limit = recipe.grid_limit()  # type: ignore[union-attr]
    tasks = [t for t in load_tasks(sources) if t.max_side() <= limit]
    return recipe.canvas**2, ARC_VOCAB_SIZE, 1 + len(tasks) * (recipe.aug + 1), False  # type: ignore[union-attr]


def activation_bytes(cfg: RunConfig, seq_len: int) -> int:
    """Rough bytes kept for backward per example: the last cycle's (n+1) net calls of num_layers blocks,
    each storing about 12 D-wide and 3 I-wide tensors per position (attention through a fused kernel,
    so no S x S scores), plus the carried y and z. In the forward dtype (bf16 on CUDA: 2 bytes)."""
    m = cfg.model
    positions = seq_len + m.puzzle_emb_len
    per_block = positions * (12 * m.hidden_size + 3 * swiglu_width(m.hidden_size, m.expansion))
    stored = (m.L_cycles + 1) * m.num_layers * per_block + 2 * positions * m.hidden_size
    return stored * (2 if m.forward_dtype in ("auto", "bfloat16", "float16") else 4)


def config_info(cfg: RunConfig) -> ConfigInfo:
    seq_len, vocab, ids, exact = _dataset_shape(cfg)
    count = count_parameters_for(cfg.model, seq_len, vocab, ids)
    copies = 5 if cfg.train.ema else 4  # weights, grads, Adam m and v, EMA shadow
    return ConfigInfo(
        seq_len=seq_len,
        vocab_size=vocab,
        num_puzzle_ids=ids,
        puzzle_ids_exact=exact,
        weights=count.weights,
        puzzle_embedding=count.puzzle_embedding,
        train_flops=flops_per_example(cfg.model, seq_len, vocab, train=True),
        eval_flops=flops_per_example(cfg.model, seq_len, vocab, train=False),
        state_bytes=(copies * count.weights + count.puzzle_embedding) * _BYTES_FP32,
        activation_bytes_per_example=activation_bytes(cfg, seq_len),
    )
