"""Expressions of the language -> SymPy, with the calculus operators resolved.

`Translator` turns a syntax expression into a SymPy expression (or a `Vector` of them) in a
`Scope` that says what each name means. Derivatives are taken by SymPy here, so the chain and
product rules and derivatives of known functions are done at compile time; what is left are
derivatives of fields, ``Derivative(u(x, y), x, x)``, for the derivative plan. Numbers are kept
within floating point by `arithmetic`; derivatives are taken, bounded, by `calculus`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, Union

import sympy
from sympy.core.function import AppliedUndef

from . import syntax as s
from .arithmetic import combined, in_range, number, real, too_large
from .calculus import Directional  # noqa: F401  (re-exported: codegen names it from here)
from .calculus import ValueAt, check_order, differentiate, directional
from .errors import SpecError, did_you_mean

FUNCTIONS: Mapping[str, Callable] = {
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "asin": sympy.asin,
    "acos": sympy.acos, "atan": sympy.atan, "sinh": sympy.sinh, "cosh": sympy.cosh,
    "tanh": sympy.tanh, "exp": sympy.exp, "log": sympy.log, "sqrt": sympy.sqrt,
    "abs": sympy.Abs,
}
CONSTANTS: Mapping[str, sympy.Expr] = {"pi": sympy.pi}
OPERATORS = ("D", "grad", "div", "lap", "dot", "norm", "integral", "dn",
             "ifelse", "min", "max", "heaviside", "table")
KEYWORDS = ("let", "param", "domain", "field", "pde", "bc", "ic", "minimize", "data", "exact",
            "set", "in", "on", "where", "with", "then", "and", "or", "not", "from", "boundary",
            "periodic", "at")
RESERVED = frozenset(FUNCTIONS) | frozenset(CONSTANTS) | frozenset(OPERATORS) | frozenset(KEYWORDS)
# What SymPy gives for an undefined or infinite value (the derivative of 0^y, say).
UNDEFINED = (sympy.nan, sympy.zoo, sympy.oo, -sympy.oo)

# SymPy expands u^n term by term when it asks whether sinh(u^n) is real, and computes a
# number's power exactly; for a large n neither would end, and no float program needs it.
_MAX_POWER = 100
_MAX_POWER_OF_NUMBER = 10_000


@dataclass(frozen=True)
class Vector:
    """A vector value: ``grad(u)``, ``[a, b]``. Its items are scalar SymPy expressions;
    ``gradient_of`` is ``(expr, coords)`` when the vector is ``grad(expr)``."""
    items: tuple[sympy.Expr, ...]
    gradient_of: tuple[sympy.Expr, tuple[sympy.Symbol, ...]] | None = None


Value = Union[sympy.Expr, Vector]


@dataclass
class Scope:
    """What names mean where an expression is translated.

    ``coords``: coordinate name -> symbol; ``fields``: field name -> applied function
    ``u(x, y)``; ``params``: name -> symbol; ``lets``: name -> a callable giving the let's value
    (it resolves lazily, so that order does not matter and cycles are found).
    ``integral``: called for ``integral(...)`` where integrals are allowed, else None.
    ``normals``: coordinate -> symbol of the outward normal's component, on a boundary only.
    ``extent``: coordinate -> (low, high) over the program's domains, which a field's value at
    a given point is checked against.
    ``table``: called for ``table("FILE.csv")`` (it reads the file), else None.
    """
    coords: Mapping[str, sympy.Symbol]
    fields: Mapping[str, sympy.Expr]
    params: Mapping[str, sympy.Symbol]
    lets: Mapping[str, Callable[[], sympy.Expr]]
    integral: Callable[[s.Call, "Translator"], sympy.Expr] | None = None
    where: str = "here"
    normals: Mapping[str, sympy.Symbol] | None = None
    extent: Mapping[str, tuple[float, float]] | None = None
    table: Callable[[s.Call], sympy.Expr] | None = None

    def known_names(self) -> set[str]:
        return (set(self.coords) | set(self.fields) | set(self.params) | set(self.lets)
                | set(FUNCTIONS) | set(CONSTANTS) | set(OPERATORS))


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
        if isinstance(node, (s.Compare, s.BoolOp, s.Not)):
            raise SpecError("a condition is no value: it may stand only as the first argument "
                            "of ifelse(COND, A, B) or after 'where'", node.span)
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

    def _string(self, node: s.String) -> sympy.Expr:
        raise SpecError('a quoted file name is no value; it is the argument of '
                        'table("FILE.csv")', node.span)

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
        return combined(family, [(top, first)] + signed, top)

    def _apply(self, node: s.BinOp, left: Value, right: Value) -> Value:
        if isinstance(left, Vector) or isinstance(right, Vector):
            return _vector_arithmetic(node, left, right)
        if node.op == "+":
            return in_range(left + right, node)
        if node.op == "-":
            return in_range(left - right, node)
        if node.op == "*":
            return in_range(left * right, node)
        if node.op == "/":
            if right == 0:
                raise SpecError("division by zero", node.right.span)
            return in_range(left / right, node)
        if left.is_number and right.is_Number and too_large(left, right):
            raise SpecError("number out of range", node.span)
        if right.is_Rational and left not in (0, 1, -1):
            limit, of = ((_MAX_POWER_OF_NUMBER, "") if left.is_number
                         else (_MAX_POWER, " on a coordinate or field"))
            if abs(right) > limit:
                raise SpecError(f"exponent too large: at most {limit} is supported{of}",
                                node.right.span)
        if left == 0 and right.is_Number and right.is_negative:
            raise SpecError("division by zero (0 to a negative power)", node.span)
        return in_range(real(sympy.Pow(left, right), node, lambda: f"({left})^({right})"), node)

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
            return real(result, node, lambda: f"{name}({value})")
        operator = getattr(self, "_op_" + name, None)
        if operator is not None:
            return operator(node)
        letters = _derivative_letters(name, self.scope)
        if letters is not None:
            (argument,) = self._arguments(node, 1)
            return self._derivative(node, self.scalar(argument),
                                    [self.scope.coords[c] for c in letters])
        if name in self.scope.fields:
            return self._value_at(node, self.scope.fields[name], node.args)
        if name in self.scope.lets or name in self.scope.params:
            raise SpecError(f"'{name}' is not a function; write it without arguments", node.func.span)
        raise SpecError(f"unknown function '{name}'"
                        f"{did_you_mean(name, set(FUNCTIONS) | set(OPERATORS))}", node.func.span)

    # --- values at given points: u(0, t), Dx(u)(1, t) ---
    def _valueat(self, node: s.ValueAt) -> sympy.Expr:
        value = self.scalar(node.of)
        if value == 0:
            raise SpecError("this derivative is 0 everywhere (the field does not depend on that "
                            "coordinate)", node.of.span)
        field = value.expr if isinstance(value, sympy.Derivative) else value
        if not isinstance(field, AppliedUndef) or isinstance(value, ValueAt):
            raise SpecError("only a field or a partial derivative of one takes a point: "
                            "u(0, t), Dx(u)(1, t), D(u, x)(x, 0)", node.of.span)
        return self._value_at(node, value, node.args)

    def _value_at(self, node, value: sympy.Expr, args: tuple[s.Expr, ...]) -> sympy.Expr:
        """``value`` (a field or its partial) at the point ``args`` give, one per coordinate
        of the field, each an expression of coordinates and constants."""
        field = value.expr if isinstance(value, sympy.Derivative) else value
        coords = [str(c) for c in field.args]
        if len(args) != len(coords):
            raise SpecError(f"{field.func.__name__} takes {len(coords)} argument"
                            f"{'s' * (len(coords) != 1)} ({', '.join(coords)}), got {len(args)}",
                            node.span)
        point = [self.scalar(a) for a in args]
        for arg, coord, position in zip(args, coords, point):
            self._check_position(arg, field, coord, position)
        return ValueAt(value, sympy.Tuple(*point))

    def _check_position(self, arg: s.Expr, field: sympy.Expr, coord: str,
                        position: sympy.Expr) -> None:
        """Refuse a coordinate of a point that depends on a field or on anything but the
        coordinates, or a constant one outside the program's domains."""
        if position.atoms(AppliedUndef) or position.has(*UNDEFINED):
            raise SpecError("a coordinate of a point may depend on the coordinates and on "
                            "constants, not on fields", arg.span)
        other = position.free_symbols - set(self.scope.coords.values())
        if other:
            raise SpecError(f"a coordinate of a point may depend on the coordinates and on "
                            f"constants, not on '{sorted(map(str, other))[0]}'", arg.span)
        extent = (self.scope.extent or {}).get(coord)
        if extent is None or position.free_symbols:
            return
        value = constant(position, arg.span, "a finite number")
        slack = 1e-9 * max(1.0, *map(abs, extent))
        if not extent[0] - slack <= value <= extent[1] + slack:
            raise SpecError(f"{coord} = {value:g} lies outside the domain of "
                            f"{field.func.__name__} ({coord} in [{extent[0]:g}, {extent[1]:g}])",
                            arg.span)

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
        check_order(node, [expr], len(symbols))
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
        check_order(node, [expr], 2)
        return sympy.Add(*(differentiate(expr, [c, c], node)
                           for c in self._spatial(node, expr, node.args[1:])))

    def _op_grad(self, node: s.Call) -> Vector:
        self._arguments(node, 1, len(node.args) or 1)
        expr = self.scalar(node.args[0])
        check_order(node, [expr], 1)
        coords = tuple(self._spatial(node, expr, node.args[1:]))
        return Vector(tuple(differentiate(expr, [c], node) for c in coords),
                      gradient_of=(expr, coords))

    def _op_div(self, node: s.Call) -> sympy.Expr:
        self._arguments(node, 1, len(node.args) or 1)
        vector = self.value(node.args[0])
        if not isinstance(vector, Vector):
            raise SpecError("div takes a vector, e.g. div(grad(u)) or div([a, b])",
                            node.args[0].span)
        check_order(node, vector.items, 1)
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
        return sympy.sqrt(in_range(sympy.Add(*(v ** 2 for v in vector.items)), node))

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
        check_order(node, [expr], 1)
        coords = [self.scope.coords[c] for c in self.scope.normals]
        return directional(expr, coords, list(self.scope.normals.values()), node)

    def _op_table(self, node: s.Call) -> sympy.Expr:
        (argument,) = self._arguments(node, 1)
        if not isinstance(argument, s.String):
            raise SpecError('table takes the name of a CSV file in quotes: '
                            'table("conductivity.csv")', argument.span)
        if self.scope.table is None:
            raise SpecError(f"table(...) is not allowed {self.scope.where}", node.span)
        return self.scope.table(node)

    # --- piecewise expressions: derivatives are taken piece by piece (`calculus`) ---
    def _op_ifelse(self, node: s.Call) -> sympy.Expr:
        condition, then, otherwise = self._arguments(node, 3)
        if not isinstance(condition, (s.Compare, s.BoolOp, s.Not)):
            raise SpecError("the condition of ifelse is a comparison (== < <= > >=), or "
                            "comparisons joined by and, or, not: ifelse(x < 0.5, 1, 10)",
                            condition.span)
        return sympy.Piecewise((self.scalar(then), self.condition(condition)),
                               (self.scalar(otherwise), True))

    def _op_min(self, node: s.Call) -> sympy.Expr:
        return sympy.Min(*(self.scalar(a) for a in self._arguments(node, 2)))

    def _op_max(self, node: s.Call) -> sympy.Expr:
        return sympy.Max(*(self.scalar(a) for a in self._arguments(node, 2)))

    def _op_heaviside(self, node: s.Call) -> sympy.Expr:
        (argument,) = self._arguments(node, 1)
        return sympy.Heaviside(self.scalar(argument), sympy.S.Half)

    def condition(self, node: s.Predicate,
                  check: Callable[[s.Expr, sympy.Expr], None] | None = None) -> sympy.Basic:
        """A condition (comparisons joined by and, or, not) -> a SymPy boolean; ``check``, if
        given, is called with each side of each comparison and its value, to refuse it."""
        negated = False
        while isinstance(node, s.Not):  # not not ... p, in a loop
            negated, node = not negated, node.operand
        if isinstance(node, s.BoolOp):
            # A chain p and q and ... is a left-deep tree: one n-ary And (Or), built in a loop.
            parts, link = [], node
            while isinstance(link, s.BoolOp) and link.op == node.op:
                parts.append(link.right)
                link = link.left
            parts.append(link)
            combine = sympy.And if node.op == "and" else sympy.Or
            result = combine(*(self.condition(part, check) for part in reversed(parts)))
        elif isinstance(node, s.Compare):
            left, right = self.scalar(node.left), self.scalar(node.right)
            for side, value in ((node.left, left), (node.right, right)):
                if value.has(*UNDEFINED):
                    raise SpecError("this is not a finite real number", side.span)
                if check is not None:
                    check(side, value)
            # SymPy decides a relation of numbers; with a coordinate its assumptions cannot,
            # but asking them costs milliseconds.
            result = _RELATIONS[node.op](left, right, evaluate=not (left - right).free_symbols)
        else:
            raise SpecError("expected a condition: a comparison (== < <= > >=)", node.span)
        return sympy.Not(result) if negated else result


_RELATIONS = {"==": sympy.Eq, "<": sympy.Lt, "<=": sympy.Le, ">": sympy.Gt, ">=": sympy.Ge}


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
    if (isinstance(value, Vector) or value.free_symbols
            or value.atoms(sympy.core.function.AppliedUndef)):
        raise SpecError(f"expected {what}", span)
    try:
        result = float(value)
    except (TypeError, OverflowError):
        raise SpecError(f"expected {what}, got {value}", span) from None
    if not math.isfinite(result):
        raise SpecError(f"{what} must be finite", span)
    return result
