"""Rewriting a residual for the plan: sums of a field's partials that one pass computes
cheaper than separate ones become a `Laplacian` or a `Combination` node."""
from __future__ import annotations

import functools

import sympy
from sympy.core.function import AppliedUndef

from ..expressions import Directional, ValueAt
from .cost import MIN_COLLAPSED_ORDER, MIN_LAPLACIAN_COORDS, collapsed_cost, passes_cost
from .names import MultiIndex
from .nodes import Combination, Laplacian, field_nodes, multi_index
from .decomposition import waring


def group_laplacians(expr: sympy.Expr, coords: tuple[str, ...]) -> sympy.Expr:
    """``expr`` with every sum ``c*u_xx + c*u_yy + ...`` of pure second derivatives of one field
    over at least `MIN_LAPLACIAN_COORDS` coordinates, with one coefficient ``c``, replaced by
    ``c*Laplacian(u, (x, y, ...))``. Other terms of the sum are kept as they are."""
    return _regroup_sums(expr, lambda args: _grouped(args, coords))


def group_combinations(expr: sympy.Expr, coords: tuple[str, ...]) -> sympy.Expr:
    """``expr`` with every sum of partials of one field of one order k >= `MIN_COLLAPSED_ORDER`
    with numeric coefficients over two or more coordinates (that `waring` decomposes) replaced
    by ``Combination(u, sum)``, where one collapsed Taylor pass costs less than the passes the
    sum's partials would take (`collapsed_cost`). Other terms of the sum are kept as they are."""
    return _regroup_sums(expr, lambda args: _combined(args, coords))


def _regroup_sums(expr: sympy.Expr, regroup) -> sympy.Expr:
    """``expr`` with the terms of every sum passed through ``regroup`` (a list of terms to a
    list of terms), innermost sums first; fields, derivatives and the plan's own nodes are
    left whole."""
    def rebuild(node):
        if not node.args or isinstance(node, (AppliedUndef, sympy.Derivative, Directional,
                                              Laplacian, Combination, ValueAt)):
            return node
        args = [rebuild(a) for a in node.args]
        if isinstance(node, sympy.Add):
            args = regroup(args)
        return node.func(*args) if args != list(node.args) else node
    return rebuild(expr)


def _grouped(args: list[sympy.Expr], coords: tuple[str, ...]) -> list[sympy.Expr]:
    groups: dict[tuple, list[int]] = {}
    for i, arg in enumerate(args):
        found = _pure_second(arg)
        if found is not None:
            field, coord, coefficient = found
            groups.setdefault((field, coefficient), []).append(i)
    taken, added = set(), []
    for (field, coefficient), indices in groups.items():
        if len(indices) < MIN_LAPLACIAN_COORDS:
            continue
        along = sorted((_pure_second(args[i])[1] for i in indices), key=coords.index)
        taken |= set(indices)
        added.append(coefficient * Laplacian(field, sympy.Tuple(*[sympy.Symbol(c, real=True)
                                                                  for c in along])))
    if not added:
        return args
    return [a for i, a in enumerate(args) if i not in taken] + added


def _pure_second(term: sympy.Expr):
    """``c*Derivative(u, (x, 2))`` -> ``(u, "x", c)`` (``c`` free of fields), else None."""
    factors = sympy.Mul.make_args(term)
    derivatives = [f for f in factors if isinstance(f, sympy.Derivative)
                   and isinstance(f.expr, AppliedUndef) and len(f.variable_count) == 1
                   and f.variable_count[0][1] == 2]
    if len(derivatives) != 1:
        return None
    derivative = derivatives[0]
    coefficient = sympy.Mul(*[f for f in factors if f is not derivative])
    if field_nodes(coefficient):
        return None
    return derivative.expr, str(derivative.variable_count[0][0]), coefficient


def _combined(args: list[sympy.Expr], coords: tuple[str, ...]) -> list[sympy.Expr]:
    groups: dict[tuple, list[int]] = {}
    for i, arg in enumerate(args):
        found = _numeric_partial(arg)
        if found is not None and found[1].derivative_count >= MIN_COLLAPSED_ORDER:
            groups.setdefault((found[0], int(found[1].derivative_count)), []).append(i)
    taken, added = set(), []
    for (field, order), indices in groups.items():
        total = sympy.Add(*[args[i] for i in indices])
        found = decomposed(total, coords)
        if found is None or collapsed_cost(len(found[1]), order) >= passes_cost(found[0]):
            continue
        taken |= set(indices)
        added.append(Combination(field, total))
    if not added:
        return args
    return [a for i, a in enumerate(args) if i not in taken] + added


@functools.lru_cache(maxsize=256)  # asked once to choose the pass and once to plan it
def decomposed(total: sympy.Expr, coords: tuple[str, ...]
               ) -> tuple[tuple[MultiIndex, ...], tuple, tuple, tuple] | None:
    """For ``total``, a sum of distinct partials of one order with numeric coefficients: its
    partials (in the coordinates' order), `waring`'s directions (one entry per coordinate of
    ``coords``) and weights, and the partials' coefficients; None where it spans fewer than two
    coordinates, repeats a partial, or `waring` finds no decomposition."""
    terms = sorted((_numeric_partial(t) for t in sympy.Add.make_args(total)),
                   key=lambda t: [coords.index(c) for c in multi_index(t[1], coords)])
    partials = [multi_index(d, coords) for _, d, _ in terms]
    along = sorted(set().union(*partials), key=coords.index)
    if len(along) < 2 or len(set(partials)) != len(partials):
        return None
    coefficients = [c for _, _, c in terms]
    found = waring(dict(zip(partials, coefficients)), along, len(partials[0]))
    if found is None:
        return None
    plane, weights = found
    directions = tuple(tuple(v[along.index(c)] if c in along else 0.0 for c in coords)
                       for v in plane)
    return tuple(partials), directions, tuple(weights), tuple(coefficients)


def _numeric_partial(term: sympy.Expr):
    """``c*Derivative(u, ...)`` with a number ``c`` -> ``(u, derivative, c)``, else None."""
    coefficient, rest = term.as_coeff_Mul()
    if (isinstance(rest, sympy.Derivative) and isinstance(rest.expr, AppliedUndef)
            and coefficient.is_number):
        return rest.expr, rest, float(coefficient)
    return None
