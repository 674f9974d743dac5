"""One-shot GPU check: run this first on a machine with a GPU. Prints one JSON record.

    python benchmarks/gpu_check.py                     # one CUDA GPU, paper sizes, < 8 min on an H100
    python benchmarks/gpu_check.py --device cpu --tiny # the same code paths on tiny sizes (CI, < 1 min)

What it measures (each section is independent; a failing section records its error, the others
still run, and the exit code is 1):
- `train`: the paper ARC model (configs/arc1-trm-att.toml: hidden 512, 900 + 16 tokens, T=3, n=4,
  bf16) with the 876,406 x 512 task table, one optimizer step = `train_step` + `optimizer_step` of the
  training loop (micro-batch rows, ACT carry, sign-SGD, AdamATan2, EMA). The largest micro-batch that
  fits is searched eagerly (768, 384, 256, 192, 128, 96, 64, ... rows), then the step is timed eager
  and compiled (`torch.compile(dynamic=False)` with inductor, as `train.compile = "on"`) at that size: ms per
  step, rows/s, achieved TFLOP/s (matmul FLOPs from `flops_per_example`), its fraction of the GPU's
  bf16 peak (`GPU_BF16_PEAK_TFLOPS` in arcsolve/train/info.py), peak memory, the host syncs in one
  step (CUDA's sync debug mode; the loop's target is none between finite checks), and the paper
  ARC-AGI-1 run's projected days on 4 such GPUs at the compiled rate;
- `loader`: rows/s of 768-row 30x30 training batches encoded from a recipe dataset (arc1:training,
  aug 8) on one CPU thread, beside the compiled step's rows/s (`rows_vs_step`: how many steps' worth
  of rows the loader makes in one step's time; issue 23 asks for at least 20);
- `predict`: views/s of `evaluate_batch` (16 ACT steps per view, eager, as `arcsolve predict`);
- `bf16_vs_fp32`: one supervision step's logits with the same weights in bf16 and in float32;
- `sdpa_backend`: which attention kernel torch ran (flash, efficient, cudnn or math), from a profile;
- `torchrun`: a 1-process `torchrun` job that joins an nccl (gloo on CPU) group and all-reduces;
- `sudoku`: a few steps of configs/sudoku-trm-mlp.toml (MLP variant) through `run_train` on a small
  generated set.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch

from arcsolve.model.act import act_step, evaluate_batch, initial_carry
from arcsolve.model.config import ModelConfig
from arcsolve.model.trm import TRM, flops_per_example
from arcsolve.runtime import resolve_device
from arcsolve.train import distributed as dist
from arcsolve.train.config import RunConfig, TrainConfig, load_run_config
from arcsolve.train.info import bf16_peak_tflops
from arcsolve.train.loop import run_train
from arcsolve.train.plan import TrainShape, step_plan
from arcsolve.train.state import build_state
from arcsolve.train.step import train_step

REPO = Path(__file__).resolve().parents[1]
CANDIDATES = (768, 384, 256, 192, 128, 96, 64, 48, 32, 16, 8)
PAPER_SPLIT = TrainShape(groups=960, puzzles=876_405, examples=3_633_410)  # see tests/test_plan.py


@dataclasses.dataclass(frozen=True)
class Size:
    model: ModelConfig
    seq_len: int
    ids: int
    candidates: tuple[int, ...]
    timed_steps: int
    views: int
    loader_seconds: float  # how long the loader's rows/s is measured


def sizes(tiny: bool) -> Size:
    paper = load_run_config(REPO / "configs" / "arc1-trm-att.toml").model
    if not tiny:
        return Size(paper, 900, 876_406, CANDIDATES, 10, 64, 2.0)
    small = dataclasses.replace(
        paper, hidden_size=64, num_heads=2, H_cycles=2, L_cycles=2, halt_max_steps=4, puzzle_emb_len=4
    )
    return Size(small, 36, 64, (16, 8), 2, 8, 0.3)  # (a rate over 0.3 s: the same code path)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def peak_memory_bytes(device: torch.device) -> int:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device)
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))


def random_batch(
    rows: int, seq_len: int, ids: int, device: torch.device, seed: int = 0
) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    batch = {
        "inputs": torch.randint(0, 12, (rows, seq_len), generator=g),
        "labels": torch.randint(2, 12, (rows, seq_len), generator=g),
        "puzzle_ids": torch.randint(1, ids, (rows,), generator=g),
    }
    return {k: v.to(device) for k, v in batch.items()}


def make_state(size: Size, rows: int, device: torch.device):
    train = TrainConfig(global_batch_size=rows, device=device.type, lr_warmup_steps=1)
    cfg = RunConfig(model=size.model, train=train)
    dataset = SimpleNamespace(seq_len=size.seq_len, vocab_size=12, num_puzzle_ids=size.ids)
    return build_state(cfg, dataset, device)  # type: ignore[arg-type]


def run_steps(state, model, size: Size, rows: int, device: torch.device, steps: int) -> float:
    """Seconds per optimizer step over `steps` steps (after the caller's warm-up)."""
    info = dist.DistInfo()
    sync(device)
    start = time.perf_counter()
    for i in range(steps):
        state.set_learning_rates(1000)
        result = train_step(state, model, random_batch(rows, size.seq_len, size.ids, device, i), info)
        state.optimizer_step(result.rows, info)
    sync(device)
    return (time.perf_counter() - start) / steps


def fits(size: Size, rows: int, device: torch.device) -> bool:
    try:
        state = make_state(size, rows, device)
        run_steps(state, state.model, size, rows, device, 1)
        return True
    except torch.OutOfMemoryError:
        return False
    finally:
        state = None  # noqa: F841 - drop the references before emptying the cache
        if device.type == "cuda":
            torch.cuda.empty_cache()


def count_host_syncs(state, model, size: Size, rows: int, device: torch.device) -> int | None:
    if device.type != "cuda":
        return None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            run_steps(state, model, size, rows, device, 1)
        finally:
            torch.cuda.set_sync_debug_mode("default")
    return sum("synchroniz" in str(w.message) for w in caught)


def check_train(size: Size, device: torch.device, peak: float | None, backend: str) -> dict[str, Any]:
    rows = next((r for r in size.candidates if fits(size, r, device)), None)
    if rows is None:
        raise RuntimeError(f"not even {size.candidates[-1]} rows fit")
    per_row = flops_per_example(size.model, size.seq_len, 12, train=True)
    out: dict[str, Any] = {
        "micro_batch": rows,
        "train_gflop_per_row": per_row / 1e9,
        "compile_backend": backend,
    }
    for mode in ("eager", "compiled"):
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        state = make_state(size, rows, device)
        model = (
            torch.compile(state.model, dynamic=False, backend=backend) if mode == "compiled" else state.model
        )
        start = time.perf_counter()
        run_steps(state, model, size, rows, device, 2)  # warm-up (compiles the train graph)
        warmup = time.perf_counter() - start
        seconds = run_steps(state, model, size, rows, device, size.timed_steps)
        tflops = rows * per_row / seconds / 1e12
        out[mode] = {
            "ms_per_step": round(seconds * 1e3, 2),
            "rows_per_s": round(rows / seconds, 1),
            "tflops": round(tflops, 2),
            "fraction_of_bf16_peak": None if peak is None else round(tflops / peak, 3),
            "peak_memory_gib": round(peak_memory_bytes(device) / 2**30, 2),
            "warmup_s": round(warmup, 1),
            "host_syncs_per_step": count_host_syncs(state, model, size, rows, device),
        }
        del state, model
        if device.type == "cuda":
            torch.cuda.empty_cache()
    if size.model.hidden_size != 512:  # --tiny: a projection would mean nothing
        return out
    paper_cfg = load_run_config(REPO / "configs" / "arc1-trm-att.toml")
    steps = step_plan(paper_cfg.train, PAPER_SPLIT).total_steps
    paper_flops = steps * 768 * flops_per_example(paper_cfg.model, 900, 12, train=True)
    out["arc1_paper_run_days_on_4_at_compiled_rate"] = round(
        paper_flops / (4 * out["compiled"]["tflops"] * 1e12) / 86400, 2
    )
    return out


def check_loader(size: Size, record: dict[str, Any]) -> dict[str, Any]:
    from recipe_bench import loader_rows_per_second

    from arcsolve.data.arc_builder import ArcBuildConfig, build_arc_dataset

    with tempfile.TemporaryDirectory(prefix="gpu-check-loader-") as tmp:
        build_arc_dataset(ArcBuildConfig(source="arc1:training", aug=8), Path(tmp) / "ds", progress=False)
        rate = loader_rows_per_second(Path(tmp) / "ds", seconds=size.loader_seconds)
    out: dict[str, Any] = {"rows_per_s": round(rate)}
    compiled = record.get("train", {}).get("compiled", {})
    if compiled.get("rows_per_s"):
        out["step_ms"] = compiled["ms_per_step"]
        out["rows_vs_step"] = round(rate / compiled["rows_per_s"], 1)
    return out


def check_predict(size: Size, device: torch.device) -> dict[str, Any]:
    model = (
        TRM(size.model, size.seq_len, 12, size.ids, generator=torch.Generator().manual_seed(0))
        .to(device)
        .eval()
    )
    batch = random_batch(size.views, size.seq_len, size.ids, device)
    evaluate_batch(model, batch)  # warm-up
    sync(device)
    start = time.perf_counter()
    evaluate_batch(model, batch)
    sync(device)
    seconds = time.perf_counter() - start
    return {
        "batch": size.views,
        "views_per_s": round(size.views / seconds, 2),
        "act_steps": size.model.halt_max_steps,
    }


def check_bf16_vs_fp32(size: Size, device: torch.device) -> dict[str, Any]:
    logits = {}
    for dtype in ("bfloat16", "float32"):
        cfg = dataclasses.replace(size.model, forward_dtype=dtype)
        model = (
            TRM(cfg, size.seq_len, 12, size.ids, generator=torch.Generator().manual_seed(0)).to(device).eval()
        )
        with torch.no_grad():
            model.puzzle_emb.normal_(generator=torch.Generator(device=device).manual_seed(1))
            batch = random_batch(8, size.seq_len, size.ids, device)
            logits[dtype] = act_step(model, initial_carry(model, batch), batch)[1].logits.float()
    low, ref = logits["bfloat16"], logits["float32"]
    return {
        "argmax_agreement": round(float((low.argmax(-1) == ref.argmax(-1)).float().mean()), 5),
        "max_abs_diff": round(float((low - ref).abs().max()), 4),
        "relative_l2": round(float((low - ref).norm() / ref.norm()), 5),
    }


def check_sdpa_backend(size: Size, device: torch.device) -> dict[str, Any]:
    model = TRM(size.model, size.seq_len, 12, 2).to(device)
    dtype = size.model.dtype_for(device)
    h = torch.randn(
        2, size.seq_len + size.model.puzzle_emb_len, size.model.hidden_size, device=device, dtype=dtype
    )
    block = model.blocks[0]
    with torch.no_grad(), torch.profiler.profile() as prof:
        block.attn(h, model.rotary)
    names = sorted({e.name for e in prof.events() if "attention" in e.name.lower()})
    kinds = [k for k in ("flash", "efficient", "cudnn", "math") if any(k in n.lower() for n in names)]
    return {"backend": kinds[0] if kinds else "unknown", "kernels": names[:6]}


SMOKE = """
import os, torch, torch.distributed as d
cuda = os.environ["CHECK_DEVICE"] == "cuda"
d.init_process_group("nccl" if cuda else "gloo")
t = torch.ones(3, device="cuda" if cuda else "cpu") * (d.get_rank() + 1)
d.all_reduce(t)
d.broadcast(t, src=0)
print(d.get_backend(), float(t.sum()))
d.destroy_process_group()
"""


def check_torchrun(device: torch.device) -> dict[str, Any]:
    runner = Path(sys.executable).with_name("torchrun")
    exe = str(runner) if runner.exists() else shutil.which("torchrun")
    if exe is None:
        raise RuntimeError("torchrun not found")
    start = time.perf_counter()
    env = {**os.environ, "CHECK_DEVICE": device.type, "OMP_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as tmp:
        script = Path(tmp) / "smoke.py"
        script.write_text(SMOKE)
        command = [exe, "--standalone", "--nproc_per_node", "1", str(script)]
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=240)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-1500:])
    backend, total = done.stdout.split()[-2:]
    return {
        "backend": backend,
        "all_reduce_ok": float(total) == 3.0,
        "seconds": round(time.perf_counter() - start, 1),
    }


