"""Expressions of the language -> SymPy, with the calculus operators resolved.

`Translator` turns a syntax expression into a SymPy expression (or a `Vector` of them) in a
`Scope` that says what each name means. Derivatives are taken by SymPy here, so the chain and
product rules and derivatives of known functions are done at compile time; what is left are
derivatives of fields, ``Derivative(u(x, y), x, x)``, for the derivative plan.
"""
from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Mapping, Union

import sympy
from sympy.core.exprtools import factor_terms
from sympy.core.function import AppliedUndef
from sympy.simplify.simplify import signsimp

from . import syntax as s
from .errors import SpecError, did_you_mean
from .limits import MAX_EXACT_DIGITS, MAX_EXPRESSION_NODES

FUNCTIONS: Mapping[str, Callable] = {
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "asin": sympy.asin,
    "acos": sympy.acos, "atan": sympy.atan, "sinh": sympy.sinh, "cosh": sympy.cosh,
    "tanh": sympy.tanh, "exp": sympy.exp, "log": sympy.log, "sqrt": sympy.sqrt,
    "abs": sympy.Abs,
}
CONSTANTS: Mapping[str, sympy.Expr] = {"pi": sympy.pi}
OPERATORS = ("D", "grad", "div", "lap", "dot", "norm", "integral", "dn")
KEYWORDS = ("let", "param", "domain", "field", "pde", "bc", "ic", "minimize", "data", "exact",
            "set", "in", "on", "where", "with", "then", "and", "or", "not", "from", "boundary")
RESERVED = frozenset(FUNCTIONS) | frozenset(CONSTANTS) | frozenset(OPERATORS) | frozenset(KEYWORDS)
# What SymPy gives for an undefined or infinite value (the derivative of 0^y, say).
UNDEFINED = (sympy.nan, sympy.zoo, sympy.oo, -sympy.oo)

# Exponents beyond this make numbers no float can hold; refuse them before building them.
_MAX_EXPONENT = 400
_SMALLEST = sympy.Rational(1, 10 ** _MAX_EXPONENT)
# Nested forward mode costs 2**order evaluations for one partial of this order.
MAX_DERIVATIVE_ORDER = 8
# SymPy expands u^n term by term when it asks whether sinh(u^n) is real, and computes a
# number's power exactly; for a large n neither would end, and no float program needs it.
_MAX_POWER = 100
_MAX_POWER_OF_NUMBER = 10_000
_MAX_EXACT_BITS = math.ceil(MAX_EXACT_DIGITS * math.log2(10))
# Significant digits of a number too long to keep exact (float64 needs 17).
FLOAT_DIGITS = 30
_NUMBER = re.compile(r"^(?P<mantissa>[0-9.]+)(?:[eE](?P<exponent>[+-]?[0-9]+))?$")


@dataclass(frozen=True)
class Vector:
    """A vector value: ``grad(u)``, ``[a, b]``. Its items are scalar SymPy expressions;
    ``gradient_of`` is ``(expr, coords)`` when the vector is ``grad(expr)``."""
    items: tuple[sympy.Expr, ...]
    gradient_of: tuple[sympy.Expr, tuple[sympy.Symbol, ...]] | None = None


Value = Union[sympy.Expr, Vector]


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


@dataclass
class Scope:
    """What names mean where an expression is translated.

    ``coords``: coordinate name -> symbol; ``fields``: field name -> applied function
    ``u(x, y)``; ``params``: name -> symbol; ``lets``: name -> a callable giving the let's value
    (it resolves lazily, so that order does not matter and cycles are found).
    ``integral``: called for ``integral(...)`` where integrals are allowed, else None.
    ``normals``: coordinate -> symbol of the outward normal's component, on a boundary only.
    """
    coords: Mapping[str, sympy.Symbol]
    fields: Mapping[str, sympy.Expr]
    params: Mapping[str, sympy.Symbol]
    lets: Mapping[str, Callable[[], sympy.Expr]]
    integral: Callable[[s.Call, "Translator"], sympy.Expr] | None = None
    where: str = "here"
    normals: Mapping[str, sympy.Symbol] | None = None

    def known_names(self) -> set[str]:
        return (set(self.coords) | set(self.fields) | set(self.params) | set(self.lets)
                | set(FUNCTIONS) | set(CONSTANTS) | set(OPERATORS))


