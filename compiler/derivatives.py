"""Stage 3: which partial derivatives each term needs, and how they are computed.

A partial derivative is a multi-index: the coordinates differentiated along, in the order of the
term's coordinates, e.g. ``("x", "x")`` for u_xx and ``()`` for u itself. For every term and
field the plan lists the partials the residual needs and the forward-mode *chains* that compute
them: a chain of directions (v1, ..., vk) evaluated by k nested `jax.jvp`s yields the derivative
along every subset of its directions at once (2**k values), so u, u_x and u_xx come from one
chain (x, x). Chains are chosen greedily from the highest order down, and a partial is taken from
the first chain that yields it, so each distinct partial is computed once per term. Terms that
share their points (`ir.Problem.point_sets`) get one merged plan besides their own (a
`SharedPlan`), which the loss uses: a partial two equations need is computed once for both.

Strategies, chosen per term and field by the cost rule below, in units of one evaluation of
the network's forward pass (``bench/derivatives.py`` measures each against the others):

- nested JVPs, as above: a chain of k directions costs about 2**k units, whatever it yields;
- the forward Laplacian: where a residual sums the pure second derivatives of one field over
  two or more coordinates with one coefficient (``lap(u)``, ``kappa*(u_xx + u_yy)``), the sum
  is replaced by a `Laplacian` node, computed with the value and the gradient along those
  coordinates in one pass that carries (value, gradient, Laplacian) through the network:
  about 2 + n units against 4n for n chains (x_i, x_i). Up to `MAX_TAYLOR_LAPLACIAN_COORDS`
  coordinates the pass is a collapsed Taylor pass of order 2 along the axes (below), at each
  point; beyond, one pass over the whole batch of points whose tangents hold the directions
  on an axis (`runtime/kernels/laplacian.py`), where a term's residuals are computed over its batch
  (at a single point, `folx`);
- Taylor mode (`runtime/kernels/taylor.py`): a derivative of order k >= 2 along one coordinate, with
  every lower order along it, from one pass that carries truncated Taylor series through the
  network (weights carry none, so each order costs one matrix product per layer) instead of
  a chain of k nested JVPs. A mixed partial where a coordinate repeats (``Dxxy``,
  ``Dxxyy``) is such a pass along the most repeated one inside JVPs along the others: the
  same partials as the chain;
- collapsed Taylor mode (`runtime/kernels/taylor.py`, `collapsed_derivative`): where a residual sums
  partials of one field of one order k >= 3 with constant coefficients over two or more
  coordinates (``Dxxxx(u) + 2*Dxxyy(u) + Dyyyy(u)``), the sum can be a `Combination` node:
  the sum over m directions of weighted k-th directional derivatives (a Waring decomposition
  of the operator's symbol, `waring`: in 2-D the fewest of m = 1 ... k + 1 equally spaced
  directions that give it exactly, k + 1 always do; in more, axes and diagonals), computed
  in one pass that carries orders 1 to k - 1 per direction and only the weighted sum of
  order k: 2 + m (k - 1) series, each costing about `COLLAPSED_UNIT` times a tangent of a
  chain. The passes it replaces cost, per partial, the distinct values of its chain,
  prod(count_i + 1) (XLA computes a chain (x, x, y, y) as 9 values, not 16: equal tangents
  are computed once; a Taylor pass of order k, k + 1). It is taken where it costs less: the
  2-D biharmonic (m = 3, 11 against 19), not a single mixed partial (``Dxxyy``: 9 values
  against 2 + 3 x 3 series);
- one JVP for a derivative along a vector (`Directional`).
"""
from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from dataclasses import dataclass

import numpy as np
import sympy
from sympy.core.function import AppliedUndef

from . import ir
from .expressions import Directional

MultiIndex = tuple[str, ...]

