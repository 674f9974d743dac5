"""run.py's settings: command-line flag, else environment variable `ARCSOLVE_<FLAG>`, else
bundle.json beside run.py, else the built-in default. A bad value is reported (one line, exit code 2
at the end) and replaced by its default: the run goes on, so a valid submission is still written.

Flags for `arcsolve predict` pass through `--predict-arg VALUE` (with or without `=`, VALUE may
start with `--`) or everything after a lone `--`; they follow the bundle's predict options, so the
notebook's win.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path

DEFAULT_COMMIT_TASKS = 20
DEFAULT_COMMIT_BUDGET = 900.0  # seconds: a commit (non-rerun) run's budget, unless one is given
DEFAULT_TTA = 8
# bundle.json `predict_options` key -> `arcsolve predict` flag.
OPTION_FLAGS = {
    "adapt_steps": "--adapt-steps",
    "adapt_aug": "--adapt-aug",
    "adapt_model": "--adapt-model",
    "adapt_lr": "--adapt-lr",
    "forward_dtype": "--forward-dtype",
    "batch_size": "--batch-size",
    "search": "--search",
}


class SettingsError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise SettingsError(message)


def normalise(argv: list[str]) -> list[str]:
    """`--predict-arg X` -> `--predict-arg=X` (argparse would take an X starting with `--` for a
    flag of its own); every word after a lone `--` becomes one `--predict-arg=WORD`."""
    out, i = [], 0
    while i < len(argv):
        word = argv[i]
        if word == "--":
            out += [f"--predict-arg={rest}" for rest in argv[i + 1 :]]
            break
        if word == "--predict-arg" and i + 1 < len(argv):
            out.append(f"--predict-arg={argv[i + 1]}")
            i += 2
            continue
        out.append(word)
        i += 1
    return out


def parser() -> Parser:
    p = Parser(description="Run an arcsolve bundle and write a Kaggle submission.", allow_abbrev=False)
    add = p.add_argument
    add("--bundle-dir", type=Path, help="default: the folder of run.py")
    add("--input-root", type=Path, help="default /kaggle/input")
    add("--working-dir", type=Path, help="default /kaggle/working")
    add("--challenges", type=Path, help="answer this file (skips the search)")
    add("--out", type=Path, help="default WORKING_DIR/submission.json")
    add(
        "--competition",
        help="folder under the input root to answer (default: bundle.json's; without one, the only "
        "attached competition, else the newest by year)",
    )
    add("--checkpoint", type=Path, help="default: the bundle's model.pt")
    add("--wheel", type=Path, help="default: the bundle's arcsolve wheel")
    add("--tta", type=int, help="views per test input (default: bundle.json's)")
    add("--time-budget", type=float, help="seconds for the whole run; 0 = none (default: bundle.json's)")
    add("--commit-tasks", type=int, help="tasks a commit (non-rerun) run answers; 0 = all (default 20)")
    add("--seed", type=int)
    add("--device", choices=("auto", "cpu", "cuda"))
    add("--gpus", help="skip GPU detection: ID[=MAJOR.MINOR],... e.g. 0=7.5,1=7.5 (two T4s)")
    add("--shards", type=int, help="default one per GPU, 1 on the CPU")
    add("--skip-install", action="store_true", default=None)
    add("--predict-command", help="default: this python -m arcsolve predict")
    add("--predict-arg", action="append", help="a flag for predict, e.g. --predict-arg --adapt-steps")
    return p


ENV_TYPES = {
    "tta": int, "time_budget": float, "commit_tasks": int, "seed": int, "shards": int,
    "bundle_dir": Path, "input_root": Path, "working_dir": Path, "challenges": Path, "out": Path,
    "checkpoint": Path, "wheel": Path,
}  # fmt: skip


def from_env(args: argparse.Namespace, problems: list[str]) -> None:
    for name, value in vars(args).items():
        raw = os.environ.get(f"ARCSOLVE_{name.upper()}")
        if value is not None or raw is None or name == "predict_arg":
            continue
        if name == "skip_install":
            setattr(args, name, raw == "1")
            continue
        try:
            setattr(args, name, ENV_TYPES.get(name, str)(raw))
        except ValueError:
            problems.append(f"ARCSOLVE_{name.upper()}={raw!r}: not a valid value; using the default")


def load_manifest(bundle_dir: Path, problems: list[str]) -> dict:
    path = bundle_dir / "bundle.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        problems.append(f"{path}: unusable ({' '.join(str(err).split())}); flags and defaults only")
        return {}
    if not isinstance(data, dict):
        problems.append(f"{path}: not a JSON object; flags and defaults only")
        return {}
    return data


def _number(value: object, kind: type, name: str, default: float, problems: list[str]) -> float:
    try:
        number = kind(value)
        if number < 0:
            raise ValueError
        return number
    except (TypeError, ValueError):
        problems.append(f"{name}: {value!r} is not a number >= 0; using {default}")
        return default


def option_flags(options: object, problems: list[str]) -> list[str]:
    flags = []
    for key, value in (options or {}).items() if isinstance(options, dict) else []:
        if key not in OPTION_FLAGS:
            problems.append(f"bundle.json predict_options: unknown option {key!r} ignored")
        elif isinstance(value, bool):  # a switch: --search / --no-search
            flags.append(OPTION_FLAGS[key] if value else OPTION_FLAGS[key].replace("--", "--no-", 1))
        elif value is not None:
            flags += [OPTION_FLAGS[key], str(value)]
    return flags


def resolve(argv: list[str] | None, rerun: bool) -> argparse.Namespace:
    """Every setting, with `problems` (one line each) for the bad ones."""
    problems: list[str] = []
    p = parser()
    try:
        args, unknown = p.parse_known_args(normalise(list(sys.argv[1:] if argv is None else argv)))
    except SettingsError as err:
        problems.append(f"command line: {err}; every flag ignored")
        args, unknown = p.parse_known_args([])
    if unknown:
        problems.append(
            f"command line: unknown argument(s) ignored: {' '.join(unknown)} (predict flags: --predict-arg X)"
        )
    from_env(args, problems)
    # This package sits in the bundle folder, beside run.py and bundle.json.
    args.bundle_dir = args.bundle_dir or Path(__file__).resolve().parent.parent
    manifest = args.manifest = load_manifest(args.bundle_dir, problems)
    args.input_root = args.input_root or Path("/kaggle/input")
    args.working_dir = args.working_dir or Path("/kaggle/working")
    args.out = args.out or args.working_dir / "submission.json"
    pinned = manifest.get("competition")  # null: the bundle was built for whichever is attached
    args.competition = args.competition or (str(pinned) if pinned else None)
    args.checkpoint = args.checkpoint or args.bundle_dir / manifest.get("checkpoint", "model.pt")
    args.tta = (
        int(
            _number(
                args.tta if args.tta is not None else manifest.get("tta", DEFAULT_TTA),
                int,
                "tta",
                DEFAULT_TTA,
                problems,
            )
        )
        or DEFAULT_TTA
    )
    bundle_budget = _number(manifest.get("time_budget", 0), float, "bundle.json time_budget", 0.0, problems)
    commit_budget = _number(
        manifest.get("commit_budget", DEFAULT_COMMIT_BUDGET),
        float,
        "commit_budget",
        DEFAULT_COMMIT_BUDGET,
        problems,
    )
    if args.time_budget is not None:
        args.time_budget = _number(args.time_budget, float, "--time-budget", bundle_budget, problems)
    elif rerun or not commit_budget:
        args.time_budget = bundle_budget
    else:  # a commit run: short, unless the bundle's own budget is shorter
        args.time_budget = min(bundle_budget, commit_budget) if bundle_budget else commit_budget
    commit = (
        args.commit_tasks
        if args.commit_tasks is not None
        else manifest.get("commit_tasks", DEFAULT_COMMIT_TASKS)
    )
    args.commit_tasks = int(_number(commit, int, "commit_tasks", DEFAULT_COMMIT_TASKS, problems))
    args.seed = args.seed or 0
    if args.device not in (None, "auto", "cpu", "cuda"):
        problems.append(f"device {args.device!r}: expected auto, cpu or cuda; using auto")
        args.device = None
    args.device = args.device or "auto"
    args.skip_install = bool(args.skip_install)
    args.predict_command = args.predict_command or f"{shlex.quote(sys.executable)} -m arcsolve predict"
    extra = manifest.get("predict_args", [])
    extra = [str(a) for a in extra] if isinstance(extra, list) else []
    args.predict_args = (
        option_flags(manifest.get("predict_options"), problems) + extra + (args.predict_arg or [])
    )
    args.problems = problems
    return args
