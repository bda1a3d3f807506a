"""Reading the files a user names (a program, a CSV it names): regular files only, bounded in
size, never blocking. Callers turn `UnreadableFile` into the error of their place."""
from __future__ import annotations

import os
import stat
from pathlib import Path


class UnreadableFile(Exception):
    """Why a named file cannot be read; the message never quotes the file's content."""


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a pipe (FIFO)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


def read_regular_file(path: str | Path, limit: int) -> bytes:
    """The bytes of the regular file at ``path`` (symbolic links followed), at most ``limit``.

    Opened without blocking and checked on the open descriptor, so that a FIFO or a device
    (``/dev/zero``) is refused at once, even one swapped in after a look at the path."""
    try:
        descriptor = os.open(os.fspath(path), os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (OSError, ValueError) as error:  # ValueError: a NUL byte in the path
        raise UnreadableFile(_reason(error)) from None
    try:
        mode = os.fstat(descriptor)
        if not stat.S_ISREG(mode.st_mode):
            kind = next((name for test, name in _KINDS if test(mode.st_mode)), "no file")
            raise UnreadableFile(f"not a regular file: it is {kind}")
        if mode.st_size > limit:
            raise UnreadableFile(f"{_size(mode.st_size)}, more than the limit of {_size(limit)}")
        with os.fdopen(os.dup(descriptor), "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as error:
        raise UnreadableFile(_reason(error)) from None
    finally:
        os.close(descriptor)
    if len(data) > limit:  # grown since it was looked at
        raise UnreadableFile(f"more than the limit of {_size(limit)}")
    return data


def shown_path(path) -> str:
    """A path as a message shows it: unprintable characters (a NUL byte) escaped."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in str(path))


def _reason(error: Exception) -> str:
    if isinstance(error, ValueError):
        return "the file name holds a NUL byte"
    if isinstance(error, FileNotFoundError):
        return "no such file"
    if isinstance(error, IsADirectoryError):
        return "not a regular file: it is a directory"
    if isinstance(error, PermissionError):
        return "permission denied"
    return (error.strerror or str(error)).lower()


def _size(count: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:.3g} {unit}"
    return f"{count} bytes"