def number(node: s.Number) -> sympy.Expr:
    """The exact rational value of a number literal (a float past MAX_EXACT_DIGITS digits)."""
    match = _NUMBER.match(node.text)
    shown = node.text if len(node.text) <= 24 else node.text[:20] + "..."
    exponent = (match.group("exponent") or "").lstrip("+-").lstrip("0") if match else ""
    if len(exponent) > len(str(_MAX_EXPONENT)) or int(exponent or 0) > _MAX_EXPONENT:
        raise SpecError(f"number {shown} is out of range", node.span)
    try:
        value = Fraction(node.text)
    except ValueError:  # more digits than Python turns into an integer
        raise SpecError(f"number {shown} has too many digits", node.span) from None
    if abs(value) > sys.float_info.max:
        raise SpecError(f"number {shown} is out of range", node.span)
    return _in_range(sympy.Rational(value.numerator, value.denominator), node)


class Translator:
    """Syntax expression -> SymPy value in a `Scope`. One method per node type."""

    def __init__(self, scope: Scope):
        self.scope = scope

    def scalar(self, node: s.Expr) -> sympy.Expr:
        value = self.value(node)
        if isinstance(value, Vector):
            raise SpecError("expected a scalar here, got a vector", node.span)
        return value

    def value(self, node: s.Expr) -> Value:
        method = getattr(self, "_" + type(node).__name__.lower(), None)
        if method is None:
            raise SpecError(f"a {type(node).__name__.lower()} cannot appear in an expression",
                            node.span)
        return method(node)

    # --- leaves ---
    def _number(self, node: s.Number) -> sympy.Expr:
        return number(node)

    def _name(self, node: s.Name) -> sympy.Expr:
        scope, name = self.scope, node.id
        for table in (scope.coords, scope.fields, scope.params, CONSTANTS):
            if name in table:
                return table[name]
        if name in scope.lets:
            return scope.lets[name]()
        if name in FUNCTIONS or name in OPERATORS or _derivative_letters(name, scope):
            raise SpecError(f"'{name}' is a function: write {name}(...)", node.span)
        raise SpecError(f"unknown name '{name}'{did_you_mean(name, scope.known_names())}",
                        node.span)

    # --- arithmetic ---
    def _binop(self, node: s.BinOp) -> Value:
        if node.op == "^":
            return self._apply(node, self.value(node.left), self.value(node.right))
        # A chain a + b - c + ... is a left-deep tree: walk it in a loop, not by recursion, and
        # build one n-ary Add (or Mul), as adding one term at a time costs O(n^2) in SymPy.
        chain, top = [], node
        family = "+-" if node.op in "+-" else "*/"
        while isinstance(node, s.BinOp) and node.op in family:
            chain.append(node)
            node = node.left
        chain.reverse()
        first = self.value(node)
        operands = [self.value(link.right) for link in chain]
        if isinstance(first, Vector) or any(isinstance(v, Vector) for v in operands):
            value = first
            for link, right in zip(chain, operands):
                value = self._apply(link, value, right)
            return value
        if family == "+-":
            signed = [(link, v if link.op == "+" else -v) for link, v in zip(chain, operands)]
        else:
            for link, v in zip(chain, operands):
                if link.op == "/" and v == 0:
                    raise SpecError("division by zero", link.right.span)
            signed = [(link, v if link.op == "*" else 1 / v) for link, v in zip(chain, operands)]
        return _combine(family, [(top, first)] + signed, top)

    def _apply(self, node: s.BinOp, left: Value, right: Value) -> Value:
        if isinstance(left, Vector) or isinstance(right, Vector):
            return _vector_arithmetic(node, left, right)
        if node.op == "+":
            return _in_range(left + right, node)
        if node.op == "-":
            return _in_range(left - right, node)
        if node.op == "*":
            return _in_range(left * right, node)
        if node.op == "/":
            if right == 0:
                raise SpecError("division by zero", node.right.span)
            return _in_range(left / right, node)
        if left.is_number and right.is_Number and _too_large(left, right):
            raise SpecError("number out of range", node.span)
        if right.is_Rational and left not in (0, 1, -1):
            limit, of = ((_MAX_POWER_OF_NUMBER, "") if left.is_number
                         else (_MAX_POWER, " on a coordinate or field"))
            if abs(right) > limit:
                raise SpecError(f"exponent too large: at most {limit} is supported{of}",
                                node.right.span)
        if left == 0 and right.is_Number and right.is_negative:
            raise SpecError("division by zero (0 to a negative power)", node.span)
        return _in_range(_real(sympy.Pow(left, right), node, lambda: f"({left})^({right})"), node)

    def _neg(self, node: s.Neg) -> Value:
        sign = 1
        while isinstance(node, s.Neg):  # - - - x, iteratively
            sign, node = -sign, node.operand
        value = self.value(node)
        if isinstance(value, Vector):
            return Vector(tuple(sign * v for v in value.items))
        return sign * value

    def _vector(self, node: s.Vector) -> Vector:
        return Vector(tuple(self.scalar(item) for item in node.items))

    def _tuple(self, node: s.Tuple) -> Value:
        raise SpecError("a tuple '(a, b)' is not a value; write a vector as [a, b]", node.span)

    # --- calls ---
    def _call(self, node: s.Call) -> Value:
        name = node.func.id
        if node.keywords or node.ranges:
            extra = (node.keywords or node.ranges)[0]
            raise SpecError(f"'{name}' takes no keyword arguments", extra.span)
        if name in FUNCTIONS:
            (argument,) = self._arguments(node, 1)
            value = self.scalar(argument)
            try:  # SymPy itself fails on some extreme constants: atan(tan(1e300))
                result = FUNCTIONS[name](value)
            except (TypeError, AttributeError, ValueError):
                raise SpecError(f"cannot evaluate {name} of this argument", node.span) from None
            return _real(result, node, lambda: f"{name}({value})")
        operator = getattr(self, "_op_" + name, None)
        if operator is not None:
            return operator(node)
        letters = _derivative_letters(name, self.scope)
        if letters is not None:
            (argument,) = self._arguments(node, 1)
            return self._derivative(node, self.scalar(argument),
                                    [self.scope.coords[c] for c in letters])
        if name in self.scope.fields or name in self.scope.lets or name in self.scope.params:
            raise SpecError(f"'{name}' is not a function; write it without arguments "
                            f"(a field's arguments are given where it is declared)", node.func.span)
        raise SpecError(f"unknown function '{name}'"
                        f"{did_you_mean(name, set(FUNCTIONS) | set(OPERATORS))}", node.func.span)

    def _arguments(self, node: s.Call, count: int, most: int | None = None) -> tuple:
        most = count if most is None else most
        if not count <= len(node.args) <= most:
            wanted = str(count) if count == most else f"{count} to {most}"
            raise SpecError(f"'{node.func.id}' takes {wanted} argument"
                            f"{'' if wanted == '1' else 's'}, got {len(node.args)}", node.span)
        return node.args

    def _coordinate(self, node: s.Expr) -> sympy.Symbol:
        if isinstance(node, s.Name) and node.id in self.scope.coords:
            return self.scope.coords[node.id]
        raise SpecError(f"expected a coordinate ({', '.join(self.scope.coords)})", node.span)

    def _derivative(self, node: s.Call, expr: sympy.Expr,
                    symbols: list[sympy.Symbol]) -> sympy.Expr:
        _check_order(node, [expr], len(symbols))
        return differentiate(expr, symbols, node)

    def _op_D(self, node: s.Call) -> sympy.Expr:
        if len(node.args) < 2:
            raise SpecError("D takes an expression and at least one coordinate: D(u, x)", node.span)
        expr = self.scalar(node.args[0])
        return self._derivative(node, expr, [self._coordinate(a) for a in node.args[1:]])

    def _spatial(self, node: s.Call, expr: Value, named: tuple[s.Expr, ...]) -> list[sympy.Symbol]:
        """The coordinates of grad/lap/div: those named, else the fields' own except ``t``."""
        if named:
            return [self._coordinate(a) for a in named]
        items = expr.items if isinstance(expr, Vector) else (expr,)
        used = set().union(*(i.atoms(sympy.Symbol) | _field_coordinates(i) for i in items))
        coords = [c for name, c in self.scope.coords.items() if c in used and name != "t"]
        if not coords:
            raise SpecError(f"'{node.func.id}' of an expression that depends on no spatial "
                            f"coordinate", node.span)
        return coords

    def _op_lap(self, node: s.Call) -> sympy.Expr:
        self._arguments(node, 1, len(node.args) or 1)
        expr = self.scalar(node.args[0])
        _check_order(node, [expr], 2)
        return sympy.Add(*(differentiate(expr, [c, c], node)
                           for c in self._spatial(node, expr, node.args[1:])))

    def _op_grad(self, node: s.Call) -> Vector:
        self._arguments(node, 1, len(node.args) or 1)
        expr = self.scalar(node.args[0])
        _check_order(node, [expr], 1)
        coords = tuple(self._spatial(node, expr, node.args[1:]))
        return Vector(tuple(differentiate(expr, [c], node) for c in coords),
                      gradient_of=(expr, coords))

    def _op_div(self, node: s.Call) -> sympy.Expr:
        self._arguments(node, 1, len(node.args) or 1)
        vector = self.value(node.args[0])
        if not isinstance(vector, Vector):
            raise SpecError("div takes a vector, e.g. div(grad(u)) or div([a, b])", node.args[0].span)
        _check_order(node, vector.items, 1)
        coords = self._spatial(node, vector, node.args[1:])
        if len(coords) != len(vector.items):
            raise SpecError(f"div of a {len(vector.items)}-vector over {len(coords)} coordinates "
                            f"({', '.join(map(str, coords))}); name them: div(v, x, y)", node.span)
        return sympy.Add(*(differentiate(v, [c], node) for v, c in zip(vector.items, coords)))

    def _op_dot(self, node: s.Call) -> sympy.Expr:
        a, b = (self.value(arg) for arg in self._arguments(node, 2))
        if not (isinstance(a, Vector) and isinstance(b, Vector)):
            raise SpecError("dot takes two vectors", node.span)
        if len(a.items) != len(b.items):
            raise SpecError(f"dot of vectors of lengths {len(a.items)} and {len(b.items)}",
                            node.span)
        for gradient, other in ((a, b), (b, a)):  # grad(u) . v: one directional derivative
            if gradient.gradient_of is not None and other.gradient_of is None:
                expr, coords = gradient.gradient_of
                return directional(expr, list(coords), list(other.items), node)
        return sympy.Add(*(x * y for x, y in zip(a.items, b.items)))

    def _op_norm(self, node: s.Call) -> sympy.Expr:
        (argument,) = self._arguments(node, 1)
        vector = self.value(argument)
        if not isinstance(vector, Vector):
            raise SpecError("norm takes a vector", argument.span)
        return sympy.sqrt(_in_range(sympy.Add(*(v ** 2 for v in vector.items)), node))

    def _op_integral(self, node: s.Call) -> sympy.Expr:
        if self.scope.integral is None:
            raise SpecError(f"integral(...) is not allowed {self.scope.where}", node.span)
        return self.scope.integral(node, self)

    def _op_dn(self, node: s.Call) -> sympy.Expr:
        if self.scope.normals is None:
            raise SpecError("dn(...) is the derivative along the outward normal of a boundary: "
                            "use it in a bc or ic 'on boundary(D)'", node.span)
        (argument,) = self._arguments(node, 1)
        expr = self.scalar(argument)
        _check_order(node, [expr], 1)
        coords = [self.scope.coords[c] for c in self.scope.normals]
        return directional(expr, coords, list(self.scope.normals.values()), node)


