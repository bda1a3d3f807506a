"""The loss's terms: each pde, bc and ic equation, each minimize (one term per region its
integrals are over) and each data statement, labelled, with its SymPy residual checked."""
from __future__ import annotations

import dataclasses
from typing import Sequence

import sympy

from .. import ir
from .. import syntax as s
from ..errors import Span, SpecError
from ..calculus import MAX_DERIVATIVE_ORDER, check_size, derivative_order
from ..expressions import UNDEFINED, Translator
from ..limits import MAX_TERMS
from ..options import term_options
from .data import data_terms
from .names import Context
from .regions import integral_region, region
from .tables import check_coordinates, is_table

# The columns of a run's history.csv besides one per term label (the runtime's training loop).
_HISTORY_COLUMNS = ("step", "loss")
# The statements that add terms to the loss.
TERM_STATEMENTS = (s.Equation, s.Minimize, s.DataDecl)


def terms(context: Context) -> tuple[ir.Term, ...]:
    """Every term of the program, in source order, each label used once. An unlabelled term
    is named after its kind and its number among them (``pde1``, ``minimize2``, ``data1_u``)."""
    built: list[ir.Term] = []
    counters: dict[str, int] = {}
    labels: dict[str, Span] = {}
    for statement in context.program.statements:
        context.statement = statement
        if len(built) >= MAX_TERMS and isinstance(statement, TERM_STATEMENTS):
            raise too_many_terms(statement.span)
        if isinstance(statement, s.Equation):
            counters[statement.kind] = counters.get(statement.kind, 0) + 1
            label, span = _equation_label(statement, counters[statement.kind])
            _claim(labels, label, span)
            built.append(equation(context, statement, label))
        elif isinstance(statement, (s.Minimize, s.DataDecl)):
            kind = "minimize" if isinstance(statement, s.Minimize) else "data"
            counters[kind] = counters.get(kind, 0) + 1
            build = minimize if kind == "minimize" else data_terms
            for term in build(context, statement, f"{kind}{counters[kind]}"):
                _claim(labels, term.label, statement.span)
                built.append(term)
    return tuple(built)


def too_many_terms(span: Span) -> SpecError:
    return SpecError(f"more than {MAX_TERMS:,} terms: at most {MAX_TERMS:,} are supported in "
                     f"a program", span)


def _equation_label(statement: s.Equation, number: int) -> tuple[str, Span]:
    """An equation's label and where it is written (its statement, where it has none)."""
    label_node = statement.label
    label = label_node.id if label_node else f"{statement.kind}{number}"
    span = label_node.span if label_node else statement.span
    if label in _HISTORY_COLUMNS:
        raise SpecError(f"label '{label}' is the name of a column of history.csv "
                        f"({', '.join(_HISTORY_COLUMNS)}, then one column per term): "
                        f"choose another label", span)
    return label, span


def _claim(labels: dict[str, Span], label: str, span: Span) -> None:
    if label in labels:
        raise SpecError(f"label '{label}' is already used on line {labels[label].line}", span)
    labels[label] = span


def equation(context: Context, statement: s.Equation, label: str) -> ir.Term:
    """A pde, bc or ic: its residual ``lhs - rhs`` on its region; each integral in it becomes a
    symbol of the term's `ir.Integral`s."""
    where = region(context, statement.region)
    if statement.kind == "pde" and (where.on_boundary or where.points is not None):
        raise SpecError("a pde holds in a domain: write 'in D' (use bc for 'on boundary(D)' "
                        "or 'at [[...]]')", statement.region.span)
    if statement.kind in ("bc", "ic") and not where.on_boundary and where.points is None:
        raise SpecError(f"a {statement.kind} holds on a boundary: write 'on boundary(D)' "
                        f"(or 'at [[...]]' at points)",
                        statement.region.span)
    integrals: list[ir.Integral] = []

    def integral(node: s.Call, translator: Translator) -> sympy.Expr:
        integrand, integral_over = _integral_parts(context, node, translator)
        if any("@normal" in str(symbol) for symbol in integrand.free_symbols):
            raise SpecError("dn(...) inside an integral is not supported", node.span)
        check_term(context, integrand, integral_over, node.span, need_field=False)
        symbol = sympy.Symbol(f"integral{len(integrals)}@{label}", real=True)
        integrals.append(ir.Integral(symbol, integrand, integral_over))
        return symbol

    normals = ({c: ir.normal_symbol(c) for c in where.coords} if where.on_boundary else None)
    translate = context.translator("here", integral, normals).scalar
    residual = translate(statement.lhs) - translate(statement.rhs)
    check_term(context, residual, where, statement.span, allowed=integrals)
    weight, points = term_options(statement.options)
    return ir.Term(label, statement.kind, residual, where, weight, points,
                   context.text(statement.span), statement.span, integrals=tuple(integrals))


