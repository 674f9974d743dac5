"""Reading the user's files with one-line errors, and atomic file and directory writes: a reader never
sees a half-written output.

A file is written to a temporary sibling, flushed to disk, then renamed over the target (rename is
atomic on POSIX). A directory is built as `NAME.tmp/` and renamed to `NAME` only when complete.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from arcsolve.errors import BadInputError


def read_input_bytes(path: str | Path, expected: str, error: type[BadInputError] = BadInputError) -> bytes:
    """The bytes of a file the user named; every way reading can fail is one `error(path, what)`
    line: no such file, a directory instead of `expected` (e.g. "a JSON file"), permission denied,
    or any other OS error (a name too long, an I/O error, a NUL byte in the path)."""
    where = str(path)
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise error(where, "no such file") from None
    except IsADirectoryError:
        raise error(where, f"is a directory, expected {expected}") from None
    except PermissionError:
        raise error(where, "permission denied") from None
    except (OSError, ValueError) as err:  # ValueError: a NUL byte in the path
        raise error(where, f"cannot read: {getattr(err, 'strerror', None) or err}") from None


@functools.cache
def _default_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` through a hidden `.NAME.<pid>.<random>.tmp` sibling.

    A process killed mid-write leaves that sibling behind (nothing can delete it); its name never
    matches NAME, and `remove_stale_temp_files` tells it from a live writer's by the pid."""
    atomic_write_with(path, lambda handle: handle.write(data))


def atomic_write_with(path: str | Path, write: Callable[[BinaryIO], object]) -> None:
    """`atomic_write_bytes` for a writer that streams into the open file (no copy of the whole
    output in memory): `write(handle)` fills the temporary sibling, which is then fsynced and renamed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, _default_file_mode())  # mkstemp makes 0600; outputs get the usual umask-based mode
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def remove_stale_temp_files(path: str | Path) -> list[Path]:
    """Delete the temporary siblings of `path` that killed writers left; return them.

    Only files named like `atomic_write_bytes` names them, whose writing process is gone, are
    touched: another process writing the same file at this moment keeps its temporary file.
    """
    path = Path(path)
    removed = []
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = stale.name[len(path.name) + 2 :].split(".", 1)[0]
        if not pid.isdigit() or _process_exists(int(pid)):
            continue
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
            removed.append(stale)
    return removed


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def atomic_write_json(path: str | Path, obj: Any, indent: bool = False) -> None:
    option = orjson.OPT_INDENT_2 if indent else 0
    atomic_write_bytes(path, orjson.dumps(obj, option=option | orjson.OPT_SERIALIZE_NUMPY))


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def atomic_directory(path: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a fresh `PATH.tmp` directory; on success rename it to PATH, on failure delete it.

    A leftover `PATH.tmp` from a killed run is removed first: it was never complete.
    """
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if path.exists():
        if not overwrite:
            shutil.rmtree(tmp, ignore_errors=True)
            raise FileExistsError(path)
        old = path.with_name(path.name + ".old")
        if old.exists():
            shutil.rmtree(old)
        os.replace(path, old)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, path)
