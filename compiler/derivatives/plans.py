"""The plan's data: for every term, each field's partials and the passes that compute them."""
from __future__ import annotations

from dataclasses import dataclass

import sympy

from .cost import MAX_TAYLOR_LAPLACIAN_COORDS
from .names import MultiIndex, directional_name, partial_name, point_text


@dataclass(frozen=True)
class Chain:
    """Nested JVPs along ``directions``; ``outputs[mask]`` is the partial that output ``mask``
    (bit i set: direction i taken) provides to the residual, or None where it is not used."""
    directions: tuple[str, ...]
    outputs: tuple[MultiIndex | None, ...]


@dataclass(frozen=True)
class LaplacianPass:
    """One forward-Laplacian pass of a field along ``coords``: it yields the field's value
    (``value``), its first partials along ``coords`` (``gradient[i]`` is the multi-index
    ``(coords[i],)`` where the residual uses it, else None), and ``node``, the `Laplacian`."""
    node: sympy.Expr
    coords: tuple[str, ...]
    value: bool
    gradient: tuple[MultiIndex | None, ...]

    @property
    def method(self) -> str:
        """"taylor" (a collapsed Taylor pass of order 2 along the coordinate axes) up to
        `MAX_TAYLOR_LAPLACIAN_COORDS` coordinates; "batched" beyond
        (`runtime/kernels/laplacian.py`: one pass over the whole batch of points, the
        directions an axis of each tangent)."""
        return "taylor" if len(self.coords) <= MAX_TAYLOR_LAPLACIAN_COORDS else "batched"


@dataclass(frozen=True)
class TaylorPass:
    """One Taylor-mode pass along coordinate ``coord`` to ``order``, inside nested JVPs along
    ``around`` (none for a pure derivative): ``outputs[mask * (order + 1) + k]`` is the
    multi-index of k times ``coord`` and the directions of ``around`` that bit i of ``mask``
    takes, where the residual uses it (and nothing earlier yields it), else None."""
    coord: str
    order: int
    outputs: tuple[MultiIndex | None, ...]
    around: tuple[str, ...] = ()


@dataclass(frozen=True)
class CollapsedPass:
    """One collapsed Taylor-mode pass: ``node`` (a `Combination`) is
    ``sum_i weights[i] * (d/ds)**order u(p + s directions[i])``; the directions have one entry
    per coordinate of the term."""
    node: sympy.Expr
    order: int
    directions: tuple[tuple[float, ...], ...]
    weights: tuple[float, ...]
    partials: tuple[MultiIndex, ...]  # the sum's partials and their coefficients
    coefficients: tuple[float, ...]


@dataclass(frozen=True)
class FieldPlan:
    """The partials of one field in one term, the chains computing them, the forward-Laplacian
    passes, and the derivatives along non-coordinate vectors (`Directional` nodes: ``dn(u)``,
    ``dot(grad(u), v)``), each computed by one JVP. ``point``: where the field is taken, one
    expression of the term's coordinates per coordinate of the field (`ValueAt`), or () at the
    term's own point; elsewhere only chains and Taylor passes compute its partials."""
    field: str
    needed: tuple[MultiIndex, ...]
    chains: tuple[Chain, ...]
    directional: tuple[sympy.Expr, ...] = ()
    laplacians: tuple[LaplacianPass, ...] = ()
    taylor: tuple[TaylorPass, ...] = ()
    collapsed: tuple[CollapsedPass, ...] = ()
    args: tuple[str, ...] = ()  # the field's own coordinates, in its declared order
    point: tuple[sympy.Expr, ...] = ()

    def partial(self, index: MultiIndex) -> str:
        """A partial's name as the plan shows it: ``u_x``, or ``u_x at (1, t)`` elsewhere."""
        at = f" at {point_text(self.point)}" if self.point else ""
        return partial_name(self.field, index) + at

    def needs(self) -> list[str]:
        """The derivatives the residual uses, by name: ``u``, ``u_x``, ``u_xx``, ``u_n``,
        ``u_t at (0, t)``; a Laplacian or a `Combination` counts as the partials it sums."""
        indices = set(self.needed) | {(c, c) for p in self.laplacians for c in p.coords}
        indices |= {m for p in self.collapsed for m in p.partials}
        names = [self.partial(m) for m in sorted(indices, key=lambda m: (len(m), m))]
        return names + [directional_name(self.field, n, k) for k, n in enumerate(self.directional)]


@dataclass(frozen=True)
class TermPlan:
    """A term's plan. ``expr`` is its residual (or integrand) as code generation computes it:
    the analysed one, with sums of second derivatives replaced by `Laplacian` nodes.
    ``symbols``: the symbols of ``expr`` outside fields (`loose_symbols`: coordinates, params,
    the term's own inputs such as normals), by name; ``nodes``: its fields and field
    derivatives (`field_nodes`), in SymPy's sort order; ``features``: of a minimize term
    without integrals, its integrand split for Gauss–Newton."""
    label: str
    coords: tuple[str, ...]
    fields: tuple[FieldPlan, ...]
    expr: sympy.Expr | None = None
    symbols: tuple[sympy.Symbol, ...] = ()
    nodes: tuple[sympy.Expr, ...] = ()
    features: Features | None = None


@dataclass(frozen=True)
class Features:
    """A minimize term's integrand F(z(p)) split in two at one point: ``values`` computes z,
    the field values and derivatives F holds (its ``expr`` the `sympy.Tuple` of them), and
    ``integrand`` is F with ``inputs[k]`` standing for z[k]. Gauss–Newton (ENGD) linearizes
    the first and takes the second's Hessian in z."""
    values: TermPlan
    integrand: TermPlan
    inputs: tuple[sympy.Symbol, ...]


@dataclass(frozen=True)
class SharedPlan:
    """The plan of several terms that share their points (`ir.Problem.point_sets`): ``plan``
    covers every derivative any of them needs, each computed once, and its ``expr`` is the
    `sympy.Tuple` of their residuals in the order of ``labels``."""
    labels: tuple[str, ...]
    plan: TermPlan


@dataclass(frozen=True)
class DerivativePlan:
    terms: tuple[TermPlan, ...]
    shared: tuple[SharedPlan, ...] = ()
    derived: tuple[TermPlan, ...] = ()  # of each `ir.Derived`, labelled by its name

    def term(self, label: str) -> TermPlan:
        return next(t for t in self.terms if t.label == label)

    def quantity(self, name: str) -> TermPlan:
        """The plan of derived quantity ``name`` (a let of fields that an exact names)."""
        return next(t for t in self.derived if t.label == name)
