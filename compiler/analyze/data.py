"""What a program compares its fields to: `data` terms (a field's misfit at the points of a CSV)
and `exact` solutions (a formula, or a CSV for a field), of a field or of a let of fields."""
from __future__ import annotations

from pathlib import Path

import sympy

from .. import ir
from .. import syntax as s
from ..errors import Span, SpecError, did_you_mean
from ..calculus import check_size
from ..options import term_options
from ..sources import Table, named_path, read_table
from .names import Context


def data_terms(context: Context, statement: s.DataDecl, label: str) -> list[ir.Term]:
    """One term per field column of the CSV: that field's misfit at the measured points."""
    path = named_path(context.program.filename, statement.path.value)
    table = read_table(path, statement.path.span)
    header = table.header
    for name in header:
        if name not in context.coords and name not in context.fields:
            raise SpecError(f"{path.name}: column '{name}' is neither a coordinate nor a field"
                            f"{did_you_mean(name, set(context.coords) | set(context.fields))}",
                            statement.path.span)
    coords = tuple(c for c in context.coords if c in header)
    fields = [f for f in context.fields if f in header]
    if not fields:
        raise SpecError(f"{path.name}: no column names a field ({', '.join(context.fields)})",
                        statement.path.span)
    weight, points = term_options(statement.options)
    if points is not None:
        raise SpecError("a data term uses the points of its file; 'points' does not apply",
                        statement.span)
    terms = []
    for name in fields:
        missing = [c for c in context.fields[name].coords if c not in coords]
        if missing:
            raise SpecError(f"{path.name}: field {name} needs column '{missing[0]}'",
                            statement.path.span)
        residual = context.field_values[name] - ir.observed_symbol(name)
        terms.append(ir.Term(label if len(fields) == 1 else f"{label}_{name}", "data",
                             residual, None, weight, None, context.text(statement.span),
                             statement.span, data=_observations(path, table, coords, name)))
    return terms


def _observations(path: Path, table: Table, coords: tuple[str, ...],
                  name: str) -> ir.Observations:
    """The values of column ``name`` at the points of the columns ``coords``."""
    header = list(table.header)
    return ir.Observations(str(path), coords, name,
                           table.columns([header.index(c) for c in coords]),
                           table.columns([header.index(name)])[:, 0])


def exact(context: Context, statement: s.ExactDecl) -> ir.Exact:
    """``exact u = EXPR`` (coordinates and constants only), ``exact u from "file.csv"``, or
    ``exact E = EXPR`` for a let E of fields."""
    name = statement.name
    if name.id in context.fields:
        coords = context.fields[name.id].coords
    elif name.id in context.lets:
        if statement.expr is None:
            raise SpecError(f"'exact {name.id}' reads a file only for a field; for the let "
                            f"'{name.id}' give a formula", name.span)
        coords = _derive(context, name).coords
    else:
        lets = [n for n in context.lets if context.let_value(n).atoms(
            sympy.core.function.AppliedUndef)]
        raise SpecError(f"'exact' names a field or a let of fields; '{name.id}' is neither"
                        f"{did_you_mean(name.id, [*context.fields, *lets])}", name.span)
    if statement.expr is None:
        return _exact_from_file(context, statement)
    value = context.translator("in an exact solution").scalar(statement.expr)
    check_size(value, statement.expr.span)
    if value.atoms(sympy.core.function.AppliedUndef) or value.free_symbols & {
            sympy.Symbol(p, real=True) for p in context.params}:
        raise SpecError("an exact solution may use coordinates and constants only",
                        statement.expr.span)
    outside = {str(c) for c in value.free_symbols} - set(coords)
    if outside:
        what = "field" if name.id in context.fields else "let"
        raise SpecError(f"'{sorted(outside)[0]}' is not a coordinate of {what} '{name.id}' "
                        f"({', '.join(coords)})", statement.expr.span)
    return ir.Exact(name.id, value, statement.span)


def _derive(context: Context, name: s.Name) -> ir.Derived:
    """The let ``name`` as a quantity computed from the fields (an `exact` names it)."""
    if name.id in context.derived:
        return context.derived[name.id]
    value = context.let_value(name.id)
    fields = {str(f.func) for f in value.atoms(sympy.core.function.AppliedUndef)
              } & set(context.fields)  # tables are no fields
    if not fields:
        raise SpecError(f"'let {name.id}' involves no field: its exact value is known "
                        f"without training; 'exact' names a field or a let of fields",
                        name.span)
    used = {str(c) for c in value.free_symbols} | {
        c for f in fields for c in context.fields[f].coords}
    coords = tuple(c for c in context.coords if c in used)
    statement = context.lets[name.id]
    context.derived[name.id] = ir.Derived(name.id, coords, value, statement.span)
    return context.derived[name.id]


def _exact_from_file(context: Context, statement: s.ExactDecl) -> ir.Exact:
    field = context.fields[statement.name.id]
    path = named_path(context.program.filename, statement.path.value)
    table = read_table(path, statement.path.span)
    _exact_columns(table, field, path, statement.path.span)
    reference = _observations(path, table, field.coords, field.name)
    return ir.Exact(field.name, None, statement.span, data=reference)


def _exact_columns(table: Table, field: ir.Field, path: Path, span: Span) -> None:
    """Refuse a CSV of an exact field whose columns are not the field's coordinates and it."""
    for name in table.header:
        if name not in field.coords and name != field.name:
            raise SpecError(f"{path.name}: column '{name}' is neither a coordinate of "
                            f"{field.name} nor {field.name}"
                            f"{did_you_mean(name, (*field.coords, field.name))}", span)
    for name in (*field.coords, field.name):
        if name not in table.header:
            raise SpecError(f"{path.name}: no column '{name}'; the header must name "
                            f"{', '.join((*field.coords, field.name))}", span)
