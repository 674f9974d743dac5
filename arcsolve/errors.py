"""Typed errors. Internal code raises these; only the CLI turns them into one-line messages."""

from __future__ import annotations


class ArcsolveError(Exception):
    """A failure the user should see as `arcsolve: error: <where>: <what>`."""

    exit_code = 1

    def __init__(self, where: str, what: str) -> None:
        super().__init__(f"{where}: {what}")
        self.where = str(where)
        self.what = str(what)

    def one_line(self) -> str:
        text = f"arcsolve: error: {self.where}: {self.what}"
        return " ".join(text.split())  # never more than one line, whatever the input held


class BadInputError(ArcsolveError):
    """The user's input (file, flag, config, task) is wrong: exit code 2."""

    exit_code = 2


class ConfigError(BadInputError):
    """A config file or override names an unknown key or holds a value of the wrong type."""


class RunFailure(ArcsolveError):
    """The work itself failed (diverged training, missing checkpoint state): exit code 1."""

    exit_code = 1
