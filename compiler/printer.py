"""SymPy expression -> Python source: one table from SymPy node types to output, one walk.

A *target* is such a table: `JNP` prints over `jax.numpy` (residuals, generated code), `NUMPY`
over numpy, including the predicates of ``where`` clauses, which the generated module holds as
functions of points for the runtime's geometry. Both print piecewise expressions and conditions
(relations and logic, with ``Eq`` evaluated up to rounding as
`runtime.geometry.predicates.close` does). Names for symbols, fields and derivatives come from
the caller (``names``). Parentheses are added only where Python's precedence needs them.
"""
from __future__ import annotations

from collections import ChainMap
from dataclasses import dataclass
from typing import Callable, Mapping, Union

import sympy
from sympy.logic.boolalg import BooleanFalse, BooleanTrue

# Python precedence levels, loosest to tightest.
_ADD, _MUL, _NEG, _POW, _ATOM = 1, 2, 3, 4, 5

Printed = tuple[str, int]  # source text and its precedence level


class UnprintableError(ValueError):
    """The expression holds something the target has no counterpart for."""


@dataclass(frozen=True)
class Call:
    """A node printed as ``template`` with ``{m}`` the target's module and ``{args}`` its
    printed arguments; ``fold``: an n-ary node nested into binary calls, left first."""
    template: str
    level: int = _ATOM
    fold: bool = False


Rule = Callable[[sympy.Basic, Mapping, "Target"], Printed]
Table = Mapping[type, Union[Call, Rule]]


@dataclass(frozen=True)
class Target:
    module: str  # the name the printed source calls functions through: ``jnp``, ``np``
    table: Table


def to_source(expr: sympy.Basic, names: Mapping[sympy.Basic, str], target: Target) -> str:
    """Python source that computes ``expr`` in ``target``; ``names`` maps symbols, fields and
    derivatives to the identifiers holding their values."""
    return _walk(sympy.sympify(expr), names, target)[0]


def to_jax(expr: sympy.Expr, names: Mapping[sympy.Basic, str]) -> str:
    """``expr`` as source over ``jax.numpy`` (`to_source` with `JNP`)."""
    return to_source(expr, names, JNP)


def _walk(expr: sympy.Basic, names: Mapping, target: Target) -> Printed:
    if expr in names:
        return names[expr], _ATOM
    rule = next((target.table[t] for t in type(expr).__mro__ if t in target.table), None)
    if rule is None:
        raise UnprintableError(f"no {target.module} counterpart for {expr}")
    if callable(rule):
        return rule(expr, names, target)
    parts = [_walk(a, names, target) for a in expr.args]
    if rule.fold:
        printed = parts[0]
        for part in parts[1:]:
            printed = rule.template.format(m=target.module,
                                           args=f"{printed[0]}, {part[0]}"), rule.level
        return printed
    return rule.template.format(m=target.module, args=", ".join(t for t, _ in parts)), rule.level


def _wrap(part: Printed, level: int) -> str:
    text, own = part
    return f"({text})" if own < level else text


def _integer(expr: sympy.Integer, names, target) -> Printed:
    if abs(expr) < 2 ** 53:  # exact in floating point
        return str(int(expr)), _ATOM if expr >= 0 else _NEG
    return _number(expr, names, target)


def _number(expr: sympy.Expr, names, target) -> Printed:
    try:
        value = float(expr)
    except OverflowError:
        raise UnprintableError("a number beyond the range of floating point") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise UnprintableError("a number beyond the range of floating point")
    return repr(value), _ATOM if value >= 0 else _NEG


def _add(expr: sympy.Add, names, target) -> Printed:
    terms = sorted(expr.args, key=lambda t: t.could_extract_minus_sign())  # positive first
    text = _wrap(_walk(terms[0], names, target), _ADD)
    for term in terms[1:]:
        if term.could_extract_minus_sign():
            text += " - " + _wrap(_walk(-term, names, target), _MUL)
        else:
            text += " + " + _wrap(_walk(term, names, target), _MUL)
    return text, _ADD


def _mul(expr: sympy.Mul, names, target) -> Printed:
    if expr.could_extract_minus_sign():
        return "-" + _wrap(_walk(-expr, names, target), _POW), _NEG
    numerator, denominator = [], []
    for factor in expr.as_ordered_factors():
        if factor.is_Rational and not factor.is_Integer:
            if factor.p != 1:
                numerator.append(sympy.Integer(factor.p))
            denominator.append(sympy.Integer(factor.q))
        elif factor.is_Pow and factor.exp.is_Rational and factor.exp.is_negative:
            denominator.append(sympy.Pow(factor.base, -factor.exp))
        else:
            numerator.append(factor)
    top = "*".join(_wrap(_walk(f, names, target), _MUL + 1) for f in numerator) or "1"
    if not denominator:
        return top, _MUL
    bottom = "*".join(_wrap(_walk(f, names, target), _MUL + 1) for f in denominator)
    if len(denominator) > 1:
        bottom = f"({bottom})"
    return f"{top}/{bottom}", _MUL


