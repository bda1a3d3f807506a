"""The plan of a problem: each term's, each integrand's, each derived quantity's, and the
merged plan of each set of terms sharing points."""
from __future__ import annotations

import dataclasses

import sympy

from .. import ir
from .grouping import group_combinations, group_laplacians
from .names import integral_label, point_text, shared_label
from .nodes import (directional_nodes, field_args, field_nodes, loose_symbols, needed_partials,
                    shifted_partials)
from .passes import chains, collapsed_passes, laplacian_passes, taylor_passes
from .plans import DerivativePlan, Features, FieldPlan, SharedPlan, TermPlan


def plan(problem: ir.Problem) -> DerivativePlan:
    """The derivative plan of every term of a problem, and of every integrand inside one
    (labelled as `integral_label` says), and the merged plan of each set of terms sharing
    points."""
    plans = []
    for term in problem.terms:
        own = term_plan(term.label, term.residual, term.coords)
        if term.kind == "minimize" and not term.integrals:
            own = dataclasses.replace(own, features=_features(own))
        plans.append(own)
        plans += [term_plan(integral_label(term.label, k), i.integrand, i.region.coords)
                  for k, i in enumerate(term.integrals)]
    terms = {t.label: t for t in problem.terms}
    shared = []
    for labels in problem.point_sets():
        if len(labels) > 1:
            together = sympy.Tuple(*[terms[label].residual for label in labels])
            shared.append(SharedPlan(labels, term_plan(shared_label(labels), together,
                                                       terms[labels[0]].coords)))
    derived = tuple(term_plan(d.name, d.expr, d.coords) for d in problem.derived)
    return DerivativePlan(tuple(plans), tuple(shared), derived)


def term_plan(label: str, expr: sympy.Expr, coords: tuple[str, ...]) -> TermPlan:
    """The plan of one residual (or integrand) ``expr`` at points in ``coords``: its sums
    grouped into one-pass nodes, then per field the passes that compute what it needs, each
    partial taken from the first pass that yields it."""
    expr = group_combinations(group_laplacians(expr, coords), coords)
    fields = []
    for name, indices in sorted(needed_partials(expr, coords).items()):
        passes = laplacian_passes(expr, name, indices)
        provided = {m for p in passes for m in p.gradient if m is not None}
        provided |= {()} if any(p.value for p in passes) else set()
        taylor = taylor_passes(indices, provided, coords)
        provided |= {m for p in taylor for m in p.outputs if m is not None}
        fields.append(FieldPlan(name, tuple(sorted(indices, key=lambda m: (len(m), m))),
                                chains(indices - provided, coords),
                                directional_nodes(expr, name), passes, taylor,
                                collapsed_passes(expr, name, coords), field_args(expr, name)))
    return _analysed(label, coords, tuple(fields) + _shifted(expr, coords), expr)


def _shifted(expr: sympy.Expr, coords: tuple[str, ...]) -> tuple[FieldPlan, ...]:
    """Per field and point other than the term's own (`ValueAt`), the Taylor passes and
    chains that compute the partials ``expr`` takes there."""
    found = shifted_partials(expr, coords)
    fields = []
    for name, point in sorted(found, key=lambda key: (key[0], point_text(key[1]))):
        indices = found[(name, point)]
        taylor = taylor_passes(indices, set(), coords)
        provided = {m for p in taylor for m in p.outputs if m is not None}
        fields.append(FieldPlan(name, tuple(sorted(indices, key=lambda m: (len(m), m))),
                                chains(indices - provided, coords), taylor=taylor,
                                args=field_args(expr, name), point=point))
    return tuple(fields)


def _analysed(label: str, coords: tuple[str, ...], fields: tuple[FieldPlan, ...],
              expr: sympy.Expr) -> TermPlan:
    """A `TermPlan` with the symbols and field nodes of ``expr``."""
    return TermPlan(label, coords, fields, expr, tuple(sorted(loose_symbols(expr), key=str)),
                    tuple(sorted(field_nodes(expr), key=sympy.default_sort_key)))


def _features(plan_: TermPlan) -> Features:
    """``plan_``'s integrand split at its field nodes (`Features`)."""
    inputs = tuple(sympy.Symbol(f"z@{k}", real=True) for k in range(len(plan_.nodes)))
    values = _analysed(plan_.label, plan_.coords, plan_.fields, sympy.Tuple(*plan_.nodes))
    integrand = _analysed(plan_.label, plan_.coords, (),
                          plan_.expr.xreplace(dict(zip(plan_.nodes, inputs))))
    return Features(values, integrand, inputs)
