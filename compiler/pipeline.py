"""The compiler's stages end to end: text -> syntax -> IR -> derivative plan -> JAX source."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from . import codegen, derivatives, ir
from . import syntax as s
from .analyze import analyze
from .errors import SpecError
from .limits import MAX_SOURCE_BYTES
from .options import options as read_options
from .parse import parse
from .sources import read_source  # re-exported: the CLI and the API read programs from here

__all__ = ["Compiled", "compile_text", "override_statements", "parse_assignment", "read_source"]


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
