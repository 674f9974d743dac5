"""`arcsolve info`: size, compute, memory, step count and projected time of a config, without
building its dataset or the model.

The dataset's shape comes from the dataset when it (or the recipe's cache) exists, else it is derived
from the recipe: ARC seq_len = canvas², vocab 12, and at most (aug + 1) puzzle ids per task (fewer
when symmetric tasks have duplicate versions), every version with its task's examples; sudoku 81 / 11;
maze size² / 6. The train split's shape (groups, puzzles, examples) can also be given outright, e.g.
from another build's metadata, since it alone decides the step count (train/plan.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from arcsolve.constants import ARC_VOCAB_SIZE
from arcsolve.data.dataset import TokenDataset, read_meta
from arcsolve.model.layers import swiglu_width
from arcsolve.model.trm import count_parameters_for, flops_per_example
from arcsolve.train.config import RunConfig
from arcsolve.train.plan import StepPlan, TrainShape, step_plan

# Dense bf16 tensor-core peaks (TFLOP/s, no sparsity) from the vendors' data sheets, matched by
# substring of torch.cuda.get_device_name(); the first match wins, so specific names come first.
GPU_BF16_PEAK_TFLOPS: dict[str, float] = {
    "H100 PCIe": 756.0,
    "H100": 989.4,  # SXM / HBM3
    "H200": 989.4,
    "GH200": 989.4,
    "B200": 2250.0,
    "A100": 312.0,
    "L40S": 362.1,
    "L4": 121.0,
    "RTX 4090": 165.2,
    "RTX A6000": 154.8,
}


def bf16_peak_tflops(device_name: str) -> float | None:
    """The bf16 peak of a GPU from its name (e.g. "NVIDIA H100 80GB HBM3"), or None when unknown."""
    return next((v for k, v in GPU_BF16_PEAK_TFLOPS.items() if k.lower() in device_name.lower()), None)


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


def _existing_dataset(cfg: RunConfig) -> str | None:
    data = cfg.data
    cache = data.cache_path()
    return data.path or (str(cache) if cache and (cache / "meta.json").exists() else None)


def _dataset_shape(cfg: RunConfig) -> tuple[int, int, int, bool]:
    existing = _existing_dataset(cfg)
    data = cfg.data
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


@dataclass(frozen=True)
class SplitSizes:
    train: TrainShape
    test_rows: int | None  # None: not known without the dataset
    exact: bool  # False: estimated from the recipe (an upper bound on the versions)


def split_sizes(cfg: RunConfig) -> SplitSizes:
    """The train split's shape and the test split's rows, from the dataset or estimated from the recipe."""
    existing = _existing_dataset(cfg)
    if existing is not None:
        dataset = TokenDataset.open(existing)
        train = dataset.split("train")
        shape = TrainShape.of_indices(train.group_index, train.puzzle_index)
        return SplitSizes(shape, dataset.split("test").num_examples, True)
    kind, recipe = cfg.data.recipe()  # type: ignore[misc]
    if kind != "arc":
        n_train, n_test = recipe.n_train, recipe.n_test  # type: ignore[union-attr]
        versions = 1 + (getattr(recipe, "aug", 0) or (7 if getattr(recipe, "dihedral_aug", False) else 0))
        return SplitSizes(TrainShape(n_train, n_train * versions, n_train * versions), n_test, False)
    from arcsolve.data.tasks import load_tasks

    limit = recipe.grid_limit()  # type: ignore[union-attr]
    versions = recipe.aug + 1  # type: ignore[union-attr]
    source = [t for t in load_tasks(recipe.source) if t.max_side() <= limit]  # type: ignore[union-attr]
    extra = recipe.extra_train  # type: ignore[union-attr]
    extra_tasks = [t for t in load_tasks(extra) if t.max_side() <= limit] if extra else []
    rows = sum(len(t.train_pairs) for t in source)
    rows += sum(len(t.train_pairs) + len(t.test_outputs or ()) for t in extra_tasks)
    groups = len(source) + len(extra_tasks)
    test_rows = sum(len(t.test_inputs) for t in source) * versions
    return SplitSizes(TrainShape(groups, groups * versions, rows * versions), test_rows, False)


def plan_lines(
    cfg: RunConfig, sizes: SplitSizes, gpus: int, mfu: float, gpu: str = "H100", seq: int | None = None
) -> tuple[StepPlan, list[str]]:
    """Total optimizer steps, evaluation points and projected wall time at `mfu` of `gpus` x `gpu`.
    `seq`: the sequence length when already known (`ConfigInfo.seq_len`)."""
    tc, shape = cfg.train, sizes.train
    plan = step_plan(tc, shape)
    how = "max_steps" if tc.max_steps > 0 else tc.step_accounting
    estimated = "" if sizes.exact else " (estimated from the recipe)"
    points = plan.eval_steps
    shown = ", ".join(f"{p:,}" for p in points[:5]) + (f", ... {points[-1]:,}" if len(points) > 5 else "")
    seq = seq or _dataset_shape(cfg)[0]
    train_flops = plan.total_steps * tc.global_batch_size * flops_per_example(cfg.model, seq, train=True)
    eval_rows = sizes.test_rows or 0
    if tc.eval_max_examples > 0:
        eval_rows = min(eval_rows, tc.eval_max_examples)
    eval_flops = (
        len(points) * eval_rows * cfg.model.halt_max_steps * flops_per_example(cfg.model, seq, train=False)
    )
    peak = bf16_peak_tflops(gpu)
    lines = [
        f"train split: {shape.groups:,} groups, {shape.puzzles:,} puzzles, {shape.examples:,} examples "
        f"({shape.mean_examples:.4f} per puzzle){estimated}",
        f"{plan.total_steps:,} optimizer steps ({how}; {plan.steps_per_epoch:.2f} per epoch, "
        f"global batch {tc.global_batch_size}, {tc.grad_accum_steps} micro-batch(es) per rank)",
        f"{len(points)} evaluations, at steps {shown}",
        f"{(train_flops + eval_flops) / 1e18:.1f} EFLOP: {train_flops / 1e18:.1f} training + "
        f"{eval_flops / 1e18:.2f} evaluation ({eval_rows:,} test rows x {cfg.model.halt_max_steps} steps each)",
    ]
    if peak is None:
        lines.append(f"no bf16 peak known for {gpu!r}; known: {', '.join(GPU_BF16_PEAK_TFLOPS)}")
    else:
        seconds = (train_flops + eval_flops) / (mfu * peak * 1e12 * gpus)
        lines.append(
            f"projected wall time {seconds / 3600:.1f} h ({seconds / 86400:.2f} days) on {gpus} x {gpu} "
            f"at {mfu:.0%} of its {peak:.0f} TFLOP/s bf16 peak (a projection, not a measurement)"
        )
    return plan, lines
