"""Regions: a domain, its interior or its boundary, narrowed by a `where` condition on its
coordinates; a condition never true there, or an interior one of no volume, is refused."""
from __future__ import annotations

import sympy
from sympy.logic.boolalg import to_dnf

from .. import ir
from .. import syntax as s
from ..errors import SpecError
from ..expressions import constant
from ..limits import MAX_COMPARISONS
from .domains import domain
from .names import Context

_BOUNDARY = "boundary"
# Relations of a condition past which `_never_in_box` leaves it to the sampler: each point it
# tries costs them all.
_MOST_RELATIONS_TRIED = 20


def region(context: Context, node: s.Region) -> ir.Region:
    """The region of a pde, bc or ic: ``in D``, ``on boundary(D)``, ``... where P``, or
    ``at [[X, Y], ...]``."""
    if node.points is not None:
        return point_region(context, node.points)
    return make_region(context, node.domain, node.on_boundary, node.where)


def point_region(context: Context, node: s.Expr) -> ir.Region:
    """``at [[X, Y], ...]``: the listed points, each a list of constants in the coordinates'
    order of the program's first domain with that many coordinates; refused outside its
    bounding box."""
    if not isinstance(node, s.Vector) or not all(isinstance(p, s.Vector) for p in node.items):
        raise SpecError("'at' takes a list of points, e.g. at [[0, 0]] or at [[0, 1], [1, 1]]",
                        node.span)
    sizes = {len(p.items) for p in node.items}
    if len(sizes) > 1:
        raise SpecError(f"the points have different numbers of coordinates "
                        f"({', '.join(map(str, sorted(sizes)))})", node.span)
    (size,) = sizes
    named = next((d for d in context.domains.values() if d.domain.dim == size), None)
    if named is None:
        raise SpecError(f"no domain of the program has {size} coordinate{'s' * (size != 1)}, "
                        f"as these points do", node.span)
    translate = context.translator("in a point").scalar
    points = tuple(tuple(constant(translate(c), c.span, "a number (a coordinate of a point)")
                         for c in p.items) for p in node.items)
    box = ir.bounding_box(named.domain, context.bounding_boxes)
    for point, written in zip(points, node.items):
        if box is not None and not all(_within(v, low, high) for v, (low, high) in zip(point, box)):
            raise SpecError(f"this point lies outside {named.name}, "
                            f"{ir.describe(named.domain)}", written.span)
    return ir.Region(named.name, named.domain, False, None, points)


def _within(value: float, low: float, high: float) -> bool:
    """``low <= value <= high``, forgiving rounding (a corner written as pi/2, say)."""
    slack = 1e-9 * max(1.0, abs(low), abs(high))
    return low - slack <= value <= high + slack


def make_region(context: Context, domain_node: s.DomainExpr, on_boundary: bool,
                where: s.Predicate | None) -> ir.Region:
    built = domain(context, domain_node)
    name = domain_node.id if isinstance(domain_node, s.Name) else context.text(domain_node.span)
    predicate = _condition(context, where, built) if where is not None else None
    if predicate is not None and not on_boundary and _has_no_volume(predicate):
        raise SpecError("an interior region narrowed by '==' has no volume, so no point of "
                        "it can be sampled: a condition with '==' belongs on a boundary, "
                        "e.g. 'bc ... on boundary(D) where x == 0' (or narrow the interior "
                        "with < or >)", where.span)
    return ir.Region(name, built, on_boundary,
                     None if predicate is None else where_of(predicate, built.coords))


def where_of(predicate: sympy.Basic, coords: tuple[str, ...]) -> ir.Where:
    """The IR of a `where` condition on points of ``coords``: the predicate, its text, and
    the clauses of its disjunctive normal form with the ``coord == value`` atoms by which
    geometry selects the flat pieces of a boundary."""
    normal = to_dnf(predicate)
    clauses = normal.args if isinstance(normal, sympy.Or) else (normal,)
    return ir.Where(predicate, tuple(coords), str(predicate),
                    tuple(_clause(clause) for clause in clauses))


def _clause(clause: sympy.Basic) -> ir.Clause:
    atoms = clause.args if isinstance(clause, sympy.And) else (clause,)
    equalities = tuple(e for e in map(_equality, atoms) if e is not None)
    return ir.Clause(equalities, bare=isinstance(clause, sympy.Eq) and bool(equalities))