def _combine(family: str, operands: list[tuple[s.Expr, sympy.Expr]], top: s.Expr) -> sympy.Expr:
    """One n-ary Add ("+-") or Mul ("*/") of ``(node, value)`` pairs. Numbers are folded in
    order, each partial result checked, so that a long chain of them stops where it leaves
    the range of floating point instead of growing digits."""
    numbers = sympy.Integer(0 if family == "+-" else 1)
    others = []
    for node, value in operands:
        if value.is_Rational:
            numbers = _in_range(numbers + value if family == "+-" else numbers * value, node)
        else:
            others.append(value)
    build = sympy.Add if family == "+-" else sympy.Mul
    return _in_range(build(numbers, *others), top)


def _too_large(base: sympy.Expr, exponent: sympy.Number) -> bool:
    """Whether ``base ** exponent`` lies beyond floating point (checked before SymPy tries to
    compute it exactly, which for 2^1e9 would not end)."""
    try:
        magnitude = abs(float(base))
    except OverflowError:  # the base itself is beyond floating point: (1e300*1e300)^2
        return True
    if magnitude in (0.0, 1.0):
        return False
    return abs(float(exponent) * math.log10(magnitude)) > _MAX_EXPONENT


def _in_range(value: sympy.Expr, node: s.Expr) -> sympy.Expr:
    """``value``, refused when it is a number beyond floating point (``1e300*1e300``): SymPy
    would go on computing with it exactly, at a growing cost. An exact number of more than
    MAX_EXACT_DIGITS digits (``1.01^10000``) becomes a float of FLOAT_DIGITS digits."""
    if value.is_Rational and value != 0 and not _SMALLEST <= abs(value) <= sys.float_info.max:
        raise SpecError("number out of range", node.span)
    if value.is_Rational and max(value.p.bit_length(), value.q.bit_length()) > _MAX_EXACT_BITS:
        return sympy.Float(value, FLOAT_DIGITS)
    return value


