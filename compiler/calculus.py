"""Derivatives as SymPy takes them, bounded: a partial refused where it grows past
MAX_EXPRESSION_NODES or MAX_DERIVATIVE_ORDER; `Directional`, a field's derivative along a
vector kept whole for the derivative plan; and `ValueAt`, a field or a partial of it taken at
another point than the term's."""
from __future__ import annotations

import sympy
from sympy.core.exprtools import factor_terms
from sympy.core.function import AppliedUndef
from sympy.simplify.simplify import signsimp

from . import syntax as s
from .errors import SpecError
from .limits import MAX_EXPRESSION_NODES

# Nested forward mode costs 2**order evaluations for one partial of this order.
MAX_DERIVATIVE_ORDER = 8


class Directional(sympy.Function):
    """``Directional(u(x, y), (x, y), (a, b))``: the derivative of a field along the vector
    ``a e_x + b e_y`` (coefficients free of fields), kept whole so that the derivative plan
    computes it with one JVP instead of one per coordinate. Differentiating it again, or
    `expanded`, gives ``a*Derivative(u, x) + b*Derivative(u, y)``."""

    @classmethod
    def eval(cls, field, coords, coefficients):
        return None  # never evaluates by itself

    @property
    def field(self) -> sympy.Expr:
        return self.args[0]

    @property
    def pairs(self) -> tuple[tuple[sympy.Symbol, sympy.Expr], ...]:
        return tuple(zip(self.args[1], self.args[2]))

    def expanded(self) -> sympy.Expr:
        return sympy.Add(*(c * sympy.diff(self.field, x) for x, c in self.pairs))

    def _eval_derivative(self, symbol):
        return sympy.diff(self.expanded(), symbol)

    def _eval_is_real(self):
        return True


class ValueAt(sympy.Function):
    """``ValueAt(u(x, t), (0, t))``, ``ValueAt(Derivative(u(x, t), x), (1, t))``: a field, or
    a partial of it, at the point whose coordinates (in the field's order) are the second
    argument, expressions of the term's coordinates. Its derivative along a coordinate of the
    term follows the chain rule through the point: ``Dt`` of ``u(0, t)`` is ``u_t(0, t)``;
    ``Dx`` of it is 0. The field's own coordinates inside are bound, so its free symbols are
    those of the point alone."""
    nargs = 2

    @classmethod
    def eval(cls, inner, point):
        field = inner.expr if isinstance(inner, sympy.Derivative) else inner
        if isinstance(field, AppliedUndef) and tuple(point) == field.args:  # u(x, t) is u
            return inner
        return None

    @property
    def inner(self) -> sympy.Expr:
        return self.args[0]

    @property
    def point(self) -> tuple[sympy.Expr, ...]:
        return tuple(self.args[1])

    @property
    def field(self) -> sympy.Expr:
        return self.inner if isinstance(self.inner, AppliedUndef) else self.inner.expr

    @property
    def free_symbols(self) -> set:
        return set().union(*(p.free_symbols for p in self.point))

    def _eval_derivative(self, symbol):
        return sympy.Add(*(sympy.diff(p, symbol) * ValueAt(sympy.diff(self.inner, x), self.args[1])
                           for x, p in zip(self.field.args, self.point) if p.has(symbol)))

    def _eval_is_real(self):
        return True

    def _sympystr(self, printer) -> str:
        point = ", ".join(printer._print(p) for p in self.point)
        inner = self.field.func.__name__ if self.inner == self.field else printer._print(self.inner)
        return f"{inner}({point})"


def directional(expr: sympy.Expr, coords: list[sympy.Symbol],
                coefficients: list[sympy.Expr], node: s.Expr) -> sympy.Expr:
    """The derivative of ``expr`` along a vector: one `Directional` for a bare field, else
    the sum of partials (which SymPy simplifies). ``node`` is where it is written."""
    pairs = [(x, c) for x, c in zip(coords, coefficients) if c != 0]
    if (isinstance(expr, AppliedUndef) and len(pairs) > 1
            and not any(c.atoms(AppliedUndef) or c.has(sympy.Derivative) for _, c in pairs)):
        return Directional(expr, sympy.Tuple(*(x for x, _ in pairs)),
                           sympy.Tuple(*(c for _, c in pairs)))
    return sympy.Add(*(c * differentiate(expr, [x], node) for x, c in pairs))


