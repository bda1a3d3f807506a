"""The compiler's stages end to end: text -> syntax -> IR -> derivative plan -> JAX source."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from . import codegen, derivatives, ir
from . import syntax as s
from .analyze import analyze
from .errors import Span, SpecError
from .files import UnreadableFile, read_regular_file, shown_path as _shown
from .limits import MAX_SOURCE_BYTES
from .options import options as read_options
from .parse import parse


@dataclass(frozen=True)
class Compiled:
    """A compiled program: its IR, its derivative plan and the generated module's source."""
    problem: ir.Problem
    plan: derivatives.DerivativePlan
    source: str


def compile_text(text: str, filename: str = "<spec>",
                 overrides: Mapping[str, object] | None = None) -> Compiled:
    """Compile program text; ``overrides`` are option values as `set` would take them."""
    text = text.removeprefix("\ufeff")  # a byte-order mark, as Windows editors write
    if len(text) > MAX_SOURCE_BYTES:
        raise SpecError(f"the program is {len(text)} characters long, more than the limit of "
                        f"{MAX_SOURCE_BYTES}", filename=filename)
    program = parse(text, filename)
    problem = analyze(program, override_statements(overrides or {}))
    try:
        plan = derivatives.plan(problem)
        source = codegen.generate(problem, plan)
    except SpecError as error:
        raise error.located(text, filename) from None
    except RecursionError:  # analysis and the parser's nesting limit should keep this away
        raise SpecError("expression nested too deeply to generate code").located(
            text, filename) from None
    return Compiled(problem, plan, source)


def read_source(path: str | Path) -> str:
    """A program's text, read as UTF-8 (a leading byte-order mark dropped). A file that is no
    regular file, is larger than `limits.MAX_SOURCE_BYTES` or is not UTF-8 is a `SpecError`,
    at the first byte that does not decode where there is one."""
    try:
        data = read_regular_file(path, MAX_SOURCE_BYTES)
    except UnreadableFile as error:
        raise SpecError(f"cannot read the program: {error}", filename=_shown(path)) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        before = data[:error.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1:].decode("utf-8", "replace")) + 1
        raise SpecError(f"the file is not UTF-8 text: byte 0x{data[error.start]:02x} cannot be "
                        f"decoded (save it as UTF-8)", Span(line, column),
                        filename=_shown(path)) from None


def override_statements(overrides: Mapping[str, object]) -> list[s.SetOption]:
    """``{"points": 4000, "optimizer": "adam(steps=10)"}`` -> `set` statements, each parsed
    on its own so that a mistake is reported against the override's own text."""
    statements = []
    for name, value in overrides.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise SpecError(f"option {name}: expected a number or the text of a value, "
                            f"got {value!r}")
        text = value if isinstance(value, str) else repr(value)
        where = f"--set {name}={text}"
        program = parse(f"set {name} = {text}", where)
        if len(program.statements) != 1 or not isinstance(program.statements[0], s.SetOption):
            raise SpecError(f"option {name}: not a single value: {text!r}", filename=where)
        try:  # checked here, so that a mistake is shown in the override's own text
            read_options([], program.statements)
        except SpecError as error:
            raise error.located(program.source, where) from None
        statements.append(program.statements[0])
    return statements


def parse_assignment(text: str) -> tuple[str, str]:
    """``"points=4000"`` (a command line's ``--set``) -> ``("points", "4000")``."""
    name, equals, value = text.partition("=")
    if not equals or not name.strip() or not value.strip():
        raise SpecError(f"--set takes OPTION=VALUE, got {text!r}")
    return name.strip(), value.strip()
