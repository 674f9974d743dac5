"""Install arcsolve and only the dependencies the notebook's Python lacks, offline.

bundle.json lists the runtime dependencies the bundle carries wheels for (`runtime_wheels`: name,
version, import name). Each is tried with `python -c "import X"` in a child; the ones that fail are
installed from `<bundle>/wheels` with `pip install --no-index --find-links --no-deps`, named one by
one with their versions, together with the arcsolve wheel. pip never resolves dependencies here,
so the image's torch and numpy are never replaced (they are never named either).

First of all, a Python the bundle holds no wheels for (bundle.json `python_versions`) is named in
one line beside the versions it holds; then only what installs on any Python is tried.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

from . import children
from .common import log

NEVER_INSTALLED = {"torch", "numpy"}
MIN_PYTHON = (3, 11)


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    errors = [line for line in lines if "Error" in line or line.startswith("arcsolve: error")]
    return (errors or lines or ["(no output)"])[-1]


def imports(module: str, timeout: float) -> tuple[bool, str]:
    code, output = children.run([sys.executable, "-c", f"import {module}"], timeout)
    return code == 0, "" if code == 0 else (last_line(output) if code is not None else "timed out")


def find_wheel(bundle_dir: Path, manifest: dict, override: Path | None) -> Path | None:
    if override is not None:
        return override if override.is_file() else None
    named = manifest.get("wheel")
    found = [bundle_dir / named] if named else sorted(bundle_dir.glob("arcsolve-*.whl"))
    return found[-1] if found and found[-1].is_file() else None


def python_problem(manifest: dict) -> str | None:
    """None when this Python can run the bundle, else one line naming it and the bundle's versions."""
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    held = manifest.get("python_versions")
    held = [str(v) for v in held] if isinstance(held, list) else []
    holds = f"the bundle holds wheels for Python {', '.join(held)}" if held else ""
    if sys.version_info < MIN_PYTHON:
        need = f"arcsolve needs {'.'.join(map(str, MIN_PYTHON))} or newer"
        return f"this notebook runs Python {here}; {need}" + (f" and {holds}" if holds else "")
    if held and here not in held:
        return f"this notebook runs Python {here}, but {holds} only (rebuild it with --python-version {here})"
    return None


def pure_wheel(folder: Path, dep: dict) -> bool:
    """Whether `folder` holds a wheel of `dep` that installs on any Python (`*-none-any.whl`)."""
    stem = f"{re.sub(r'[-_.]+', '_', dep['name']).lower()}-{dep['version']}-"
    return any(
        p.name.lower().startswith(stem) and p.name.endswith("-none-any.whl") for p in folder.glob("*.whl")
    )


def install(bundle_dir: Path, manifest: dict, wheel_override: Path | None, seconds: float) -> list[str]:
    """Install what is missing; return the problems (one line each) that will stop predict. On a
    Python the bundle holds no wheels for, that is said first and only pure-Python wheels are tried."""
    foreign = python_problem(manifest)
    if foreign:
        log(f"ERROR: {foreign}")
    problems = [foreign] if foreign else []
    wheel = find_wheel(bundle_dir, manifest, wheel_override)
    if wheel is None:
        return problems + [f"no arcsolve wheel in {bundle_dir} (is the whole bundle attached?)"]
    deps = [d for d in manifest.get("runtime_wheels", []) if d.get("name") not in NEVER_INSTALLED]
    budget = time.monotonic() + seconds
    missing = []
    for dep in deps:
        ok, why = imports(dep["import"], max(1.0, budget - time.monotonic()))
        if children.STOP.signum is not None:
            return problems + [f"install stopped by {children.STOP.name}"]
        if not ok:
            missing.append(dep)
            log(f"{dep['import']} does not import here ({why}); installing {dep['name']} {dep['version']}")
    if deps and not missing:
        log(f"every runtime dependency imports already: {', '.join(d['name'] for d in deps)}")
    if foreign:
        unfit = [d["name"] for d in missing if not pure_wheel(bundle_dir / "wheels", d)]
        missing = [d for d in missing if d["name"] not in unfit]
        problems += (
            [f"no wheel for this Python in the bundle: {', '.join(unfit)} stays missing"] if unfit else []
        )
    cmd = [sys.executable, "-m", "pip", "install", "--no-index", "--find-links", str(bundle_dir / "wheels")]
    cmd += ["--no-deps", "--force-reinstall", "--disable-pip-version-check", "--no-warn-script-location"]
    cmd += [f"{d['name']}=={d['version']}" for d in missing] + [str(wheel)]
    log("installing: " + " ".join(cmd[3:]))
    code, output = children.run(cmd, max(1.0, budget - time.monotonic()))
    if code != 0 and children.STOP.signum is not None:
        return problems + [f"pip install stopped by {children.STOP.name}"]
    if code != 0:
        why = "timed out" if code is None else f"exit {code}"
        tail = " | ".join(output.strip().splitlines()[-4:])
        return problems + [f"pip install failed ({why}): {tail}"]
    for dep in missing:
        ok, why = imports(dep["import"], max(1.0, budget - time.monotonic()))
        if not ok:
            problems.append(f"{dep['name']} {dep['version']} was installed but does not import: {why}")
    return problems


def predict_flags(command: list[str], timeout: float) -> tuple[set[str], str | None]:
    """The long flags `arcsolve predict --help` lists, or (empty, the error line) when it fails:
    the first sign that predict cannot start at all."""
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    code, output = children.run(command + ["--help"], timeout, env=env)
    if code != 0:
        return set(), last_line(output) if code is not None else "predict --help timed out"
    return set(re.findall(r"--[a-z][a-z0-9-]*", output)), None
