"""CSV files named by a program (`data`, later `exact ... from`): a header row, then numbers.

Read with the standard `csv` module; every problem is a `SpecError` at the file name in the
program, naming the CSV's own line.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import Span, SpecError
from .files import UnreadableFile, read_regular_file, shown_path
from .limits import MAX_DATA_BYTES

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, eq=False)
class Table:
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
