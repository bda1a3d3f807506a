"""Stage 3: which partial derivatives each term needs, and how they are computed.

A partial derivative is a multi-index: the coordinates differentiated along, in the order of the
term's coordinates, e.g. ``("x", "x")`` for u_xx and ``()`` for u itself. For every term and
field the plan lists the partials the residual needs and the forward-mode *chains* that compute
them: a chain of directions (v1, ..., vk) evaluated by k nested `jax.jvp`s yields the derivative
along every subset of its directions at once (2**k values), so u, u_x and u_xx come from one
chain (x, x). Chains are chosen greedily from the highest order down, and a partial is taken from
the first chain that yields it, so each distinct partial is computed once per term.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy
from sympy.core.function import AppliedUndef

from . import ir
from .expressions import Directional

MultiIndex = tuple[str, ...]


@dataclass(frozen=True)
class Chain:
    """Nested JVPs along ``directions``; ``outputs[mask]`` is the partial that output ``mask``
    (bit i set: direction i taken) provides to the residual, or None where it is not used."""
    directions: tuple[str, ...]
    outputs: tuple[MultiIndex | None, ...]


@dataclass(frozen=True)
class FieldPlan:
    """The partials of one field in one term, the chains computing them, and the derivatives
    along non-coordinate vectors (`Directional` nodes: ``dn(u)``, ``dot(grad(u), v)``), each
    computed by one JVP."""
    field: str
    needed: tuple[MultiIndex, ...]
    chains: tuple[Chain, ...]
    directional: tuple[sympy.Expr, ...] = ()


@dataclass(frozen=True)
class TermPlan:
    label: str
    coords: tuple[str, ...]
    fields: tuple[FieldPlan, ...]


@dataclass(frozen=True)
class DerivativePlan:
    terms: tuple[TermPlan, ...]

    def term(self, label: str) -> TermPlan:
        return next(t for t in self.terms if t.label == label)


def plan(problem: ir.Problem) -> DerivativePlan:
    """The derivative plan of every term of a problem, and of every integrand inside one
    (labelled as `integral_label` says)."""
    plans = []
    for term in problem.terms:
        plans.append(_term_plan(term.label, term.residual, term.coords))
        plans += [_term_plan(integral_label(term.label, k), i.integrand, i.region.coords)
                  for k, i in enumerate(term.integrals)]
    return DerivativePlan(tuple(plans))


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
        else:  # a Directional: planned apart, but the field is known to the term
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
        elif isinstance(node, (AppliedUndef, Directional)):
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
    needed = needed_partials(expr, coords)
    fields = tuple(FieldPlan(name, tuple(sorted(indices, key=lambda m: (len(m), m))),
                             _chains(indices, coords), directional_nodes(expr, name))
                   for name, indices in sorted(needed.items()))
    return TermPlan(label, coords, fields)


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
    """The plan as text, for ``pinnc compile --emit plan``."""
    lines = []
    for term in plan_.terms:
        lines.append(f"term {term.label} (points in {', '.join(term.coords)}):")
        for f in term.fields:
            names = [partial_name(f.field, m) for m in f.needed]
            names += [directional_name(f.field, n, k) for k, n in enumerate(f.directional)]
            lines.append(f"  field {f.field}: needs {', '.join(names)}")
            for chain in f.chains:
                along = ", ".join(chain.directions) if chain.directions else "(value only)"
                gives = ", ".join(partial_name(f.field, m) for m in chain.outputs if m is not None)
                depth = len(chain.directions)
                lines.append(f"    {depth} nested jvp{'s' if depth != 1 else ''} along {along} -> {gives}")
            for k, node in enumerate(f.directional):
                vector = ("the outward normal" if directional_name(f.field, node, k).endswith("_n")
                          else " + ".join(f"({c})*e_{x}" for x, c in node.pairs))
                lines.append(f"    1 jvp along {vector} -> {directional_name(f.field, node, k)}")
    return "\n".join(lines)


def directional_name(field: str, node: sympy.Expr, index: int) -> str:
    """``u_n`` for the normal derivative ``dn(u)``, ``u_dir0`` and so on for other vectors."""
    normal = all("@normal" in str(c) for _, c in node.pairs)
    return f"{field}_n" if normal else f"{field}_dir{index}"


def partial_name(field: str, index: MultiIndex) -> str:
    """``("x", "x")`` of u -> ``u_xx``; coordinates longer than a letter are joined by '_'."""
    if not index:
        return field
    joiner = "" if all(len(c) == 1 for c in index) else "_"
    return f"{field}_{joiner.join(index)}"


__all__ = ["plan", "integral_label", "describe", "directional_name", "needed_partials", "multi_index", "partial_name", "DerivativePlan",
           "TermPlan", "FieldPlan", "Chain"]
