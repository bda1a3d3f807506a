"""Every file a program names is read here: the program's own text and the CSV files it names
(`data`, `exact ... from`). Regular files only, bounded in size, opened without blocking; every
problem is a `SpecError` at the place in the program that names the file."""
from __future__ import annotations

import csv
import io
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import Span, SpecError, escaped
from .limits import MAX_DATA_BYTES, MAX_SOURCE_BYTES


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
    return escaped(str(path))


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


def read_source(path: str | Path) -> str:
    """A program's text, read as UTF-8 (a leading byte-order mark dropped). A file that is no
    regular file, is larger than `limits.MAX_SOURCE_BYTES` or is not UTF-8 is a `SpecError`,
    at the first byte that does not decode where there is one."""
    try:
        data = read_regular_file(path, MAX_SOURCE_BYTES)
    except UnreadableFile as error:
        raise SpecError(f"cannot read the program: {error}", filename=shown_path(path)) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        before = data[:error.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1:].decode("utf-8", "replace")) + 1
        raise SpecError(f"the file is not UTF-8 text: byte 0x{data[error.start]:02x} cannot be "
                        f"decoded (save it as UTF-8)", Span(line, column),
                        filename=shown_path(path)) from None


def named_path(program: str, name: str) -> Path:
    """A file named in a program: relative to the program's folder (or the working folder)."""
    path = Path(name)
    return path if path.is_absolute() else Path(program).parent / path


# --- CSV tables: a header row naming coordinates and fields, then rows of numbers ---

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, eq=False)
class Table:
    """A CSV's column names and its numbers."""
    header: tuple[str, ...]
    values: np.ndarray  # (rows, columns) float64

    def columns(self, indices: list[int]) -> np.ndarray:
        return np.ascontiguousarray(self.values[:, indices])


def read_table(path: Path, span: Span) -> Table:
    """The numbers of a CSV with a header row. Raises `SpecError` at ``span`` on any problem;
    a message names the CSV's line and column, never its content beyond the header's names."""
    try:
        data = read_regular_file(path, MAX_DATA_BYTES)
    except UnreadableFile as error:
        raise SpecError(f"cannot read {shown_path(path)}: {error}", span) from None
    name = shown_path(Path(path.name))
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark, as Windows editors write, is dropped
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise SpecError(f"{name}:{line}: not UTF-8 text (save the CSV as UTF-8)", span) from None
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:  # a NUL byte, a field over csv's size limit
        raise SpecError(f"{name}: not a readable CSV file ({error})", span) from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise SpecError(f"{name} is empty; expected a header row naming its columns", span)
    header = _header(rows[0], name, span)
    values = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise SpecError(f"{name}:{number}: {len(row)} values, the header names "
                            f"{len(header)}", span)
        values.append([_number(cell, column, f"{name}:{number}", span)
                       for column, cell in zip(header, row)])
    if not values:
        raise SpecError(f"{name} has a header but no rows of values", span)
    array = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise SpecError(f"{name}: holds a value that is not finite (nan or inf)", span)
    return Table(header, array)


def _header(cells: list[str], name: str, span: Span) -> tuple[str, ...]:
    """The header's column names. A column names a coordinate or a field, so a cell that is no
    name is refused by its position, unquoted: a file that is no CSV (a key file, a password
    file) is never shown."""
    header = tuple(cell.strip() for cell in cells)
    for k, cell in enumerate(header):
        if not _NAME.fullmatch(cell):
            raise SpecError(f"{name}: column {k + 1} of the header is not a name (the header "
                            "names coordinates and fields, e.g. x,t,u)", span)
    duplicates = {h for h in header if header.count(h) > 1}
    if duplicates:
        raise SpecError(f"{name}: column '{sorted(duplicates)[0]}' appears twice", span)
    return header


def _number(cell: str, column: str, where: str, span: Span) -> float:
    try:
        return float(cell)
    except ValueError:
        raise SpecError(f"{where}: the value in column '{column}' is not a number", span) from None
