"""What a residual contains: its fields and field derivatives, read from the SymPy expression,
and the nodes the plan puts in it in place of a sum of partials it computes in one pass."""
from __future__ import annotations

import sympy
from sympy.core.function import AppliedUndef

from ..expressions import Directional, ValueAt
from .names import MultiIndex


class _PlanNode(sympy.Function):
    """A node the plan puts in a residual in place of a sum of a field's partials, so that code
    generation computes the sum with one pass; ``args[0]`` is the field, `expanded` the sum."""

    @classmethod
    def eval(cls, *args):
        return None  # never evaluates by itself

    @property
    def field(self) -> sympy.Expr:
        return self.args[0]

    def expanded(self) -> sympy.Expr:
        raise NotImplementedError

    def _eval_derivative(self, symbol):
        return sympy.diff(self.expanded(), symbol)

    def _eval_is_real(self):
        return True


class Laplacian(_PlanNode):
    """``Laplacian(u(x, y), (x, y))``: the sum of the pure second derivatives of a field along
    the given coordinates, computed with one forward-Laplacian pass."""

    @property
    def coords(self) -> tuple[str, ...]:
        return tuple(str(c) for c in self.args[1])

    def expanded(self) -> sympy.Expr:
        return sum(sympy.diff(self.field, c, 2) for c in self.args[1])


class Combination(_PlanNode):
    """``Combination(u(x, y), sum)``: ``sum``, a constant-coefficient sum of partials of one
    order of the field ``u``, computed with one collapsed Taylor-mode pass (`CollapsedPass`)."""

    def expanded(self) -> sympy.Expr:
        return self.args[1]


def field_nodes(expr: sympy.Expr) -> set[sympy.Expr]:
    """The fields ``u(x, y)`` and field derivatives ``Derivative(u(x, y), x)`` in ``expr``,
    and those taken at other points (`ValueAt`), not counting a field inside one of these."""
    found, stack = set(), [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, sympy.Derivative) and isinstance(node.expr, AppliedUndef):
            found.add(node)
        elif isinstance(node, (AppliedUndef, Directional, Laplacian, Combination, ValueAt)):
            found.add(node)
        else:
            stack.extend(node.args)
    return found


def needed_partials(expr: sympy.Expr, coords: tuple[str, ...]) -> dict[str, set[MultiIndex]]:
    """field name -> the multi-indices of that field which ``expr`` contains at its own
    point."""
    needed: dict[str, set[MultiIndex]] = {}
    for node in field_nodes(expr):
        if isinstance(node, ValueAt):
            continue
        if isinstance(node, sympy.Derivative):
            needed.setdefault(node.expr.func.__name__, set()).add(multi_index(node, coords))
        elif isinstance(node, AppliedUndef):
            needed.setdefault(node.func.__name__, set()).add(())
        else:  # a Directional, Laplacian or Combination: planned apart; the field is known
            needed.setdefault(node.field.func.__name__, set())
    return needed


def shifted_partials(expr: sympy.Expr, coords: tuple[str, ...]
                     ) -> dict[tuple[str, tuple[sympy.Expr, ...]], set[MultiIndex]]:
    """(field name, point) -> the multi-indices of that field which ``expr`` takes at that
    point (`ValueAt`), other than the term's own."""
    needed: dict[tuple[str, tuple[sympy.Expr, ...]], set[MultiIndex]] = {}
    for node in field_nodes(expr):
        if isinstance(node, ValueAt):
            needed.setdefault((node.field.func.__name__, node.point), set()).add(
                value_index(node, coords))
    return needed


def value_index(node: ValueAt, coords: tuple[str, ...]) -> MultiIndex:
    """The multi-index of the partial a `ValueAt` takes at its point."""
    inner = node.inner
    return multi_index(inner, coords) if isinstance(inner, sympy.Derivative) else ()


def directional_nodes(expr: sympy.Expr, field: str) -> tuple[sympy.Expr, ...]:
    """The `Directional` derivatives of ``field`` in ``expr``, in a stable order."""
    return nodes_of(expr, field, Directional)


def nodes_of(expr: sympy.Expr, field: str, kind: type) -> tuple[sympy.Expr, ...]:
    """The nodes of type ``kind`` applied to ``field`` in ``expr``, in a stable order."""
    nodes = {n for n in field_nodes(expr) if isinstance(n, kind) and n.field.func.__name__ == field}
    return tuple(sorted(nodes, key=sympy.default_sort_key))


def loose_symbols(expr: sympy.Expr) -> set[sympy.Symbol]:
    """The symbols of ``expr`` outside the arguments of fields and their derivatives."""
    nodes = field_nodes(expr)
    replaced = expr.xreplace({n: sympy.Dummy() for n in nodes})
    symbols = {s for s in replaced.free_symbols if not isinstance(s, sympy.Dummy)}
    for node in nodes:  # a directional derivative's coefficients and a point are computed
        if isinstance(node, Directional):  # in the term
            symbols |= set().union(*(c.free_symbols for _, c in node.pairs))
        elif isinstance(node, ValueAt):
            symbols |= node.free_symbols
    return symbols


def multi_index(derivative: sympy.Derivative, coords: tuple[str, ...]) -> MultiIndex:
    """``Derivative(u(x, y), y, x)`` -> ``("x", "y")`` (sorted by the coordinates' order)."""
    names = [str(v) for v, count in derivative.variable_count for _ in range(int(count))]
    return tuple(sorted(names, key=coords.index))


def field_args(expr: sympy.Expr, field: str) -> tuple[str, ...]:
    """The coordinates ``field`` takes where ``expr`` applies it."""
    return next(tuple(str(c) for c in f.args) for f in expr.atoms(AppliedUndef)
                if f.func.__name__ == field)