def _pow(expr: sympy.Pow, names, target) -> Printed:
    base, exponent = expr.base, expr.exp
    if exponent == sympy.Rational(1, 2):
        return f"{target.module}.sqrt({_walk(base, names, target)[0]})", _ATOM
    if exponent == -1:
        return f"1/{_wrap(_walk(base, names, target), _MUL + 1)}", _MUL
    if exponent.is_Rational and exponent.is_negative:
        return f"1/{_wrap(_walk(sympy.Pow(base, -exponent), names, target), _MUL + 1)}", _MUL
    # `**` binds tighter than unary minus on its left and looser on its right.
    return (f"{_wrap(_walk(base, names, target), _ATOM)}**"
            f"{_wrap(_walk(exponent, names, target), _NEG)}", _POW)


def _piecewise(expr: sympy.Piecewise, names, target) -> Printed:
    """Nested ``where``s, the first piece whose condition holds; NaN where none does."""
    pieces = list(expr.args)
    if pieces[-1].cond == sympy.true:
        text = _walk(pieces.pop().expr, names, target)[0]
    else:
        text = f"{target.module}.nan"
    for piece in reversed(pieces):
        condition = _walk(piece.cond, names, target)[0]
        text = f"{target.module}.where({condition}, {_walk(piece.expr, names, target)[0]}, {text})"
    return text, _ATOM


def _heaviside(expr: sympy.Heaviside, names, target) -> Printed:
    """0 below zero, 1 above, its second argument (1/2 unless given) at zero."""
    at_zero = expr.args[1] if len(expr.args) > 1 else sympy.S.Half
    return (f"{target.module}.heaviside({_walk(expr.args[0], names, target)[0]}, "
            f"{_walk(at_zero, names, target)[0]})", _ATOM)


# What every target prints: arithmetic, the functions of the language, its constants.
_ARITHMETIC: Table = {
    sympy.Integer: _integer, sympy.Rational: _number, sympy.Float: _number,
    sympy.Add: _add, sympy.Mul: _mul, sympy.Pow: _pow,
    type(sympy.pi): Call("{m}.pi"), type(sympy.E): Call("{m}.e"),
    sympy.sin: Call("{m}.sin({args})"), sympy.cos: Call("{m}.cos({args})"),
    sympy.tan: Call("{m}.tan({args})"), sympy.asin: Call("{m}.arcsin({args})"),
    sympy.acos: Call("{m}.arccos({args})"), sympy.atan: Call("{m}.arctan({args})"),
    sympy.sinh: Call("{m}.sinh({args})"), sympy.cosh: Call("{m}.cosh({args})"),
    sympy.tanh: Call("{m}.tanh({args})"), sympy.asinh: Call("{m}.arcsinh({args})"),
    sympy.acosh: Call("{m}.arccosh({args})"), sympy.atanh: Call("{m}.arctanh({args})"),
    sympy.exp: Call("{m}.exp({args})"), sympy.log: Call("{m}.log({args})"),
    sympy.Abs: Call("{m}.abs({args})"), sympy.sign: Call("{m}.sign({args})"),
    sympy.sec: Call("1/{m}.cos({args})", _MUL), sympy.csc: Call("1/{m}.sin({args})", _MUL),
    sympy.cot: Call("1/{m}.tan({args})", _MUL),
    sympy.Min: Call("{m}.minimum({args})", fold=True),
    sympy.Max: Call("{m}.maximum({args})", fold=True), sympy.atan2: Call("{m}.arctan2({args})"),
    sympy.Piecewise: _piecewise, sympy.Heaviside: _heaviside,
}

# Conditions of `where` and `ifelse`, with `runtime.geometry.predicates.close`'s tolerance for
# ``Eq`` (face points carry their bound exactly; it forgives rounding elsewhere).
_CLOSE = "{m}.isclose({args}, rtol=1e-9, atol=1e-12)"
_PREDICATES: Table = {
    BooleanTrue: Call("True"), BooleanFalse: Call("False"),
    sympy.Eq: Call(_CLOSE), sympy.Ne: Call("{m}.logical_not(" + _CLOSE + ")"),
    sympy.Lt: Call("{m}.less({args})"), sympy.Le: Call("{m}.less_equal({args})"),
    sympy.Gt: Call("{m}.greater({args})"), sympy.Ge: Call("{m}.greater_equal({args})"),
    sympy.And: Call("{m}.logical_and({args})", fold=True),
    sympy.Or: Call("{m}.logical_or({args})", fold=True),
    sympy.Xor: Call("{m}.logical_xor({args})", fold=True),
    sympy.Not: Call("{m}.logical_not({args})"),
}

JNP = Target("jnp", ChainMap(_PREDICATES, _ARITHMETIC))
NUMPY = Target("np", ChainMap(_PREDICATES, _ARITHMETIC))
TARGETS: Mapping[str, Target] = {"jnp": JNP, "numpy": NUMPY}