def _integral_parts(context: Context, node: s.Call,
                    translator: Translator) -> tuple[sympy.Expr, ir.Region]:
    """``integral(EXPR[, REGION])`` -> (EXPR as SymPy, its region)."""
    if not 1 <= len(node.args) <= 2 or node.keywords or node.ranges:
        raise SpecError("integral takes an expression and optionally a region: "
                        "integral(EXPR) or integral(EXPR, D) or integral(EXPR, boundary(D))",
                        node.span)
    inner = Translator(dataclasses.replace(translator.scope, normals=None,
                                           integral=None, where="inside an integral"))
    return inner.scalar(node.args[0]), integral_region(context, node)


def minimize(context: Context, statement: s.Minimize, label: str) -> list[ir.Term]:
    """A functional: a sum of integrals with constant factors. One term per region its
    integrals are over (an energy and its boundary penalty: two), each on its own points."""
    integrals: list[tuple[sympy.Symbol, sympy.Expr, ir.Region, Span]] = []

    def integral(node: s.Call, translator: Translator) -> sympy.Expr:
        integrand, integral_over = _integral_parts(context, node, translator)
        placeholder = sympy.Dummy(f"integral{len(integrals)}")
        integrals.append((placeholder, integrand, integral_over, node.span))
        return placeholder

    functional = context.translator("here", integral).scalar(statement.expr)
    if not integrals:
        raise SpecError("minimize takes integrals, e.g. minimize integral(Dx(u)^2)",
                        statement.expr.span)
    poly = _linear_in(functional, [i[0] for i in integrals])
    if poly is None:
        raise SpecError("minimize takes a sum of integrals with constant factors, e.g. "
                        "integral(a) - 2*integral(b)", statement.expr.span)
    parts: dict[ir.Region, sympy.Expr] = {}  # one sum of integrands per region
    for placeholder, part, integral_over, _ in integrals:
        parts[integral_over] = (parts.get(integral_over, sympy.Integer(0))
                                + poly.coeff_monomial(placeholder) * part)
    weight, points = term_options(statement.options)
    text = context.text(statement.span)
    built = []
    for name, (where, integrand) in zip(_part_labels(label, list(parts)), parts.items()):
        check_term(context, integrand, where, statement.span)
        built.append(ir.Term(name, "minimize", integrand, where, weight, points, text,
                             statement.span))
    return built


def _linear_in(functional: sympy.Expr, placeholders: list[sympy.Symbol]) -> sympy.Poly | None:
    """``functional`` as a polynomial of degree 1 in ``placeholders`` with constant
    coefficients and no constant term, or None where it is not one."""
    try:
        poly = sympy.Poly(functional, *placeholders) if functional.free_symbols else None
    except sympy.PolynomialError:  # an integral inside a function: sqrt(integral(u))
        return None
    if (poly is None or poly.total_degree() != 1 or poly.coeff_monomial(1) != 0
            or any(c.free_symbols for c in poly.coeffs())):
        return None
    return poly


def _part_labels(label: str, regions: list[ir.Region]) -> list[str]:
    """Labels of a minimize's parts: its own label for one region, else the label and each
    region (``minimize1_Omega``, ``minimize1_boundary_Omega``), numbered where that is not
    unique."""
    if len(regions) == 1:
        return [label]
    names = [f"{label}_{'boundary_' if r.on_boundary else ''}{r.domain_name}" for r in regions]
    if len(set(names)) < len(names) or not all(r.domain_name for r in regions):
        return [f"{label}_{k}" for k in range(1, len(regions) + 1)]
    return names


def check_term(context: Context, residual: sympy.Expr, where: ir.Region, span: Span,
               allowed: Sequence[ir.Integral] = (), need_field: bool = True) -> None:
    """Refuse a residual that is too large, of too high a derivative order, undefined, free of
    fields (unless ``need_field`` is False or it holds integrals) or that uses a coordinate
    its region does not have."""
    check_size(residual, span, "this term")
    check_coordinates(context, residual, where.coords, span)
    fields = {f for f in residual.atoms(sympy.core.function.AppliedUndef)
              if not is_table(context, f)}
    order = derivative_order(residual)
    if order > MAX_DERIVATIVE_ORDER:
        raise SpecError(f"a derivative of order {order}; at most {MAX_DERIVATIVE_ORDER} is "
                        f"supported", span)
    if residual.has(*UNDEFINED):
        raise SpecError("this term holds an undefined or infinite value (e.g. the "
                        "derivative of 0^y)", span)
    if need_field and not fields and not allowed:
        raise SpecError("this term involves no field, so training cannot change it", span)
    for f in fields:
        missing = [str(a) for a in f.args if str(a) not in where.coords]
        if missing:
            raise SpecError(f"field '{f.func}' depends on '{missing[0]}', which is not a "
                            f"coordinate of the region ({', '.join(where.coords)})", span)
    outside = ({str(c) for c in residual.free_symbols} - set(where.coords) - set(context.params)
               - {str(i.symbol) for i in allowed}
               - {str(ir.normal_symbol(c)) for c in where.coords})
    if outside:
        raise SpecError(f"'{sorted(outside)[0]}' is not a coordinate of the region "
                        f"({', '.join(where.coords)})", span)
