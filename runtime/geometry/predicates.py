"""Region predicates (``where ...``) evaluated on points, and the faces their ``==`` clauses pin.

A predicate is a SymPy boolean over coordinate symbols (``Eq(t, 0)``, ``x > 0 & y < 1``). It is
evaluated on numpy arrays by one table from SymPy node types to numpy functions and one walk,
never ``lambdify``/``eval``. Geometry also reads its structure: `clauses` splits it into the
disjuncts of its disjunctive normal form, and `equalities` finds the ``coord == value`` atoms of a
clause, which select flat pieces of a boundary to sample directly.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np
import sympy
from sympy.logic.boolalg import BooleanAtom, to_dnf


def close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise ``a == b`` up to rounding: how ``Eq`` is evaluated on points."""
    # Face points carry their bound exactly; the tolerance only forgives rounding elsewhere.
    return np.isclose(a, b, rtol=1e-9, atol=1e-12)


def _fold(function: Callable[[Any, Any], Any]) -> Callable[..., Any]:
    return lambda *args: functools.reduce(function, args)


_NUMPY_OF_SYMPY: dict[type, Callable[..., Any]] = {
    sympy.Add: _fold(np.add), sympy.Mul: _fold(np.multiply), sympy.Pow: np.power,
    sympy.Abs: np.abs, sympy.sign: np.sign, sympy.Min: _fold(np.minimum),
    sympy.Max: _fold(np.maximum), sympy.exp: np.exp, sympy.log: np.log,
    sympy.sin: np.sin, sympy.cos: np.cos, sympy.tan: np.tan, sympy.asin: np.arcsin,
    sympy.acos: np.arccos, sympy.atan: np.arctan, sympy.atan2: np.arctan2,
    sympy.sinh: np.sinh, sympy.cosh: np.cosh, sympy.tanh: np.tanh,
    sympy.Eq: close, sympy.Ne: lambda a, b: ~close(a, b),
    sympy.Lt: np.less, sympy.Le: np.less_equal, sympy.Gt: np.greater, sympy.Ge: np.greater_equal,
    sympy.And: _fold(np.logical_and), sympy.Or: _fold(np.logical_or),
    sympy.Xor: _fold(np.logical_xor), sympy.Not: np.logical_not,
}


def evaluate_predicate(predicate: sympy.Basic, coords: tuple[str, ...],
                       points: np.ndarray) -> np.ndarray:
    """Truth of ``predicate`` at each of ``points`` (N, len(coords)): an (N,) bool array.

    Coordinate symbols are matched by name, so assumptions on them do not matter.
    """
    columns = {name: points[:, i] for i, name in enumerate(coords)}
    value = _evaluate(predicate, columns)
    return np.broadcast_to(np.asarray(value, dtype=bool), (len(points),)).copy()


def _evaluate(expr: sympy.Basic, columns: dict[str, np.ndarray]) -> Any:
    if isinstance(expr, BooleanAtom):
        return bool(expr)
    if isinstance(expr, sympy.Symbol):
        if expr.name not in columns:
            raise ValueError(f"region predicate uses {expr.name!r}, not a coordinate here")
        return columns[expr.name]
    if expr.is_number:
        return float(expr)
    function = _NUMPY_OF_SYMPY.get(type(expr))
    if function is None:
        raise ValueError(f"cannot evaluate {type(expr).__name__} in region predicate {expr}")
    return function(*(_evaluate(arg, columns) for arg in expr.args))


def clauses(predicate: sympy.Basic) -> tuple[sympy.Basic, ...]:
    """The disjuncts of ``predicate`` in disjunctive normal form."""
    normal = to_dnf(predicate)
    return normal.args if isinstance(normal, sympy.Or) else (normal,)


def equalities(clause: sympy.Basic) -> list[tuple[str, float]]:
    """``(coord, value)`` for each ``Eq`` in ``clause`` that fixes one coordinate to a number."""
    atoms = clause.args if isinstance(clause, sympy.And) else (clause,)
    fixed = []
    for atom in atoms:
        if not isinstance(atom, sympy.Eq):
            continue
        difference = atom.lhs - atom.rhs
        if len(difference.free_symbols) != 1:
            continue
        (symbol,) = difference.free_symbols
        polynomial = difference.as_poly(symbol)
        if polynomial is not None and polynomial.degree() == 1:
            slope, offset = polynomial.all_coeffs()
            fixed.append((symbol.name, float(-offset / slope)))
    return fixed


def has_no_volume(predicate: sympy.Basic) -> bool:
    """Whether every clause pins a coordinate with ``==``, so the region has zero volume."""
    return all(equalities(clause) for clause in clauses(predicate))


def only_equalities(predicate: sympy.Basic) -> bool:
    """Whether ``predicate`` is a disjunction of bare ``coord == value`` atoms (no filtering
    is left once the planes they name are sampled)."""
    return all(isinstance(clause, sympy.Eq) and equalities(clause) for clause in clauses(predicate))