def _equality(atom: sympy.Basic) -> tuple[str, float] | None:
    """``(coord, value)`` where ``atom`` is an ``Eq`` fixing one coordinate, linear in it, to
    a number; else None."""
    if not isinstance(atom, sympy.Eq):
        return None
    difference = atom.lhs - atom.rhs
    if len(difference.free_symbols) != 1:
        return None
    (symbol,) = difference.free_symbols
    polynomial = difference.as_poly(symbol)
    if polynomial is None or polynomial.degree() != 1:
        return None
    slope, offset = polynomial.all_coeffs()
    return symbol.name, float(-offset / slope)


def integral_region(context: Context, node: s.Call) -> ir.Region:
    """The region of ``integral(EXPR, D)`` or ``integral(EXPR, boundary(D))``; of
    ``integral(EXPR)``, the program's only domain."""
    if len(node.args) == 2:
        where = node.args[1]
        if isinstance(where, s.Call) and where.func.id == _BOUNDARY:
            if len(where.args) != 1:
                raise SpecError("boundary takes one domain: boundary(D)", where.span)
            return make_region(context, where.args[0], True, None)
        return make_region(context, where, False, None)
    if len(context.domains) != 1:
        raise SpecError("integral over which domain? Write integral(EXPR, D)", node.span)
    only = next(iter(context.domains.values()))
    return ir.Region(only.name, only.domain, False, None)


def _condition(context: Context, node: s.Predicate, within: ir.Domain) -> sympy.Basic | None:
    """A `where` condition -> a SymPy boolean of the domain's coordinates; None when it always
    holds."""
    comparisons = sum(isinstance(n, s.Compare) for n in s.nodes(node))
    if comparisons > MAX_COMPARISONS:  # SymPy's And and Or compare their terms pairwise
        raise SpecError(f"a condition of {comparisons:,} comparisons: at most "
                        f"{MAX_COMPARISONS:,} are supported after one 'where'", node.span)
    result = _predicate(context, node, within)
    if result is sympy.false:
        raise SpecError("this condition is never true", node.span)
    if _never_in_box(result, within):
        raise SpecError(f"this condition is never true in {ir.describe(within)}", node.span)
    return None if result is sympy.true else result


def _predicate(context: Context, node: s.Predicate, within: ir.Domain) -> sympy.Basic:
    def check(side: s.Expr, value: sympy.Expr) -> None:
        if value.atoms(sympy.core.function.AppliedUndef):
            raise SpecError("a condition may use coordinates only, not fields or tables",
                            side.span)
        outside = {str(c) for c in value.free_symbols} - set(within.coords)
        if outside:
            raise SpecError(f"'{sorted(outside)[0]}' is not a coordinate of this domain "
                            f"({', '.join(within.coords)})", side.span)
    return context.translator("in a condition").condition(node, check)


def _never_in_box(predicate: sympy.Basic, within: ir.Domain) -> bool:
    """Whether a condition on one coordinate of a box, linear in it, holds nowhere in the box
    (``where x > 2`` on x in [0, 1]). Other conditions are left to the sampler.

    Its truth changes only at the roots of its relations, so trying the ends of the range,
    the roots in it and the points between them settles it."""
    if not isinstance(within, ir.Box) or len(predicate.free_symbols) != 1:
        return False
    relations = predicate.atoms(sympy.core.relational.Relational)
    if len(relations) > _MOST_RELATIONS_TRIED:
        return False
    (symbol,) = predicate.free_symbols
    low, high = within.bounds[within.coords.index(str(symbol))]
    slack = 1e-9 * max(1.0, abs(low), abs(high))
    points = [sympy.Float(low), sympy.Float(high)]
    try:
        for relation in relations:
            difference = relation.lhs - relation.rhs
            slope = sympy.diff(difference, symbol)
            if slope.has(symbol):  # not linear
                return False
            if slope != 0:
                root = -difference.subs(symbol, 0) / slope
                if low - slack <= root <= high + slack:
                    points.append(root)
        points.sort(key=float)
        points += [(a + b) / 2 for a, b in zip(points, points[1:])]
        return not any(predicate.subs(symbol, p) is sympy.true for p in points)
    except TypeError:  # undefined at a point tried (0^y at y = 0): left to the sampler
        return False


def _has_no_volume(predicate: sympy.Basic) -> bool:
    """Whether a condition certainly holds only on a set of zero volume: an equality, a
    conjunction with one, or a disjunction of such (the runtime cannot sample it inside)."""
    if isinstance(predicate, sympy.Eq):
        return True
    if isinstance(predicate, sympy.And):
        return any(_has_no_volume(p) for p in predicate.args)
    if isinstance(predicate, sympy.Or):
        return all(_has_no_volume(p) for p in predicate.args)
    return False
