"""The error family for a user's mistakes, and how it is printed.

Every stage that finds a mistake raises `SpecError` with the span of the offending text; the
message is formatted here, in one place, the same for the command line and the Python API:

    poisson.pde:5:7: error: unknown name 'uu' (did you mean 'u'?)
        pde  lap(uu) = f            in Omega
                 ^^
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True)
class Span:
    """A stretch of source text: 1-based line and column of its start and end (end exclusive)."""
    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None


class SpecError(Exception):
    """A mistake in a `.pde` program or in an option.

    Attributes: ``line`` and ``column`` (1-based, or None when the mistake has no place in a
    file), ``filename``, ``reason`` (the bare explanation) and the formatted message as ``str``.
    """

    def __init__(self, reason: str, span: Span | None = None, *, source: str | None = None,
                 filename: str | None = None):
        self.reason = reason
        self.span = span
        self.source = source
        self.filename = filename
        super().__init__(self._format())

    @property
    def line(self) -> int | None:
        return self.span.line if self.span else None

    @property
    def column(self) -> int | None:
        return self.span.column if self.span else None

    def located(self, source: str, filename: str) -> "SpecError":
        """This error with the program text and file name filled in where they were missing."""
        if self.source is not None and self.filename is not None:
            return self
        return SpecError(self.reason, self.span, source=self.source or source,
                         filename=self.filename or filename)

    def _format(self) -> str:
        where = self.filename or "<spec>"
        reason = _shortened(self.reason)
        if self.span is None:
            return f"{where}: error: {reason}"
        head = f"{where}:{self.span.line}:{self.span.column}: error: {reason}"
        if self.source is None:
            return head
        lines = self.source.split("\n")  # as the parser counts lines (not at \f or \r alone)
        if not 1 <= self.span.line <= len(lines):
            return head
        text = lines[self.span.line - 1].rstrip("\r").expandtabs(1)
        start, width = self.span.column - 1, 1
        if self.span.end_line == self.span.line and self.span.end_column:
            width = max(1, self.span.end_column - self.span.column)
        width = min(width, max(1, len(text) - start))
        if len(text) > _LINE_SHOWN:
            text, start, width = _window(text, start, width)
        text, start, width = _printable(text, start, width)
        return f"{head}\n    {text}\n    {' ' * start}{'^' * width}"


# A longer source line is shown as a window of this many characters around the spot, and a
# longer reason (which may quote a long name) is cut in its middle.
_LINE_SHOWN = 120
_REASON_SHOWN = 400


def escaped(text: str) -> str:
    """``text`` with every unprintable character (a NUL, a line break, a terminal's escape
    sequence) written as its Python escape: user text shown in messages or generated code."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in text)


def _printable(text: str, start: int, width: int) -> tuple[str, int, int]:
    """The shown line with control characters written as escapes, so that a program's bytes
    never reach the terminal raw; the caret moves with them."""
    before, spot = escaped(text[:start]), escaped(text[start:start + width])
    return before + spot + escaped(text[start + width:]), len(before), max(1, len(spot))


def _window(text: str, start: int, width: int) -> tuple[str, int, int]:
    """About _LINE_SHOWN characters of ``text`` around the caret at ``start`` (``width``
    long), with '...' where the line is cut: (shown text, caret start, caret width)."""
    width = min(width, _LINE_SHOWN * 2 // 3)
    left = max(0, min(start - _LINE_SHOWN // 3, len(text) - _LINE_SHOWN))
    right = min(len(text), left + _LINE_SHOWN)
    before = "..." if left > 0 else ""
    after = "..." if right < len(text) else ""
    return before + text[left:right] + after, start - left + len(before), width


def _shortened(reason: str) -> str:
    if len(reason) <= _REASON_SHOWN:
        return reason
    keep = _REASON_SHOWN // 2
    return f"{reason[:keep]} ... {reason[-keep:]}"


class FileError(SpecError):
    """A file that pinnc reads or writes and cannot use: a run folder's files, a checkpoint, a
    CSV of points. Names the file (and its line where there is one) and never quotes its content:

        runs/poisson/params.npz: error: not a parameter file (damaged or truncated)
    """

    def __init__(self, path, reason: str, line: int | None = None):
        self.path = str(path)
        self.file_line = line
        super().__init__(reason, None, filename=self.path)

    @property
    def line(self) -> int | None:
        return self.file_line

    def located(self, source: str, filename: str) -> "FileError":
        return self

    def _format(self) -> str:
        where = f"{self.filename}:{self.file_line}" if self.file_line else self.filename
        return f"{where}: error: {self.reason}"


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest known name, or '' when none is close."""
    match = difflib.get_close_matches(name, sorted(set(known)), n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""
