"""The house style of the `arcsolve` command line on top of Typer: usage errors and typed errors as
one line `arcsolve: error: <where>: <what>` with their exit code, and `ARCSOLVE_DEBUG=1` for the full
traceback. `arcsolve/cli.py` declares the commands; this module holds no command.

Click's exception classes are imported from the copy Typer >= 0.20 vendors (`typer._click`, not a
public module), falling back to click itself for older Typer; tests/test_cli.py's usage-error tests
fail loudly if either ever moves.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import sys
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from typer.core import TyperGroup

try:  # Typer 0.2x ships its own copy of click
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
except ImportError:  # older Typer runs on click itself
    from click.exceptions import ClickException, NoArgsIsHelpError, UsageError

from arcsolve.errors import ArcsolveError

F = TypeVar("F", bound=Callable[..., Any])

# --quiet of the long commands: no progress bar on a terminal and no progress lines elsewhere.
QuietFlag = Annotated[bool, typer.Option("--quiet", "-q", help="show no progress (bar or lines) on stderr")]


class OneLineUsageErrors(TyperGroup):
    """The root command group: click's usage errors become `arcsolve: error: <command>: <what>`.

    Click (vendored by Typer) would print a usage box of several lines. Parsing runs with
    `standalone_mode=False`, so its exceptions reach this method, which prints them the house way.
    Help (`--help`, or a group called with nothing) still prints in full.
    """

    def main(self, args: Any = None, prog_name: Any = None, *rest: Any, **extra: Any) -> Any:
        if extra.get("standalone_mode", True) is False:
            return super().main(args, prog_name, *rest, **extra)
        extra["standalone_mode"] = False
        try:
            code = super().main(args, prog_name, *rest, **extra)
        except NoArgsIsHelpError as err:
            err.show()
            sys.exit(err.exit_code)
        except UsageError as err:
            typer.echo(_usage_line(err, self, sys.argv[1:] if args is None else list(args)), err=True)
            sys.exit(err.exit_code)
        except ClickException as err:
            typer.echo(f"arcsolve: error: {' '.join(err.format_message().split())}", err=True)
            sys.exit(err.exit_code)
        except typer.Abort:
            typer.echo("arcsolve: interrupted", err=True)
            sys.exit(130)
        sys.exit(code if isinstance(code, int) else 0)


def _usage_line(err: UsageError, root: Any, argv: list[str]) -> str:
    """`arcsolve: error: train: Missing argument 'config'. (try 'arcsolve train --help')`.

    The command is the error's context when click attached one below the root; some parser errors
    (an option without its value) come without, and then the leading words of argv that name
    commands say which command it was.
    """
    names: list[str] = []
    ctx = err.ctx
    if ctx is not None and ctx.parent is not None:
        hint = ctx.command_path
        while ctx.parent is not None:  # the root's name is the program's ("arcsolve", "python -m ...")
            names.insert(0, ctx.info_name or "")
            ctx = ctx.parent
    else:
        command = root
        for word in argv:
            command = getattr(command, "commands", {}).get(word)
            if command is None:
                break
            names.append(word)
        hint = " ".join(["arcsolve", *names])
    where = " ".join(names) or "arcsolve"
    return f"arcsolve: error: {where}: {' '.join(err.format_message().split())} (try '{hint} --help')"


def fail(err: ArcsolveError) -> typer.Exit:
    typer.echo(err.one_line(), err=True)
    return typer.Exit(err.exit_code)


def debugging() -> bool:
    """`ARCSOLVE_DEBUG=1`: errors are raised with their full traceback instead of one line."""
    return os.environ.get("ARCSOLVE_DEBUG", "") not in ("", "0")


def errors_as_lines(fn: F) -> F:
    """Run a command; typed errors become one line on stderr and an exit code, never a traceback
    (unless ARCSOLVE_DEBUG is set)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if debugging():
            return fn(*args, **kwargs)
        try:
            return fn(*args, **kwargs)
        except ArcsolveError as err:
            raise fail(err) from None
        except KeyboardInterrupt:
            typer.echo("arcsolve: interrupted", err=True)
            raise typer.Exit(130) from None
        except MemoryError:
            raise fail(ArcsolveError(fn.__name__, "out of memory")) from None
        except OSError as err:  # disk full, permission denied on an output, ...
            where = err.filename or fn.__name__
            raise fail(ArcsolveError(str(where), err.strerror or str(err))) from None

    return wrapper  # type: ignore[return-value]


def run_app(app: typer.Typer) -> None:
    """Console entry point. The last guard: anything unexpected is still one line, not a traceback
    (with ARCSOLVE_DEBUG=1, the full traceback)."""
    if debugging():
        app()
        return
    try:
        app()
    except ArcsolveError as err:  # raised outside a command body (e.g. while parsing)
        typer.echo(err.one_line(), err=True)
        sys.exit(err.exit_code)
    except Exception as err:  # noqa: BLE001 - a bug of ours; say what and where, briefly
        with contextlib.suppress(Exception):
            line = f"arcsolve: error: internal: {type(err).__name__}: {err}".splitlines()[0]
            typer.echo(f"{line} (ARCSOLVE_DEBUG=1 shows the traceback)", err=True)
        sys.exit(1)


def default_of(cls: type, dotted: str) -> Any:
    """The default of a (nested) config dataclass field, e.g. `default_of(PredictConfig, "adapt.lr")`."""
    head, _, rest = dotted.partition(".")
    spec = next(f for f in dataclasses.fields(cls) if f.name == head)
    if rest:
        return default_of(spec.default_factory, rest)  # type: ignore[misc]
    if spec.default is not dataclasses.MISSING:
        return spec.default
    return spec.default_factory()  # type: ignore[misc]


def with_default(cls: type, dotted: str, text: str) -> str:
    """Help text ending in the config dataclass's default, so a default is written once, there."""
    value = default_of(cls, dotted)
    shown = "none" if value is None else str(value).lower() if isinstance(value, bool) else value
    return f"{text} (default: {shown})"


def given_flags(flags: dict[str, Any], sections: tuple[str, ...] = ()) -> dict[str, Any]:
    """The options given on the command line (None = left out) as a config dict: a flag named
    `<section>_<key>` for a section in `sections` goes to `{section: {key: value}}`. Left-out
    options are absent, so the config dataclass supplies their defaults."""
    data: dict[str, Any] = {}
    for name, value in flags.items():
        if value is None:
            continue
        section = next((s for s in sections if name.startswith(f"{s}_")), None)
        if section is None:
            data[name] = value
        else:
            data.setdefault(section, {})[name[len(section) + 1 :]] = value
    return data
