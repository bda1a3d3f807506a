"""The intermediate representation: what a checked `.pde` program means.

Analysis (`analyze.py`) builds these from the syntax tree; the derivative plan and the code
generator read them; the runtime builds geometry and networks from them. Every type is a frozen
dataclass of plain data and SymPy expressions, with no reference back to the syntax tree except
the source spans kept for error messages.

Fields appear in residuals as applied SymPy functions, ``u(x, y)``, and their partial derivatives
as ``Derivative(u(x, y), x, x)``; coordinates and ``param``s are SymPy symbols.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

import numpy as np
import sympy

from .errors import Span


# --- domains -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Box:
    """An axis-aligned box (an interval when it has one coordinate).

    ``bounds[i]`` is ``(low, high)`` for ``coords[i]``, as floats.
    """
    coords: tuple[str, ...]
    bounds: tuple[tuple[float, float], ...]

    @property
    def dim(self) -> int:
        return len(self.coords)


# Union, intersection, difference, ball and polygon join this union as they are implemented.
Domain = Union[Box]


@dataclass(frozen=True)
class NamedDomain:
    name: str
    domain: Domain
    span: Span


# --- regions -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Region:
    """Where a term holds: the interior of ``domain`` or its boundary, optionally narrowed.

    ``predicate`` is a SymPy boolean over the domain's coordinate symbols (``Eq(t, 0)``,
    ``Or(Eq(x, -1), Eq(x, 1))``, ``x > 0``), or None for the whole interior or boundary.
    """
    domain_name: str
    domain: Domain
    on_boundary: bool
    predicate: sympy.Basic | None = None

    @property
    def coords(self) -> tuple[str, ...]:
        return self.domain.coords


# --- unknowns ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Model:
    """A network architecture: ``mlp(hidden=[...], activation=..., output=...)``."""
    hidden: tuple[int, ...] = (32, 32, 32)
    activation: str = "tanh"
    output: str = "identity"


@dataclass(frozen=True)
class Field:
    """An unknown function of ``coords``, represented by a network."""
    name: str
    coords: tuple[str, ...]
    model: Model
    span: Span


@dataclass(frozen=True)
class Param:
    """An unknown scalar trained with the networks; ``init`` is its start value."""
    name: str
    init: float
    span: Span


# --- loss terms ----------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Observations:
    """Measurements from a CSV: ``points`` (N, len(coords)) and ``values`` (N,) of ``field``."""
    path: str
    coords: tuple[str, ...]
    field: str
    points: np.ndarray
    values: np.ndarray


def observed_symbol(field: str) -> sympy.Symbol:
    """The symbol that stands for the measured value of ``field`` in a data term's residual
    (its name cannot be written in the language, so it never clashes with a user's name)."""
    return sympy.Symbol(f"{field}@observed", real=True)


@dataclass(frozen=True)
class Term:
    """One summand of the loss.

    kind ``pde``, ``bc``, ``ic``: ``weight * mean(residual**2)`` over points of ``region``.
    kind ``minimize``: ``weight * measure(region) * mean(residual)``, the Monte Carlo estimate
    of ``integral(residual, region)``; ``residual`` is then the integrand.
    kind ``data``: ``weight * mean(residual**2)`` at the measured points of ``data`` (no region);
    the residual is ``u(x, t) - observed_symbol("u")``.
    ``points`` is the term's own number of points, or None for the option's default.
    """
    label: str
    kind: str
    residual: sympy.Expr
    region: Region | None
    weight: float
    points: int | None
    source: str
    span: Span
    data: Observations | None = None

    @property
    def coords(self) -> tuple[str, ...]:
        """The coordinates of this term's points, in the order of their columns."""
        return self.data.coords if self.data is not None else self.region.coords


@dataclass(frozen=True)
class Exact:
    """A known solution of a field, for error reports only."""
    field: str
    expr: sympy.Expr
    span: Span


# --- options -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Phase:
    """One optimizer in a ``then`` chain, e.g. ``adam(steps=1000, lr=1e-3)``."""
    name: str
    steps: int
    settings: tuple[tuple[str, float], ...] = ()

    def get(self, key: str, default: float) -> float:
        return dict(self.settings).get(key, default)


@dataclass(frozen=True)
class Options:
    points: int = 2000
    boundary_points: int = 400
    sampler: str = "sobol"
    resample_every: int = 0
    optimizer: tuple[Phase, ...] = (Phase("adam", 1000, (("lr", 1e-3),)), Phase("lbfgs", 5000))
    precision: str = "float64"
    seed: int = 0
    model: Model = Model()


# --- the whole program ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """A checked program: everything code generation and the runtime need."""
    name: str
    coords: tuple[str, ...]
    domains: tuple[NamedDomain, ...]
    fields: tuple[Field, ...]
    params: tuple[Param, ...]
    terms: tuple[Term, ...]
    exact: tuple[Exact, ...]
    options: Options
    source_text: str = field(repr=False, default="")

    def field_named(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    def field_function(self, name: str) -> sympy.Expr:
        """The applied SymPy function that stands for field ``name`` in residuals."""
        f = self.field_named(name)
        return sympy.Function(name)(*sympy.symbols(f.coords, real=True))


def coordinate_symbols(coords: tuple[str, ...]) -> tuple[sympy.Symbol, ...]:
    """The SymPy symbols used for coordinates everywhere in the IR."""
    return tuple(sympy.Symbol(c, real=True) for c in coords)
