"""The README and docs/: every relative link resolves, and every `arcsolve ...` command in a code block
is a real command whose options and arguments parse (the CLI's own parser, nothing run)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer

from arcsolve.cli import app
from arcsolve.cli_support import UsageError  # the click (or Typer's copy of it) that parses the CLI

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
README_LINE_LIMIT = 250


def relative_links(text: str) -> list[str]:
    """Link targets that are not web addresses or in-page anchors, without their `#anchor`."""
    targets = (m.group(1) for m in LINK.finditer(text))
    return [t.split("#", 1)[0] for t in targets if not re.match(r"[a-z]+:", t) and not t.startswith("#")]


def code_block_commands(text: str) -> list[str]:
    """The `arcsolve ...` lines of fenced code blocks, continuation lines joined, comments dropped."""
    commands, fenced, pending = [], False, ""
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            continue
        line = pending + line.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1].rstrip() + " "
            continue
        if line.startswith("arcsolve "):
            commands.append(re.sub(r"\s+#.*$", "", line))
    return commands


def parse_command(line: str) -> None:
    """Parse `line` as the CLI would, without running it; raise a UsageError when it is wrong.

    Docs write optional parts as `[--flag a|b]`: the brackets are dropped and the first choice kept."""
    words = [word.split("|", 1)[0] for word in shlex.split(line.replace("[", " ").replace("]", " "))][1:]
    command = typer.main.get_command(app)
    path = ["arcsolve"]
    while is_group(command) and words and not words[0].startswith("-"):
        sub = command.get_command(typer.Context(command), words[0])
        if sub is None:
            raise UsageError(f"no command {' '.join([*path, words[0]])!r}")
        command, path = sub, [*path, words.pop(0)]
    if is_group(command):
        raise UsageError(f"{' '.join(path)!r} needs a subcommand")
    command.make_context(" ".join(path), words)


def is_group(command: object) -> bool:
    """A command with subcommands (Typer >= 0.20's groups are not click.Group subclasses)."""
    return hasattr(command, "list_commands") and hasattr(command, "get_command")


def test_the_checker_catches_wrong_commands_and_reads_blocks():
    block = (
        "text `arcsolve nothing`\n```bash\narcsolve predict runs/x --tasks a \\\n  --out s.json  # why\n```\n"
    )
    assert code_block_commands(block) == ["arcsolve predict runs/x --tasks a --out s.json"]
    parse_command("arcsolve predict runs/x --tasks a --out s.json [--adapt-model none|last]")
    for wrong in (
        "arcsolve predict runs/x --tasks a --out s.json --no-such-flag",
        "arcsolve predict runs/x --out s.json",  # --tasks is required
        "arcsolve data frobnicate x",
        "arcsolve data",
        "arcsolve train configs/x.toml --out r --max-steps many",
    ):
        with pytest.raises(UsageError):
            parse_command(wrong)
    assert relative_links("[a](docs/x.md#y) [b](https://e.org) [c](#top) [d](../README.md)") == [
        "docs/x.md",
        "../README.md",
    ]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page):
    missing = [t for t in relative_links(page.read_text()) if not (page.parent / t).exists()]
    assert missing == [], f"{page.name}: links to missing files"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_commands_in_code_blocks_parse(page):
    wrong = []
    for line in code_block_commands(page.read_text()):
        try:
            parse_command(line)
        except UsageError as err:
            wrong.append(f"{line}: {err.format_message()}")
    assert wrong == []


def test_readme_is_a_front_page():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= README_LINE_LIMIT
    for needed in ("arcsolve quickstart", "torch==2.13.0", "python -m pytest -q"):  # CI greps for these
        assert needed in text
    assert {f"docs/{p.name}" for p in PAGES[1:]} <= set(relative_links(text))  # every page is linked
