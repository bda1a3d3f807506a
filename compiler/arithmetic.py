"""Numbers of the language: literals read exactly, and arithmetic on constants kept within what
floating point holds (a number past it is refused at its place; SymPy would go on computing with
it exactly, at a growing cost)."""
from __future__ import annotations

import math
import re
import sys
from fractions import Fraction
from typing import Callable

import sympy

from . import syntax as s
from .errors import SpecError
from .limits import MAX_EXACT_DIGITS

# Exponents beyond this make numbers no float can hold; refuse them before building them.
_MAX_EXPONENT = 400
_SMALLEST = sympy.Rational(1, 10 ** _MAX_EXPONENT)
_MAX_EXACT_BITS = math.ceil(MAX_EXACT_DIGITS * math.log2(10))
# Significant digits of a number too long to keep exact (float64 needs 17).
FLOAT_DIGITS = 30
_NUMBER = re.compile(r"^(?P<mantissa>[0-9.]+)(?:[eE](?P<exponent>[+-]?[0-9]+))?$")


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
    return in_range(sympy.Rational(value.numerator, value.denominator), node)


def combined(family: str, operands: list[tuple[s.Expr, sympy.Expr]], top: s.Expr) -> sympy.Expr:
    """One n-ary Add ("+-") or Mul ("*/") of ``(node, value)`` pairs. Numbers are folded in
    order, each partial result checked, so that a long chain of them stops where it leaves
    the range of floating point instead of growing digits."""
    numbers = sympy.Integer(0 if family == "+-" else 1)
    others = []
    for node, value in operands:
        if value.is_Rational:
            numbers = in_range(numbers + value if family == "+-" else numbers * value, node)
        else:
            others.append(value)
    build = sympy.Add if family == "+-" else sympy.Mul
    return in_range(build(numbers, *others), top)


def too_large(base: sympy.Expr, exponent: sympy.Number) -> bool:
    """Whether ``base ** exponent`` lies beyond floating point (checked before SymPy tries to
    compute it exactly, which for 2^1e9 would not end)."""
    try:
        magnitude = abs(float(base))
    except OverflowError:  # the base itself is beyond floating point: (1e300*1e300)^2
        return True
    if magnitude in (0.0, 1.0):
        return False
    return abs(float(exponent) * math.log10(magnitude)) > _MAX_EXPONENT


def in_range(value: sympy.Expr, node: s.Expr) -> sympy.Expr:
    """``value``, refused when it is a number beyond floating point (``1e300*1e300``): SymPy
    would go on computing with it exactly, at a growing cost. An exact number of more than
    MAX_EXACT_DIGITS digits (``1.01^10000``) becomes a float of FLOAT_DIGITS digits."""
    if value.is_Rational and value != 0 and not _SMALLEST <= abs(value) <= sys.float_info.max:
        raise SpecError("number out of range", node.span)
    if value.is_Rational and max(value.p.bit_length(), value.q.bit_length()) > _MAX_EXACT_BITS:
        return sympy.Float(value, FLOAT_DIGITS)
    return value


def real(value: sympy.Expr, node: s.Expr, show: Callable[[], str]) -> sympy.Expr:
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