def _real(value: sympy.Expr, node: s.Expr, show: Callable[[], str]) -> sympy.Expr:
    """``value``, refused when it is a constant that is no finite real number a float holds
    (``log(0)``, ``acos(2)``, ``exp(1000)``, ``(-8)^(1/3)``). ``show`` writes the value for
    the message (only then: printing a large expression costs time)."""
    if value.is_number:
        shown = show()
        shown = shown if len(shown) <= 40 else "this value"
        approx = sympy.N(value)
        if not (approx.is_real and approx.is_finite):
            raise SpecError(f"{shown} is not a finite real number", node.span)
        if abs(approx) > sys.float_info.max:
            raise SpecError(f"{shown} is out of range", node.span)
    return value


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
            result = sympy.diff(result, symbol)
            check_size(result, node.span, "this derivative")
    if len(symbols) > 1 and result != 0:  # what sympy.diff does for a derivative of order > 1
        result = factor_terms(signsimp(result))
    return result


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


def _check_order(node: s.Call, exprs, more: int) -> None:
    """Refuse a field's derivative beyond MAX_DERIVATIVE_ORDER before SymPy builds it (its
    expression grows fast with the order: lap(lap(lap(...))) would not end)."""
    for expr in exprs:
        order = derivative_order(expr) + more
        if order > MAX_DERIVATIVE_ORDER and expr.atoms(sympy.core.function.AppliedUndef):
            raise SpecError(f"a derivative of order {order}; at most {MAX_DERIVATIVE_ORDER} is "
                            f"supported", node.span)


