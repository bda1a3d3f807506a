"""Tables: ``table("FILE.csv")``, a function of coordinates given as values on a rectilinear
grid (every combination of the listed coordinate values once), interpolated multilinearly.
Each call is read once, checked, and stands in expressions as ``NAME(coords)``, like a field;
`check_coordinates` refuses a table in a term whose points lack one of its coordinates."""
from __future__ import annotations

import numpy as np
import sympy

from .. import ir
from .. import syntax as s
from ..errors import Span, SpecError, did_you_mean
from ..sources import Table as Csv, named_path, read_table

# ``context`` below is the analysis's `names.Context` (which calls `table_value`, so this
# module does not import it).


def table_value(context, node: s.Call) -> sympy.Expr:
    """The value of ``table("FILE.csv")`` at the term's point: ``NAME(x, y)``. The file is
    read the first time the call is translated."""
    table = next((t for t in context.tables.values() if t.span == node.span), None)
    if table is None:
        table = _read(context, node)
        context.tables[table.name] = table
    return sympy.Function(table.name)(*(context.coords[c] for c in table.coords))


def check_coordinates(context, residual: sympy.Expr, coords: tuple[str, ...],
                      span: Span) -> None:
    """Refuse a residual (of the term at ``span``, whose points have ``coords``) holding a
    table of a coordinate the points lack; the error points at the table."""
    for function in residual.atoms(sympy.core.function.AppliedUndef):
        table = context.tables.get(function.func.__name__)
        if table is None:
            continue
        missing = [c for c in table.coords if c not in coords]
        if missing:
            raise SpecError(f"table '{table.name}' is a function of '{missing[0]}', which the "
                            f"points of the term on line {span.line} lack (they have "
                            f"{', '.join(coords)})", table.span)


def is_table(context, function: sympy.Expr) -> bool:
    """Whether an applied function of a residual is a table (else it is a field)."""
    return function.func.__name__ in context.tables


def _read(context, node: s.Call) -> ir.Table:
    """The table a call names: its CSV read, its header's coordinates and its grid checked."""
    path = named_path(context.program.filename, node.args[0].value)
    csv = read_table(path, node.span)
    if len(csv.header) < 2:
        raise SpecError(f"{path.name}: a table needs a column per coordinate, then one of "
                        f"values (e.g. x,y,a)", node.span)
    coords = csv.header[:-1]
    for name in coords:
        if name not in context.coords:
            raise SpecError(f"{path.name}: column '{name}' names no coordinate of the program "
                            f"({', '.join(context.coords)}){did_you_mean(name, context.coords)}"
                            f"; the last column holds the values", node.span)
    axes, values = _grid(csv, path.name, node.span)
    return ir.Table(_name(context, node), coords, axes, values, str(path), node.span)


def _grid(csv: Csv, name: str, span: Span) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """The grid's axes (each coordinate's distinct values, increasing) and its values, shaped
    (n_0, ..., n_{d-1}). Refuses a coordinate with one value, and a combination of
    coordinate values given twice or missing."""
    points, column = csv.values[:, :-1], csv.values[:, -1]
    axes = tuple(np.unique(points[:, i]) for i in range(points.shape[1]))
    for coord, axis in zip(csv.header, axes):
        if len(axis) < 2:
            raise SpecError(f"{name}: column '{coord}' holds one value ({axis[0]:g}); a table "
                            f"needs at least 2 values along each coordinate", span)
    shape = tuple(len(axis) for axis in axes)
    index = tuple(np.searchsorted(axis, points[:, i]) for i, axis in enumerate(axes))
    counts = np.bincount(np.ravel_multi_index(index, shape), minlength=int(np.prod(shape)))
    twice, missing = np.flatnonzero(counts > 1), np.flatnonzero(counts == 0)
    if twice.size or missing.size:
        first = twice[0] if twice.size else missing[0]
        at = np.unravel_index(first, shape)
        combination = ", ".join(f"{c}={axis[k]:g}" for c, axis, k in zip(csv.header, axes, at))
        problem = f"appears {counts[first]} times" if twice.size else "has no row"
        raise SpecError(f"{name}: not a rectilinear grid: the combination {combination} "
                        f"{problem} (every combination of the listed coordinate values must "
                        f"appear once)", span)
    values = np.empty(shape)
    values[index] = column
    return axes, values


def _name(context, node: s.Call) -> str:
    """The let's name for ``let NAME = table(...)``; else ``table1``, ``table2``, ... (a name
    no declaration of the program holds)."""
    for name, let in context.lets.items():
        if let.value is node:
            return name
    k = len(context.tables) + 1
    while f"table{k}" in context.declared or f"table{k}" in context.tables:
        k += 1
    return f"table{k}"