def check_sudoku(device: torch.device, tiny: bool) -> dict[str, Any]:
    overrides = [
        "data.sudoku.n_train=64",
        "data.sudoku.n_test=16",
        "data.sudoku.aug=15",
        "data.sudoku.difficulty='easy'",
        f"train.device='{device.type}'",
        "train.eval_every=0",
        "train.log_every=1",
        "train.lr_warmup_steps=1",
    ]
    if tiny:
        overrides += [
            "train.global_batch_size=16",
            "model.hidden_size=64",
            "model.L_cycles=2",
            "model.halt_max_steps=2",
        ]
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as tmp:
        cfg = load_run_config(
            REPO / "configs" / "sudoku-trm-mlp.toml", [*overrides, f"data.cache_dir='{tmp}/cache'"]
        )
        start = time.perf_counter()
        result = run_train(cfg, Path(tmp) / "run", max_steps=3, progress=False)
        lines = [json.loads(x) for x in (Path(tmp) / "run" / "metrics.jsonl").read_text().splitlines()]
    losses = [r["train/lm_loss"] for r in lines if "train/lm_loss" in r]
    return {
        "steps": result["step"],
        "lm_loss": [round(x, 4) for x in losses],
        "seconds": round(time.perf_counter() - start, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", choices=("auto", "cuda", "cpu"), default="auto")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes: the same code paths in seconds")
    parser.add_argument(
        "--compile-backend",
        default=None,
        help="torch.compile backend for the compiled step (default inductor, as training; "
        "aot_eager with --tiny: the same graph capture without the minutes of C++ code generation on a CPU)",
    )
    args = parser.parse_args(argv)
    device = resolve_device(args.device, "--device")
    dist.enable_tf32(device)
    if device.type == "cpu":
        torch.set_num_threads(1)
    size = sizes(args.tiny)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    peak = bf16_peak_tflops(name)
    record: dict[str, Any] = {
        "device": name,
        "tiny": args.tiny,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "bf16_peak_tflops": peak,
        "tf32_matmul": torch.backends.cuda.matmul.allow_tf32,  # set by dist.enable_tf32 on CUDA
    }
    checks = {
        "sdpa_backend": lambda: check_sdpa_backend(size, device),
        "bf16_vs_fp32": lambda: check_bf16_vs_fp32(size, device),
        "train": lambda: check_train(
            size, device, peak, args.compile_backend or ("aot_eager" if args.tiny else "inductor")
        ),
        "loader": lambda: check_loader(size, record),
        "predict": lambda: check_predict(size, device),
        "torchrun": lambda: check_torchrun(device),
        "sudoku": lambda: check_sudoku(device, args.tiny),
    }
    failed = False
    started = time.perf_counter()
    for key, check in checks.items():
        t0 = time.perf_counter()
        try:
            record[key] = check()
        except Exception as err:  # noqa: BLE001 - one failing check must not hide the others
            failed = True
            record[key] = {"error": f"{type(err).__name__}: {err}", "trace": traceback.format_exc()[-1500:]}
        record.setdefault("seconds", {})[key] = round(time.perf_counter() - t0, 1)
    record["total_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(record))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
