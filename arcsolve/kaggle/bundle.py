"""`arcsolve kaggle bundle`: one folder to upload as a Kaggle dataset for an offline run.

The folder holds
- `arcsolve-<version>-py3-none-any.whl`, built here from the source checkout arcsolve is installed
  from (Kaggle has no internet, so the package travels with the model);
- `wheels/`: the run-time dependencies a torch + numpy image may lack, for Linux x86_64 and each
  chosen Python version (`arcsolve.kaggle.wheels`); never torch or numpy;
- `model.pt`, a byte-for-byte copy of the checkpoint (a run directory means its latest checkpoint);
- `run.py`, a copy of `run_template.py`, and `arcsolve_kaggle_runner/`, the standard-library-only
  modules it runs;
- `bundle.json`: what is inside and the settings run.py starts from (competition, tta, time budget,
  commit-run sample, predict options for hidden tasks, extra predict flags, the dependency pins).

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
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import arcsolve
from arcsolve.errors import BadInputError, RunFailure
from arcsolve.io import atomic_directory, atomic_write_json
from arcsolve.kaggle.options import BundleOptions, competition_problem
from arcsolve.kaggle.wheels import check_python_versions, gather_wheels
from arcsolve.train.checkpoint import CHECKPOINT_FORMAT, git_revision, resolve_checkpoint_path

BUNDLE_FORMAT = 2
BUNDLE_FILE = "bundle.json"
MODEL_FILE = "model.pt"
RUN_FILE = "run.py"
RUNNER_DIR = "arcsolve_kaggle_runner"
WHEELS_DIR = "wheels"
# run.py sets these itself for every shard; letting extra flags repeat them would be ambiguous.
_RESERVED_FLAGS = ("--tasks", "--out", "--tta", "--device", "--time-budget", "--skip-bad-tasks")


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
    options: BundleOptions
    wheels: tuple[str, ...]  # the dependency wheels in wheels/
    bundle_bytes: int

    def lines(self) -> list[str]:
        """Human-readable report for the CLI."""
        opts, hidden = self.options, self.options.hidden
        adapt = (
            f"adapt {hidden.adapt_steps} steps max ({hidden.adapt_model})"
            if hidden.adapt_steps
            else "no adaptation"
        )
        extra = " ".join(opts.extra_args) or "none"
        return [
            f"{self.out}: Kaggle bundle for arcsolve {self.arcsolve_version} and "
            f"{opts.competition or 'the attached ARC Prize competition (newest by year)'}, "
            f"{self.bundle_bytes / 1e6:.1f} MB",
            f"  {self.wheel.name}; {len(self.wheels)} dependency wheels for Python {', '.join(opts.python_versions)}",
            f"  {self.model.name} ({self.checkpoint_bytes / 1e6:.1f} MB, sha256 {self.checkpoint_sha256[:16]}...) "
            f"from {self.checkpoint_source}",
            f"  {self.run_script.name}: tta {opts.tta}, {adapt}, time budget {opts.time_budget:.0f} s "
            f"(commit runs: {opts.commit_tasks or 'all'} tasks, at most {opts.commit_budget:.0f} s), "
            f"extra predict flags: {extra}",
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


def _check_options(options: BundleOptions) -> BundleOptions:
    """Refuse what predict or run.py would refuse later, on Kaggle, where it costs a submission."""
    where = "kaggle bundle"
    for name, value in (("tta", options.tta), ("commit_tasks", options.commit_tasks)):
        if isinstance(value, bool) or not isinstance(value, int) or value < (1 if name == "tta" else 0):
            raise BadInputError(
                where, f"{name}: must be an integer >= {1 if name == 'tta' else 0}, got {value!r}"
            )
    for name in ("time_budget", "commit_budget"):
        if not getattr(options, name) >= 0:  # also catches NaN
            raise BadInputError(
                where, f"{name}: must be >= 0 seconds (0 = none), got {getattr(options, name)!r}"
            )
    if competition_problem(options.competition):
        raise BadInputError(where, competition_problem(options.competition))
    hidden = options.hidden
    if hidden.adapt_model not in ("none", "last", "all"):
        raise BadInputError(where, f"adapt model: none, last or all, got {hidden.adapt_model!r}")
    if hidden.forward_dtype not in (None, "auto", "float32", "bfloat16", "float16"):
        raise BadInputError(
            where, f"forward dtype: auto, float32, bfloat16 or float16, got {hidden.forward_dtype!r}"
        )
    for name in ("adapt_steps", "adapt_aug", "batch_size"):
        value = getattr(hidden, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise BadInputError(where, f"{name.replace('_', ' ')}: must be an integer >= 0, got {value!r}")
    extra = options.extra_args
    if isinstance(extra, str) or not all(isinstance(arg, str) for arg in extra):
        raise BadInputError(where, "extra predict arguments must be a list of strings")
    for arg in extra:
        if arg.split("=", 1)[0] in _RESERVED_FLAGS:
            raise BadInputError(where, f"extra predict argument {arg} is set by run.py itself")
    check_python_versions(tuple(options.python_versions))
    return options


def build_bundle(
    checkpoint: Path,
    out: Path,
    options: BundleOptions | None = None,
    overwrite: bool = False,
    source_root: Path | None = None,
) -> BundleSummary:
    """Write the bundle folder OUT (atomically) for `checkpoint` (a .pt file or a run directory).

    `options` become run.py's defaults (see BundleOptions); `source_root` is the checkout to build
    the wheel from (default: the one arcsolve runs from). The dependency wheels come from the
    package index unless `options.wheels_dir` holds them.
    """
    options = _check_options(options or BundleOptions())
    out = Path(out)
    if out.exists() and not overwrite:
        raise BadInputError(str(out), "already exists; choose a new folder or allow overwriting")
    ckpt = resolve_checkpoint_path(Path(checkpoint)).resolve()
    info = _check_checkpoint(ckpt)
    root = Path(source_root) if source_root is not None else find_source_root()
    here = Path(__file__).parent
    with atomic_directory(out, overwrite=overwrite) as tmp:
        wheel = build_wheel(root, tmp)
        requirements = gather_wheels(tmp / WHEELS_DIR, tuple(options.python_versions), options.wheels_dir)
        sha256, size = _copy_hashing(ckpt, tmp / MODEL_FILE)
        shutil.copyfile(here / "run_template.py", tmp / RUN_FILE)
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(here / RUNNER_DIR, tmp / RUNNER_DIR, ignore=ignore)
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
            "competition": options.competition,
            "tta": options.tta,
            "time_budget": float(options.time_budget),
            "commit_tasks": options.commit_tasks,
            "commit_budget": float(options.commit_budget),
            "predict_options": asdict(options.hidden),
            "predict_args": list(options.extra_args),
            "python_versions": list(options.python_versions),
            "runtime_wheels": [r.to_json() for r in requirements],
            "wheels": sorted(p.name for p in (tmp / WHEELS_DIR).iterdir()),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        manifest["bundle_bytes"] = sum(p.stat().st_size for p in tmp.rglob("*") if p.is_file())
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
        options=options,
        wheels=tuple(manifest["wheels"]),
        bundle_bytes=manifest["bundle_bytes"],
    )
