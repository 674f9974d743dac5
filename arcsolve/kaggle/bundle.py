"""`arcsolve kaggle bundle`: one folder to upload as a Kaggle dataset for an offline run.

The folder holds
- `arcsolve-<version>-py3-none-any.whl`, built here from the source checkout arcsolve is installed
  from (Kaggle has no internet, so the package travels with the model);
- `model.pt`, a byte-for-byte copy of the checkpoint (a run directory means its latest checkpoint);
- `run.py`, a copy of `run_template.py`: a standalone script the notebook runs;
- `bundle.json`: what is inside (arcsolve version, wheel name, checkpoint sha256, tta, time budget,
  extra predict flags, creation time). `run.py` takes its defaults from it.

The folder is built as `OUT.tmp/` and renamed to OUT only when complete.
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import arcsolve
from arcsolve.errors import BadInputError, RunFailure
from arcsolve.io import atomic_directory, atomic_write_json
from arcsolve.train.checkpoint import CHECKPOINT_FORMAT, git_revision, resolve_checkpoint_path

BUNDLE_FORMAT = 1
BUNDLE_FILE = "bundle.json"
MODEL_FILE = "model.pt"
RUN_FILE = "run.py"
DEFAULT_TTA = 8
# Kaggle's ARC Prize notebooks may run for 12 hours; keep one for start-up, install and slack.
DEFAULT_TIME_BUDGET = 11 * 3600.0
# run.py sets these itself for every shard; letting extra flags repeat them would be ambiguous.
_RESERVED_FLAGS = ("--tasks", "--out", "--tta", "--device", "--time-budget")
# What a wheel build needs from the checkout. A whitelist, so run dirs or datasets kept in the
# checkout are never copied, and no stale `build/` folder leaks deleted modules into the wheel.
_SOURCE_FILES = ("pyproject.toml", "setup.py", "setup.cfg", "MANIFEST.in")
_SOURCE_GLOBS = ("README*", "LICENSE*", "LICENCE*")
_SOURCE_DIRS = ("arcsolve", "configs")
_CHUNK = 8 << 20


@dataclass(frozen=True)
class BundleSummary:
    out: Path
    wheel: Path
    model: Path
    run_script: Path
    manifest: Path
    checkpoint_source: Path  # the resolved checkpoint file that was copied
    checkpoint_sha256: str
    checkpoint_bytes: int
    arcsolve_version: str
    tta: int
    time_budget: float
    predict_args: tuple[str, ...]

    def lines(self) -> list[str]:
        """Human-readable report for the CLI."""
        extra = " ".join(self.predict_args) or "none"
        return [
            f"{self.out}: Kaggle bundle for arcsolve {self.arcsolve_version}",
            f"  {self.wheel.name}",
            f"  {self.model.name} ({self.checkpoint_bytes / 1e6:.1f} MB, sha256 {self.checkpoint_sha256[:16]}...) "
            f"from {self.checkpoint_source}",
            f"  {self.run_script.name}: tta {self.tta}, time budget {self.time_budget:.0f} s, extra predict flags: {extra}",
            f"upload {self.out} as a Kaggle dataset; in a notebook with internet off run "
            f"`!python /kaggle/input/<dataset>/{RUN_FILE}`",
        ]


def find_source_root(package_dir: Path | None = None) -> Path:
    """The source checkout arcsolve is installed from (the folder holding its pyproject.toml).

    Raises BadInputError when arcsolve runs from an installed wheel: there is nothing to build from.
    """
    package_dir = Path(package_dir or Path(arcsolve.__file__).resolve().parent)
    root = package_dir.parent
    pyproject = root / "pyproject.toml"
    hint = "install arcsolve from a source checkout (pip install -e /path/to/arcsolve) and build there"
    if not pyproject.is_file():
        raise BadInputError(
            "kaggle bundle", f"arcsolve at {package_dir} is not installed from a source checkout; {hint}"
        )
    try:
        name = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {}).get("name")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise BadInputError(str(pyproject), f"cannot read: {err}") from None
    if name != "arcsolve":
        raise BadInputError(str(pyproject), f"declares project {name!r}, not arcsolve; {hint}")
    return root


def _copy_build_sources(root: Path, dest: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in _SOURCE_FILES:
        if (root / name).is_file():
            shutil.copy2(root / name, dest / name)
    for pattern in _SOURCE_GLOBS:
        for path in root.glob(pattern):
            if path.is_file():
                shutil.copy2(path, dest / path.name)
    for name in _SOURCE_DIRS:
        if (root / name).is_dir():
            shutil.copytree(root / name, dest / name, ignore=ignore)


def build_wheel(source_root: Path, dest: Path) -> Path:
    """Build the arcsolve wheel (no dependencies) from a clean copy of `source_root` into `dest`.

    Runs `python -m pip wheel --no-deps --no-build-isolation`: offline, with the setuptools that is
    already installed.
    """
    if importlib.util.find_spec("setuptools") is None:
        raise BadInputError("kaggle bundle", "building the wheel needs setuptools (pip install setuptools)")
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="arcsolve-wheel-") as tmp:
        src, out = Path(tmp) / "src", Path(tmp) / "wheels"
        src.mkdir()
        _copy_build_sources(source_root, src)
        cmd = [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation"]
        cmd += ["--no-index", "--disable-pip-version-check", "-w", str(out)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            tail = " | ".join((done.stdout + done.stderr).strip().splitlines()[-5:])
            raise RunFailure("kaggle bundle", f"pip wheel failed (exit {done.returncode}): {tail}")
        wheels = sorted(out.glob("arcsolve-*.whl"))
        if len(wheels) != 1:
            raise RunFailure("kaggle bundle", f"pip wheel made {len(wheels)} arcsolve wheels, expected 1")
        return Path(shutil.copy2(wheels[0], dest / wheels[0].name))


def _check_checkpoint(path: Path) -> dict[str, Any]:
    """Open the checkpoint (memory-mapped, so a multi-GB file costs little) and check that
    `arcsolve predict` can use it: an arcsolve checkpoint trained on ARC with EMA weights."""
    import torch

    try:
        payload = torch.load(path, map_location="cpu", mmap=True, weights_only=False)
    except Exception as err:  # noqa: BLE001 - torch raises many types for a corrupt file
        raise BadInputError(str(path), f"not a readable checkpoint ({type(err).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise BadInputError(str(path), "not an arcsolve checkpoint (missing or unknown format)")
    kind = (payload.get("dataset") or {}).get("kind")
    if kind != "arc":
        raise BadInputError(str(path), f"trained on a {kind!r} dataset; a Kaggle bundle answers ARC tasks")
    if "eval_model" not in payload:
        raise BadInputError(str(path), "holds no eval_model weights")
    return {"step": payload.get("step"), "git_revision": payload.get("git_revision")}


def _copy_hashing(src: Path, dst: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with src.open("rb") as reader, dst.open("wb") as writer:
        while chunk := reader.read(_CHUNK):
            digest.update(chunk)
            writer.write(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _check_options(tta: int, time_budget: float, extra_args: Sequence[str]) -> tuple[str, ...]:
    if isinstance(tta, bool) or not isinstance(tta, int) or tta < 1:
        raise BadInputError("kaggle bundle", f"tta: must be an integer >= 1, got {tta!r}")
    if not time_budget >= 0:  # also catches NaN
        raise BadInputError(
            "kaggle bundle", f"time budget: must be >= 0 seconds (0 = none), got {time_budget!r}"
        )
    if isinstance(extra_args, str) or not all(isinstance(arg, str) for arg in extra_args):
        raise BadInputError("kaggle bundle", "extra predict arguments must be a list of strings")
    for arg in extra_args:
        if arg.split("=", 1)[0] in _RESERVED_FLAGS:
            raise BadInputError("kaggle bundle", f"extra predict argument {arg} is set by run.py itself")
    return tuple(extra_args)


def build_bundle(
    checkpoint: Path,
    out: Path,
    tta: int = DEFAULT_TTA,
    time_budget: float = DEFAULT_TIME_BUDGET,
    extra_args: Sequence[str] = (),
    overwrite: bool = False,
    source_root: Path | None = None,
) -> BundleSummary:
    """Write the bundle folder OUT (atomically) for `checkpoint` (a .pt file or a run directory).

    `tta` and `time_budget` (seconds for the whole notebook run, 0 = none) become run.py's defaults;
    `extra_args` are passed to every `arcsolve predict` call (e.g. `["--batch-size", "256"]`).
    `source_root` is the checkout to build the wheel from (default: the one arcsolve runs from).
    """
    predict_args = _check_options(tta, time_budget, extra_args)
    out = Path(out)
    if out.exists() and not overwrite:
        raise BadInputError(str(out), "already exists; choose a new folder or allow overwriting")
    ckpt = resolve_checkpoint_path(Path(checkpoint)).resolve()
    info = _check_checkpoint(ckpt)
    root = Path(source_root) if source_root is not None else find_source_root()
    template = Path(__file__).with_name("run_template.py")
    with atomic_directory(out, overwrite=overwrite) as tmp:
        wheel = build_wheel(root, tmp)
        sha256, size = _copy_hashing(ckpt, tmp / MODEL_FILE)
        shutil.copyfile(template, tmp / RUN_FILE)
        manifest = {
            "format": BUNDLE_FORMAT,
            "arcsolve_version": arcsolve.__version__,
            "source_revision": git_revision(),
            "wheel": wheel.name,
            "checkpoint": MODEL_FILE,
            "checkpoint_source": str(ckpt),
            "checkpoint_sha256": sha256,
            "checkpoint_bytes": size,
            "checkpoint_step": info["step"],
            "checkpoint_git_revision": info["git_revision"],
            "tta": tta,
            "time_budget": float(time_budget),
            "predict_args": list(predict_args),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        atomic_write_json(tmp / BUNDLE_FILE, manifest, indent=True)
    return BundleSummary(
        out=out,
        wheel=out / wheel.name,
        model=out / MODEL_FILE,
        run_script=out / RUN_FILE,
        manifest=out / BUNDLE_FILE,
        checkpoint_source=ckpt,
        checkpoint_sha256=sha256,
        checkpoint_bytes=size,
        arcsolve_version=arcsolve.__version__,
        tta=tta,
        time_budget=float(time_budget),
        predict_args=predict_args,
    )