def _derivative_letters(name: str, scope: Scope) -> str | None:
    """``Dxy`` -> ``"xy"`` when every letter after D is a one-letter coordinate, else None."""
    if len(name) < 2 or name[0] != "D" or name in scope.lets or name in scope.fields:
        return None
    letters = name[1:]
    return letters if all(c in scope.coords for c in letters) else None


def _field_coordinates(expr: sympy.Expr) -> set[sympy.Symbol]:
    return {a for f in expr.atoms(sympy.core.function.AppliedUndef) for a in f.args}


def _vector_arithmetic(node: s.BinOp, left: Value, right: Value) -> Vector:
    if isinstance(left, Vector) and isinstance(right, Vector):
        if node.op not in "+-" or len(left.items) != len(right.items):
            raise SpecError(f"cannot apply '{node.op}' to vectors of lengths "
                            f"{len(left.items)} and {len(right.items)}", node.span)
        sign = 1 if node.op == "+" else -1
        return Vector(tuple(a + sign * b for a, b in zip(left.items, right.items)))
    if node.op == "*":
        vector, scalar = (left, right) if isinstance(left, Vector) else (right, left)
        return Vector(tuple(scalar * v for v in vector.items))
    if node.op == "/" and isinstance(left, Vector):
        return Vector(tuple(v / right for v in left.items))
    raise SpecError(f"cannot apply '{node.op}' to a vector and a scalar", node.span)


def constant(value: sympy.Expr, span, what: str = "a constant") -> float:
    """A SymPy expression that must be a finite number, as a float."""
    if isinstance(value, Vector) or value.free_symbols or value.atoms(sympy.core.function.AppliedUndef):
        raise SpecError(f"expected {what}", span)
    try:
        result = float(value)
    except (TypeError, OverflowError):
        raise SpecError(f"expected {what}, got {value}", span) from None
    if not math.isfinite(result):
        raise SpecError(f"{what} must be finite", span)
    return result
