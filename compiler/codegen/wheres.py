"""The `where` conditions of a program as numpy functions of a region's points, printed with
the printer's numpy target: the runtime's geometry filters points with them (``WHERE``, in the
order of `ir.Problem.wheres`) and never evaluates a symbolic expression itself."""
from __future__ import annotations

from .. import ir
from ..errors import SpecError
from ..printer import NUMPY, UnprintableError, to_source
from .naming import MODULE_NAMES, identifier, quoted_text, reserved


def where_function(where: ir.Where, name: str) -> str:
    """The function ``name(p)``: the condition at each of the points p (N, d), columns in the
    order of ``where.coords``; (N,) booleans, or one where it names no coordinate."""
    taken = reserved() | MODULE_NAMES | {"p"}
    columns = {c: i for i, c in enumerate(where.coords)}
    symbols = sorted(where.predicate.free_symbols, key=lambda s: columns[s.name])
    names = {s: identifier(s.name, taken) for s in symbols}
    lines = [f"def {name}(p):",
             f'    """Where {quoted_text(where.text)} holds, at each of the points p (N, '
             f'{len(where.coords)}) of ({", ".join(where.coords)})."""']
    if symbols:
        lines.append(f"    {', '.join(names[s] for s in symbols)} = "
                     f"{', '.join(f'p[:, {columns[s.name]}]' for s in symbols)}")
    try:
        lines.append(f"    return {to_source(where.predicate, names, NUMPY)}")
    except UnprintableError as error:
        raise SpecError(f"cannot generate code for the condition {where.text}: {error}") from None
    return "\n".join(lines) + "\n"


def where_blocks(problem: ir.Problem, names: tuple[str, ...]) -> list[str]:
    """Each condition's function, then ``WHERE``, the tuple of them."""
    wheres = problem.wheres()
    blocks = [where_function(where, name) for where, name in zip(wheres, names)]
    items = ", ".join(names) + ("," if len(names) == 1 else "")
    return blocks + [f"WHERE = ({items})\n"]