def differentiate(expr: sympy.Expr, symbols: list[sympy.Symbol], node: s.Expr) -> sympy.Expr:
    """The partial derivative of ``expr`` along ``symbols``, as ``sympy.diff`` gives it, taken
    one order at a time so that a result past MAX_EXPRESSION_NODES is refused at ``node``
    before the next order (or SymPy's simplification of the result) multiplies it."""
    if not symbols:
        return expr
    if isinstance(expr, AppliedUndef):  # a field's partial: skip SymPy's walk over its arguments
        if not set(symbols) <= set(expr.args):
            return sympy.Integer(0)
        counts = [(x, symbols.count(x)) for x in dict.fromkeys(symbols)]
        return sympy.Derivative(expr, *sympy.Derivative._sort_variable_count(counts),
                                evaluate=False)
    counts = sympy.Derivative._sort_variable_count([(x, symbols.count(x))
                                                    for x in dict.fromkeys(symbols)])
    result = expr
    for symbol, count in counts:
        for _ in range(count):
            result = _piece_by_piece(sympy.diff(result, symbol))
            check_size(result, node.span, "this derivative")
    if len(symbols) > 1 and result != 0:  # what sympy.diff does for a derivative of order > 1
        result = factor_terms(signsimp(result))
    return result


def _piece_by_piece(derivative: sympy.Expr) -> sympy.Expr:
    """A derivative of a piecewise expression taken piece by piece: the Dirac deltas SymPy
    puts at the jumps of heaviside, min and max (zero at every point but a jump) dropped."""
    if not derivative.has(sympy.DiracDelta):
        return derivative
    return derivative.replace(lambda e: isinstance(e, sympy.DiracDelta), lambda e: sympy.S.Zero)


def tree_size(expr: sympy.Basic) -> int:
    """The number of nodes of ``expr`` as a tree, as printed (a shared subexpression counts
    at each place), counted once per distinct subexpression. A field ``u(x, y, ...)`` is one
    node: the generated code names it, not its arguments."""
    sizes: dict[sympy.Basic, int] = {}
    stack = [(expr, False)]
    while stack:
        current, ready = stack.pop()
        if current in sizes:
            continue
        if isinstance(current, AppliedUndef):
            sizes[current] = 1
        elif ready:
            sizes[current] = 1 + sum(sizes[a] for a in current.args)
        else:
            stack.append((current, True))
            stack.extend((a, False) for a in current.args if a not in sizes)
    return sizes[expr]


def check_size(expr: sympy.Basic, span, what: str = "this expression") -> None:
    """Refuse ``expr`` past MAX_EXPRESSION_NODES nodes, at ``span``."""
    size = tree_size(expr)
    if size > MAX_EXPRESSION_NODES:
        raise SpecError(f"{what} is too large: written out it has {size:,} nodes (the limit on "
                        f"an expression is {MAX_EXPRESSION_NODES:,})", span)


def derivative_order(expr: sympy.Expr) -> int:
    """The highest order of a partial derivative of a field in ``expr``."""
    return max((sum(int(c) for _, c in d.variable_count) for d in expr.atoms(sympy.Derivative)),
               default=0)


def check_order(node: s.Call, exprs, more: int) -> None:
    """Refuse a field's derivative beyond MAX_DERIVATIVE_ORDER before SymPy builds it (its
    expression grows fast with the order: lap(lap(lap(...))) would not end)."""
    for expr in exprs:
        order = derivative_order(expr) + more
        if order > MAX_DERIVATIVE_ORDER and expr.atoms(sympy.core.function.AppliedUndef):
            raise SpecError(f"a derivative of order {order}; at most {MAX_DERIVATIVE_ORDER} is "
                            f"supported", node.span)