# A sum of pure second derivatives over at least this many coordinates is taken by the forward
# Laplacian: 2 + n units against 4n for the chains, so from 2 on.
MIN_LAPLACIAN_COORDS = 2
# A Laplacian over at most this many coordinates is a collapsed Taylor pass at each point, over
# more one pass over the batch: the per-point pass wins in few dimensions, the batch pass in
# many (where they cross is measured by bench/derivatives.py).
MAX_TAYLOR_LAPLACIAN_COORDS = 32
# ... and a derivative of at least this order along one coordinate by Taylor mode (a mixed one
# inside JVPs along its other coordinates).
MIN_TAYLOR_ORDER = 2
# ... and a constant-coefficient sum of partials of this order or more by collapsed Taylor mode,
# where its cost (`_collapsed_cost`) is below that of the passes it replaces (`_passes_cost`).
MIN_COLLAPSED_ORDER = 3
# What one series of a collapsed pass costs, in tangents of a nested chain: it trades the
# collapsed pass against the passes it replaces (fitted by bench/derivatives.py).
COLLAPSED_UNIT = 1.0


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
    ``dot(grad(u), v)``), each computed by one JVP."""
    field: str
    needed: tuple[MultiIndex, ...]
    chains: tuple[Chain, ...]
    directional: tuple[sympy.Expr, ...] = ()
    laplacians: tuple[LaplacianPass, ...] = ()
    taylor: tuple[TaylorPass, ...] = ()
    collapsed: tuple[CollapsedPass, ...] = ()
    args: tuple[str, ...] = ()  # the field's own coordinates, in its declared order

    def needs(self) -> list[str]:
        """The derivatives the residual uses, by name: ``u``, ``u_x``, ``u_xx``, ``u_n``; a
        Laplacian or a `Combination` counts as the partials it sums."""
        indices = set(self.needed) | {(c, c) for p in self.laplacians for c in p.coords}
        indices |= {m for p in self.collapsed for m in p.partials}
        names = [partial_name(self.field, m) for m in sorted(indices, key=lambda m: (len(m), m))]
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


def plan(problem: ir.Problem) -> DerivativePlan:
    """The derivative plan of every term of a problem, and of every integrand inside one
    (labelled as `integral_label` says), and the merged plan of each set of terms sharing
    points."""
    plans = []
    for term in problem.terms:
        own = _term_plan(term.label, term.residual, term.coords)
        if term.kind == "minimize" and not term.integrals:
            own = dataclasses.replace(own, features=_features(own))
        plans.append(own)
        plans += [_term_plan(integral_label(term.label, k), i.integrand, i.region.coords)
                  for k, i in enumerate(term.integrals)]
    terms = {t.label: t for t in problem.terms}
    shared = []
    for labels in problem.point_sets():
        if len(labels) > 1:
            together = sympy.Tuple(*[terms[label].residual for label in labels])
            shared.append(SharedPlan(labels, _term_plan(shared_label(labels), together,
                                                        terms[labels[0]].coords)))
    derived = tuple(_term_plan(d.name, d.expr, d.coords) for d in problem.derived)
    return DerivativePlan(tuple(plans), tuple(shared), derived)


def shared_label(labels: tuple[str, ...]) -> str:
    """The label of the merged plan of terms sharing points: ``pde1+pde2``."""
    return "+".join(labels)


def integral_label(label: str, index: int) -> str:
    """The label of the ``index``-th integral inside term ``label``: ``pde1.integral0``."""
    return f"{label}.integral{index}"


def needed_partials(expr: sympy.Expr, coords: tuple[str, ...]) -> dict[str, set[MultiIndex]]:
    """field name -> the multi-indices of that field which ``expr`` contains."""
    needed: dict[str, set[MultiIndex]] = {}
    for node in field_nodes(expr):
        if isinstance(node, sympy.Derivative):
            needed.setdefault(node.expr.func.__name__, set()).add(multi_index(node, coords))
        elif isinstance(node, AppliedUndef):
            needed.setdefault(node.func.__name__, set()).add(())
        else:  # a Directional, Laplacian or Combination: planned apart; the field is known
            needed.setdefault(node.field.func.__name__, set())
    return needed


def directional_nodes(expr: sympy.Expr, field: str) -> tuple[sympy.Expr, ...]:
    """The `Directional` derivatives of ``field`` in ``expr``, in a stable order."""
    nodes = [n for n in field_nodes(expr) if isinstance(n, Directional) and n.field.func.__name__ == field]
    return tuple(sorted(nodes, key=sympy.default_sort_key))


def field_nodes(expr: sympy.Expr) -> set[sympy.Expr]:
    """The fields ``u(x, y)`` and field derivatives ``Derivative(u(x, y), x)`` in ``expr``,
    not counting a field inside one of its derivatives."""
    found, stack = set(), [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, sympy.Derivative) and isinstance(node.expr, AppliedUndef):
            found.add(node)
        elif isinstance(node, (AppliedUndef, Directional, Laplacian, Combination)):
            found.add(node)
        else:
            stack.extend(node.args)
    return found


def loose_symbols(expr: sympy.Expr) -> set[sympy.Symbol]:
    """The symbols of ``expr`` outside the arguments of fields and their derivatives."""
    nodes = field_nodes(expr)
    replaced = expr.xreplace({n: sympy.Dummy() for n in nodes})
    symbols = {s for s in replaced.free_symbols if not isinstance(s, sympy.Dummy)}
    for node in nodes:  # a directional derivative's coefficients are computed in the term
        if isinstance(node, Directional):
            symbols |= set().union(*(c.free_symbols for _, c in node.pairs))
    return symbols


def multi_index(derivative: sympy.Derivative, coords: tuple[str, ...]) -> MultiIndex:
    """``Derivative(u(x, y), y, x)`` -> ``("x", "y")`` (sorted by the coordinates' order)."""
    names = [str(v) for v, count in derivative.variable_count for _ in range(int(count))]
    return tuple(sorted(names, key=coords.index))


def _term_plan(label: str, expr: sympy.Expr, coords: tuple[str, ...]) -> TermPlan:
    expr = group_combinations(group_laplacians(expr, coords), coords)
    needed = needed_partials(expr, coords)
    fields = []
    for name, indices in sorted(needed.items()):
        passes = _laplacian_passes(expr, name, indices, coords)
        provided = {m for p in passes for m in p.gradient if m is not None}
        provided |= {()} if any(p.value for p in passes) else set()
        taylor = _taylor_passes(indices, provided, coords)
        provided |= {m for p in taylor for m in p.outputs if m is not None}
        fields.append(FieldPlan(name, tuple(sorted(indices, key=lambda m: (len(m), m))),
                                _chains(indices - provided, coords),
                                directional_nodes(expr, name), passes, taylor,
                                _collapsed_passes(expr, name, coords), _field_args(expr, name)))
    return _analysed(label, coords, tuple(fields), expr)


def _analysed(label: str, coords: tuple[str, ...], fields: tuple[FieldPlan, ...],
              expr: sympy.Expr) -> TermPlan:
    """A `TermPlan` with the symbols and field nodes of ``expr``."""
    return TermPlan(label, coords, fields, expr, tuple(sorted(loose_symbols(expr), key=str)),
                    tuple(sorted(field_nodes(expr), key=sympy.default_sort_key)))


def _field_args(expr: sympy.Expr, field: str) -> tuple[str, ...]:
    """The coordinates ``field`` takes where ``expr`` applies it."""
    return next(tuple(str(c) for c in f.args) for f in expr.atoms(AppliedUndef)
                if f.func.__name__ == field)


def _features(plan_: TermPlan) -> Features:
    """``plan_``'s integrand split at its field nodes (`Features`)."""
    inputs = tuple(sympy.Symbol(f"z@{k}", real=True) for k in range(len(plan_.nodes)))
    values = _analysed(plan_.label, plan_.coords, plan_.fields, sympy.Tuple(*plan_.nodes))
    integrand = _analysed(plan_.label, plan_.coords, (),
                          plan_.expr.xreplace(dict(zip(plan_.nodes, inputs))))
    return Features(values, integrand, inputs)


def group_combinations(expr: sympy.Expr, coords: tuple[str, ...]) -> sympy.Expr:
    """``expr`` with every sum of partials of one field of one order k >= `MIN_COLLAPSED_ORDER`
    with numeric coefficients over two or more coordinates (that `waring` decomposes) replaced
    by ``Combination(u, sum)``, where one collapsed Taylor pass costs less than the passes the
    sum's partials would take (`_collapsed_cost`). Other terms of the sum are kept as they are."""
    return _regroup_sums(expr, lambda args: _combined(args, coords))


def _regroup_sums(expr: sympy.Expr, regroup) -> sympy.Expr:
    """``expr`` with the terms of every sum passed through ``regroup`` (a list of terms to a
    list of terms), innermost sums first; fields, derivatives and the plan's own nodes are
    left whole."""
    def rebuild(node):
        if not node.args or isinstance(node, (AppliedUndef, sympy.Derivative, Directional,
                                              Laplacian, Combination)):
            return node
        args = [rebuild(a) for a in node.args]
        if isinstance(node, sympy.Add):
            args = regroup(args)
        return node.func(*args) if args != list(node.args) else node
    return rebuild(expr)


def _combined(args: list[sympy.Expr], coords: tuple[str, ...]) -> list[sympy.Expr]:
    groups: dict[tuple, list[int]] = {}
    for i, arg in enumerate(args):
        found = _numeric_partial(arg)
        if found is not None and found[1].derivative_count >= MIN_COLLAPSED_ORDER:
            groups.setdefault((found[0], int(found[1].derivative_count)), []).append(i)
    taken, added = set(), []
    for (field, order), indices in groups.items():
        total = sympy.Add(*[args[i] for i in indices])
        found = _decomposed(total, coords)
        if found is None or _collapsed_cost(len(found[1]), order) >= _passes_cost(found[0]):
            continue
        taken |= set(indices)
        added.append(Combination(field, total))
    if not added:
        return args
    return [a for i, a in enumerate(args) if i not in taken] + added


@functools.lru_cache(maxsize=256)  # asked once to choose the pass and once to plan it
def _decomposed(total: sympy.Expr, coords: tuple[str, ...]):
    """For ``total``, a sum of distinct partials of one order with numeric coefficients: its
    partials (in the coordinates' order), their coefficients, and `waring`'s directions (one
    entry per coordinate of ``coords``) and weights; None where it spans fewer than two
    coordinates, repeats a partial, or `waring` finds no decomposition."""
    terms = sorted((_numeric_partial(t) for t in sympy.Add.make_args(total)),
                   key=lambda t: [coords.index(c) for c in multi_index(t[1], coords)])
    partials = [multi_index(d, coords) for _, d, _ in terms]
    along = sorted(set().union(*partials), key=coords.index)
    if len(along) < 2 or len(set(partials)) != len(partials):
        return None
    coefficients = [c for _, _, c in terms]
    found = waring(dict(zip(partials, coefficients)), along, len(partials[0]))
    if found is None:
        return None
    plane, weights = found
    directions = tuple(tuple(v[along.index(c)] if c in along else 0.0 for c in coords)
                       for v in plane)
    return tuple(partials), directions, tuple(weights), tuple(coefficients)


def _numeric_partial(term: sympy.Expr):
    """``c*Derivative(u, ...)`` with a number ``c`` -> ``(u, derivative, c)``, else None."""
    coefficient, rest = term.as_coeff_Mul()
    if (isinstance(rest, sympy.Derivative) and isinstance(rest.expr, AppliedUndef)
            and coefficient.is_number):
        return rest.expr, rest, float(coefficient)
    return None


def _collapsed_cost(directions: int, order: int) -> float:
    """A collapsed pass: the value, orders 1 .. order-1 per direction, and the summed order."""
    return COLLAPSED_UNIT * (2 + directions * (order - 1))


def _passes_cost(partials: list[MultiIndex]) -> int:
    """The passes the plan would otherwise take for these partials: per partial, the distinct
    values its chain computes, prod(count_i + 1) (k + 1 for a pure one, as its Taylor pass)."""
    return sum(math.prod(m.count(c) + 1 for c in set(m)) for m in partials)


def waring(coefficients: dict[MultiIndex, float], along: list[str], order: int
           ) -> tuple[list[tuple[float, ...]], list[float]] | None:
    """Directions v_i (components along ``along``) and weights w_i with
    ``sum_i w_i (v_i . grad)**order = sum_m coefficients[m] D^m`` to rounding, or None.

    In two coordinates: the fewest m = 1, ..., order + 1 directions at angles j pi / m (order
    + 1 such directions always do: their powers are then independent). In more: the
    coordinate axes with the diagonals (e_i ± e_j)/sqrt 2 (for the 3-D biharmonic the
    identity 6 (x² + y² + z²)² = 6 sum x_i⁴ ... , 9 directions), else the axes with order + 1
    equally spaced directions in every coordinate plane; None where neither gives it (a
    monomial in three or more coordinates may need other directions). Directions of zero
    weight are dropped: each costs a share of the pass."""
    n = len(along)
    monomials = list(itertools.combinations_with_replacement(range(n), order))
    target = np.array([coefficients.get(tuple(along[i] for i in m), 0.0) for m in monomials])

    def fit(candidates):
        # the coefficient of D^m in (v . grad)**order: order! / prod(counts!) * prod v_i**count
        powers = np.array([[math.factorial(order)
                            / math.prod(math.factorial(m.count(i)) for i in set(m))
                            * math.prod(v[i] for i in m) for v in candidates]
                           for m in monomials])
        weights, *_ = np.linalg.lstsq(powers, target, rcond=None)
        if np.linalg.norm(powers @ weights - target) > 1e-12 * np.linalg.norm(target):
            return None
        kept = np.abs(weights) > 1e-12 * np.abs(weights).max()
        exact = lambda c: 0.0 if abs(c) < 1e-15 else float(c)  # cos(pi/2) is 6e-17
        return ([tuple(exact(c) for c in v) for v, k in zip(candidates, kept) if k],
                [float(w) for w in weights[kept]])

    def in_plane(i, j, angle):
        v = np.zeros(n)
        v[i], v[j] = np.cos(angle), np.sin(angle)
        return v

    if n == 2:
        for m in range(1, order + 2):
            found = fit([in_plane(0, 1, np.pi * k / m) for k in range(m)])
            if found is not None:
                return found
        raise AssertionError("order + 1 directions always decompose the operator")
    axes = list(np.eye(n))
    pairs = list(itertools.combinations(range(n), 2))
    diagonals = [in_plane(i, j, a) for i, j in pairs for a in (np.pi / 4, 3 * np.pi / 4)]
    planes = [in_plane(i, j, np.pi * k / (order + 1)) for i, j in pairs
              for k in range(1, order + 1)]  # k = 0 would repeat an axis
    return fit(axes + diagonals) or fit(axes + planes)


def _collapsed_passes(expr: sympy.Expr, field: str, coords: tuple[str, ...]
                      ) -> tuple[CollapsedPass, ...]:
    nodes = sorted({n for n in field_nodes(expr) if isinstance(n, Combination)
                    and n.field.func.__name__ == field}, key=sympy.default_sort_key)
    passes = []
    for node in nodes:
        # not None: `group_combinations` made the node only where it was not
        partials, directions, weights, coefficients = _decomposed(node.expanded(), coords)
        passes.append(CollapsedPass(node, len(partials[0]), directions, weights, partials,
                                    coefficients))
    return tuple(passes)


def group_laplacians(expr: sympy.Expr, coords: tuple[str, ...]) -> sympy.Expr:
    """``expr`` with every sum ``c*u_xx + c*u_yy + ...`` of pure second derivatives of one field
    over at least `MIN_LAPLACIAN_COORDS` coordinates, with one coefficient ``c``, replaced by
    ``c*Laplacian(u, (x, y, ...))``. Other terms of the sum are kept as they are."""
    return _regroup_sums(expr, lambda args: _grouped(args, coords))


def _grouped(args: list[sympy.Expr], coords: tuple[str, ...]) -> list[sympy.Expr]:
    groups: dict[tuple, list[int]] = {}
    for i, arg in enumerate(args):
        found = _pure_second(arg)
        if found is not None:
            field, coord, coefficient = found
            groups.setdefault((field, coefficient), []).append(i)
    taken, added = set(), []
    for (field, coefficient), indices in groups.items():
        if len(indices) < MIN_LAPLACIAN_COORDS:
            continue
        along = sorted((_pure_second(args[i])[1] for i in indices), key=coords.index)
        taken |= set(indices)
        added.append(coefficient * Laplacian(field, sympy.Tuple(*[sympy.Symbol(c, real=True)
                                                                  for c in along])))
    if not added:
        return args
    return [a for i, a in enumerate(args) if i not in taken] + added


def _pure_second(term: sympy.Expr):
    """``c*Derivative(u, (x, 2))`` -> ``(u, "x", c)`` (``c`` free of fields), else None."""
    factors = sympy.Mul.make_args(term)
    derivatives = [f for f in factors if isinstance(f, sympy.Derivative)
                   and isinstance(f.expr, AppliedUndef) and len(f.variable_count) == 1
                   and f.variable_count[0][1] == 2]
    if len(derivatives) != 1:
        return None
    derivative = derivatives[0]
    coefficient = sympy.Mul(*[f for f in factors if f is not derivative])
    if field_nodes(coefficient):
        return None
    return derivative.expr, str(derivative.variable_count[0][0]), coefficient


def _taylor_passes(needed: set[MultiIndex], provided: set[MultiIndex],
                   coords: tuple[str, ...]) -> tuple[TaylorPass, ...]:
    """A Taylor pass along each coordinate with pure derivatives of order `MIN_TAYLOR_ORDER` or
    more; then, highest order first, one for each mixed partial not yet provided where one
    coordinate appears that often: along it, to that count, inside JVPs along the others (a
    repeated one once per time it appears). Either yields the same partials as the chain
    along the multi-index, at less cost (bench/derivatives.py)."""
    passes = []

    def add(coord: str, order: int, around: tuple[str, ...]) -> None:
        nonlocal provided
        outputs = []
        for mask in range(2 ** len(around)):
            taken = tuple(around[i] for i in range(len(around)) if mask >> i & 1)
            for k in range(order + 1):
                index = tuple(sorted((coord,) * k + taken, key=coords.index))
                useful = index in needed and index not in provided
                outputs.append(index if useful else None)
                if useful:
                    provided = provided | {index}
        passes.append(TaylorPass(coord, order, tuple(outputs), around))

    for coord in coords:
        orders = [len(m) for m in needed if m and set(m) == {coord}]
        if orders and max(orders) >= MIN_TAYLOR_ORDER:
            add(coord, max(orders), ())
    for target in sorted(needed, key=lambda m: (-len(m), m)):
        if target in provided or len(set(target)) < 2:
            continue
        coord = max(dict.fromkeys(target), key=target.count)  # the first of the most repeated
        around = tuple(c for c in target if c != coord)
        if target.count(coord) >= MIN_TAYLOR_ORDER:
            add(coord, target.count(coord), around)
    return tuple(passes)


def _laplacian_passes(expr: sympy.Expr, field: str, needed: set[MultiIndex],
                      coords: tuple[str, ...]) -> tuple[LaplacianPass, ...]:
    nodes = sorted({n for n in field_nodes(expr) if isinstance(n, Laplacian)
                    and n.field.func.__name__ == field}, key=sympy.default_sort_key)
    passes, given = [], set()
    for node in nodes:
        value = () in needed and () not in given
        gradient = tuple((c,) if (c,) in needed and (c,) not in given else None
                         for c in node.coords)
        given |= {m for m in gradient if m is not None} | ({()} if value else set())
        passes.append(LaplacianPass(node, node.coords, value, gradient))
    return tuple(passes)


def _chains(needed: set[MultiIndex], coords: tuple[str, ...]) -> tuple[Chain, ...]:
    provided: set[MultiIndex] = set()
    chains = []
    for target in sorted(needed, key=lambda m: (-len(m), m)):
        if target in provided:
            continue
        outputs = []
        for mask in range(2 ** len(target)):
            index = tuple(sorted((target[i] for i in range(len(target)) if mask >> i & 1),
                                 key=coords.index))
            useful = index in needed and index not in provided
            outputs.append(index if useful else None)
            if useful:
                provided.add(index)
        chains.append(Chain(target, tuple(outputs)))
    return tuple(chains)


def describe(plan_: DerivativePlan) -> str:
    """The plan as text, for ``pinnc compile --emit plan``: each term's own plan, then the
    merged plan of each set of terms sharing points (what the loss computes), then that of
    each let reported like a field."""
    lines = []
    titled = [(f"term {t.label} (points in {', '.join(t.coords)}):", t) for t in plan_.terms]
    titled += [(f"terms {', '.join(s.labels)} together (shared points in "
                f"{', '.join(s.plan.coords)}):", s.plan) for s in plan_.shared]
    titled += [(f"let {d.label} (reported, at points in {', '.join(d.coords)}):", d)
               for d in plan_.derived]
    for title, term in titled:
        lines.append(title)
        for f in term.fields:
            lines.append(f"  field {f.field}: needs {', '.join(f.needs())}")
            for chain in f.chains:
                along = ", ".join(chain.directions) if chain.directions else "(value only)"
                gives = ", ".join(partial_name(f.field, m) for m in chain.outputs if m is not None)
                depth = len(chain.directions)
                lines.append(f"    {depth} nested jvp{'s' if depth != 1 else ''} along {along} -> {gives}")
            for p in f.laplacians:
                gives = ([f.field] if p.value else []) + [
                    partial_name(f.field, m) for m in p.gradient if m is not None]
                how = ("collapsed Taylor, order 2" if p.method == "taylor"
                       else "over the batch, directions stacked")
                lines.append(f"    1 forward-Laplacian pass ({how}) along {', '.join(p.coords)} -> "
                             f"{', '.join(gives + [laplacian_name(f.field, p.node)])}")
            for p in f.taylor:
                gives = ", ".join(partial_name(f.field, m) for m in p.outputs if m is not None)
                inside = (f" in {len(p.around)} nested jvp{'s' if len(p.around) > 1 else ''} "
                          f"along {', '.join(p.around)}" if p.around else "")
                lines.append(f"    1 Taylor-mode pass of order {p.order} along {p.coord}{inside} "
                             f"-> {gives}")
            for p in f.collapsed:
                angles = ", ".join(f"({', '.join(f'{c:.4g}' for c in v)})" for v in p.directions)
                total = " + ".join(f"{c:g}*{partial_name(f.field, m)}"
                                   for c, m in zip(p.coefficients, p.partials))
                lines.append(f"    1 collapsed Taylor pass of order {p.order} along "
                             f"{len(p.directions)} directions {angles} -> {total}")
            for k, node in enumerate(f.directional):
                vector = ("the outward normal" if directional_name(f.field, node, k).endswith("_n")
                          else " + ".join(f"({c})*e_{x}" for x, c in node.pairs))
                lines.append(f"    1 jvp along {vector} -> {directional_name(f.field, node, k)}")
    return "\n".join(lines)


def directional_name(field: str, node: sympy.Expr, index: int) -> str:
    """``u_n`` for the normal derivative ``dn(u)``, ``u_dir0`` and so on for other vectors."""
    normal = all("@normal" in str(c) for _, c in node.pairs)
    return f"{field}_n" if normal else f"{field}_dir{index}"


def combination_name(field: str) -> str:
    """``sum_u``: the name of a `Combination` of field u in generated code."""
    return f"sum_{field}"


def laplacian_name(field: str, node: sympy.Expr) -> str:
    """``lap_u``: the name of a `Laplacian` of field u in plans and generated code."""
    return f"lap_{field}"


def partial_name(field: str, index: MultiIndex) -> str:
    """``("x", "x")`` of u -> ``u_xx``; coordinates longer than a letter are joined by '_'."""
    if not index:
        return field
    joiner = "" if all(len(c) == 1 for c in index) else "_"
    return f"{field}_{joiner.join(index)}"


__all__ = ["plan", "integral_label", "shared_label", "SharedPlan", "describe", "directional_name", "laplacian_name",
           "combination_name", "Combination", "CollapsedPass", "waring", "group_combinations",
           "needed_partials", "multi_index", "partial_name", "group_laplacians", "Laplacian",
           "DerivativePlan", "TermPlan", "Features", "FieldPlan", "LaplacianPass", "TaylorPass", "Chain"]
