"""Stage 2: syntax tree -> `ir.Problem`. Resolves names, coordinates, domains, regions and
options, and builds each term's SymPy residual. Every mistake is a `SpecError` at its place.

The parts, each reading and filling in one `names.Context`: `names` (declarations, coordinates,
fields, lets), `domains`, `periodic` (fields periodic in coordinates), `regions` (``in``/``on``
and ``where``), `terms` (the loss), `data` (data terms and exact solutions) and `tables`
(functions given as data). The files a program names are read by `compiler.sources`.
"""
from __future__ import annotations

from typing import Sequence

from .. import defaults, ir
from .. import syntax as s
from ..errors import Span, SpecError
from ..expressions import constant
from ..limits import MAX_FIELDS, MAX_TERMS
from ..options import OPTION_NAMES, options as read_options
from . import data, domains, names, terms
from .periodic import periodic
from .names import Context

__all__ = ["analyze"]

_KINDS = {s.Let: "let", s.ParamDecl: "param", s.DomainDecl: "domain", s.FieldDecl: "field"}


def analyze(program: s.Program, overrides: Sequence[s.SetOption] = ()) -> ir.Problem:
    """Check a parsed program and build its IR. Raises `SpecError` located in the program."""
    context = Context(program)
    try:
        return _problem(context, overrides)
    except SpecError as error:
        raise error.located(program.source, program.filename) from None
    except RecursionError:
        span = context.statement.span if context.statement else None
        raise SpecError("expression nested too deeply", span).located(
            program.source, program.filename) from None


def _problem(context: Context, overrides: Sequence[s.SetOption]) -> ir.Problem:
    """The stages of analysis in the order that decides which of two mistakes is reported."""
    statements = context.program.statements
    minimizes = any(isinstance(st, s.Minimize) for st in statements)
    options = read_options(context.of_type(s.SetOption), overrides, minimizes)
    for statement in statements:  # in source order: a clash names the later
        if type(statement) in _KINDS:
            context.declare(statement.name, _KINDS[type(statement)])
    for statement in context.of_type(s.Let):
        context.add_let(statement)
    term_statements = [st for st in statements if isinstance(st, terms.TERM_STATEMENTS)]
    if len(term_statements) > MAX_TERMS:  # refused before any is built
        raise terms.too_many_terms(term_statements[MAX_TERMS].span)
    let_order = names.check_sizes(context)
    names.collect_coordinates(context)
    _declarations(context, options.model)
    for name in let_order:  # every let is checked, used or not; in an order that needs
        context.statement = context.lets[name]  # no recursion from one let into the next
        context.let_value(name)
    loss = terms.terms(context)
    exact = tuple(data.exact(context, st) for st in context.of_type(s.ExactDecl))
    if not context.fields:
        raise SpecError("the program declares no field: add e.g. 'field u(x, y)'", Span(1, 1))
    if not loss:
        raise SpecError("the program has nothing to train: add a pde, bc, ic or minimize "
                        "statement", Span(1, 1))
    if options.causal is not None:
        _check_causal(loss, [*context.of_type(s.SetOption), *overrides])
    problem = ir.Problem(
        name=_stem(context.program.filename), coords=tuple(context.coords),
        domains=tuple(context.domains.values()), fields=tuple(context.fields.values()),
        params=tuple(context.params.values()), terms=loss, exact=exact, options=options,
        source_text=context.program.source, derived=tuple(context.derived.values()),
        tables=tuple(context.tables.values()))
    written = {st.name.id for st in (*context.of_type(s.SetOption), *overrides)}
    return defaults.choose(problem, frozenset(OPTION_NAMES) - written)


def _declarations(context: Context, default_model: ir.Model) -> None:
    """Build the domains, params and fields, each kind in source order."""
    for statement in context.of_type(s.DomainDecl):
        built = domains.domain(context, statement.domain)
        context.domains[statement.name.id] = ir.NamedDomain(statement.name.id, built,
                                                            statement.span)
    context.extent.update(domains.extent(context))
    for statement in context.of_type(s.ParamDecl):
        value = constant(context.translator("in a param's start value").scalar(statement.value),
                         statement.value.span, "a number (the start value)")
        context.add_param(ir.Param(statement.name.id, value, statement.span))
    for statement in context.of_type(s.FieldDecl):
        if len(context.fields) == MAX_FIELDS:
            raise SpecError(f"more than {MAX_FIELDS:,} fields: at most {MAX_FIELDS:,} are "
                            f"supported in a program", statement.name.span)
        context.add_field(names.field_of(context, statement, default_model))
    for statement in context.of_type(s.Periodic):
        periodic(context, statement)


def _check_causal(loss: Sequence[ir.Term], statements: Sequence[s.SetOption]) -> None:
    """Refuse ``set causal`` where no pde term's points have a time coordinate ``t``."""
    if not any(term.kind == "pde" and "t" in term.coords for term in loss):
        statement = [st for st in statements if st.name.id == "causal"][-1]
        raise SpecError("causal weighting slices the pde terms' points in time, but no pde "
                        "term has a coordinate 't'", statement.values[0].span)


def _stem(filename: str) -> str:
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return base[:-4] if base.endswith(".pde") else base
