"""CSV files named by a program (`data`, later `exact ... from`): a header row, then numbers.

Read with the standard `csv` module; every problem is a `SpecError` at the file name in the
program, naming the CSV's own line.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import Span, SpecError


@dataclass(frozen=True, eq=False)
class Table:
    header: tuple[str, ...]
    values: np.ndarray  # (rows, columns) float64

    def columns(self, indices: list[int]) -> np.ndarray:
        return np.ascontiguousarray(self.values[:, indices])


def read_table(path: Path, span: Span) -> Table:
    """The numbers of a CSV with a header row. Raises `SpecError` at ``span`` on any problem."""
    try:
        with open(path, newline="") as handle:
            rows = [row for row in csv.reader(handle)]
    except OSError as error:
        raise SpecError(f"cannot read {path}: {error.strerror or error}", span) from None
    except (csv.Error, UnicodeDecodeError) as error:
        raise SpecError(f"{path.name}: not a readable CSV file ({error})", span) from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise SpecError(f"{path.name} is empty; expected a header row naming its columns", span)
    header = tuple(cell.strip() for cell in rows[0])
    duplicates = {h for h in header if header.count(h) > 1}
    if duplicates:
        raise SpecError(f"{path.name}: column '{sorted(duplicates)[0]}' appears twice", span)
    values = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise SpecError(f"{path.name}:{number}: {len(row)} values, the header names "
                            f"{len(header)}", span)
        try:
            values.append([float(cell) for cell in row])
        except ValueError:
            raise SpecError(f"{path.name}:{number}: not a number in {row}", span) from None
    if not values:
        raise SpecError(f"{path.name} has a header but no rows of values", span)
    array = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise SpecError(f"{path.name}: holds a value that is not finite (nan or inf)", span)
    return Table(header, array)
