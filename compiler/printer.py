"""SymPy expression -> Python source over `jax.numpy`: one table and one walk.

Names for symbols, fields and derivatives come from the caller (``names``); everything else is
printed from `_FUNCTIONS` and the rules of `_walk`. Parentheses are added only where Python's
precedence needs them.
"""
from __future__ import annotations

from typing import Mapping

import sympy

# SymPy function -> jnp function.
_FUNCTIONS: Mapping[type, str] = {
    sympy.sin: "jnp.sin", sympy.cos: "jnp.cos", sympy.tan: "jnp.tan",
    sympy.asin: "jnp.arcsin", sympy.acos: "jnp.arccos", sympy.atan: "jnp.arctan",
    sympy.sinh: "jnp.sinh", sympy.cosh: "jnp.cosh", sympy.tanh: "jnp.tanh",
    sympy.asinh: "jnp.arcsinh", sympy.acosh: "jnp.arccosh", sympy.atanh: "jnp.arctanh",
    sympy.exp: "jnp.exp", sympy.log: "jnp.log", sympy.Abs: "jnp.abs", sympy.sign: "jnp.sign",
    sympy.sec: "1/jnp.cos", sympy.csc: "1/jnp.sin", sympy.cot: "1/jnp.tan",
}
_CONSTANTS: Mapping[sympy.Basic, str] = {sympy.pi: "jnp.pi", sympy.E: "jnp.e"}

# Python precedence levels, loosest to tightest.
_ADD, _MUL, _NEG, _POW, _ATOM = 1, 2, 3, 4, 5


class UnprintableError(ValueError):
    """The expression holds something with no `jnp` counterpart."""


def to_jax(expr: sympy.Expr, names: Mapping[sympy.Basic, str]) -> str:
    """Python source that computes ``expr``; ``names`` maps symbols, fields and derivatives
    to the identifiers holding their values."""
    return _walk(sympy.sympify(expr), names)[0]


def _wrap(part: tuple[str, int], level: int) -> str:
    text, own = part
    return f"({text})" if own < level else text


def _walk(expr: sympy.Basic, names: Mapping[sympy.Basic, str]) -> tuple[str, int]:
    if expr in names:
        return names[expr], _ATOM
    if expr in _CONSTANTS:
        return _CONSTANTS[expr], _ATOM
    if expr.is_Integer and abs(expr) < 2 ** 53:
        return str(int(expr)), _ATOM if expr >= 0 else _NEG
    if expr.is_Rational or expr.is_Float:
        try:
            value = float(expr)
        except OverflowError:
            raise UnprintableError("a number beyond the range of floating point") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise UnprintableError("a number beyond the range of floating point")
        return repr(value), _ATOM if value >= 0 else _NEG
    if expr.is_Add:
        return _add(expr, names)
    if expr.is_Mul:
        return _mul(expr, names)
    if expr.is_Pow:
        return _pow(expr, names)
    if expr.func in _FUNCTIONS:
        arguments = ", ".join(_walk(a, names)[0] for a in expr.args)
        return f"{_FUNCTIONS[expr.func]}({arguments})", _MUL if "/" in _FUNCTIONS[expr.func] else _ATOM
    raise UnprintableError(f"no JAX counterpart for {expr}")


def _add(expr: sympy.Add, names) -> tuple[str, int]:
    terms = sorted(expr.args, key=lambda t: t.could_extract_minus_sign())  # positive first
    text = _wrap(_walk(terms[0], names), _ADD)
    for term in terms[1:]:
        if term.could_extract_minus_sign():
            text += " - " + _wrap(_walk(-term, names), _MUL)
        else:
            text += " + " + _wrap(_walk(term, names), _MUL)
    return text, _ADD


def _mul(expr: sympy.Mul, names) -> tuple[str, int]:
    if expr.could_extract_minus_sign():
        return "-" + _wrap(_walk(-expr, names), _POW), _NEG
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
    top = "*".join(_wrap(_walk(f, names), _MUL + 1) for f in numerator) or "1"
    if not denominator:
        return top, _MUL
    bottom = "*".join(_wrap(_walk(f, names), _MUL + 1) for f in denominator)
    if len(denominator) > 1:
        bottom = f"({bottom})"
    return f"{top}/{bottom}", _MUL


def _pow(expr: sympy.Pow, names) -> tuple[str, int]:
    base, exponent = expr.base, expr.exp
    if exponent == sympy.Rational(1, 2):
        return f"jnp.sqrt({_walk(base, names)[0]})", _ATOM
    if exponent == -1:
        return f"1/{_wrap(_walk(base, names), _MUL + 1)}", _MUL
    if exponent.is_Rational and exponent.is_negative:
        return f"1/{_wrap(_walk(sympy.Pow(base, -exponent), names), _MUL + 1)}", _MUL
    # `**` binds tighter than unary minus on its left and looser on its right.
    return f"{_wrap(_walk(base, names), _ATOM)}**{_wrap(_walk(exponent, names), _NEG)}", _POW
