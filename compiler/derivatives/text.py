"""The plan as text, for ``pinnc compile --emit plan``."""
from __future__ import annotations

from .names import directional_name, laplacian_name, partial_name
from .plans import DerivativePlan, FieldPlan


def describe(plan_: DerivativePlan) -> str:
    """The plan as text: each term's own plan, then the merged plan of each set of terms
    sharing points (what the loss computes), then that of each let reported like a field."""
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
            lines += [f"    {line}" for line in _passes(f)]
    return "\n".join(lines)


def _passes(f: FieldPlan) -> list[str]:
    """One line per pass of a field's plan: what it runs and what it yields."""
    lines = []
    for chain in f.chains:
        along = ", ".join(chain.directions) if chain.directions else "(value only)"
        gives = ", ".join(f.partial(m) for m in chain.outputs if m is not None)
        depth = len(chain.directions)
        lines.append(f"{depth} nested jvp{'s' if depth != 1 else ''} along {along} -> {gives}")
    for p in f.laplacians:
        gives = ([f.field] if p.value else []) + [
            partial_name(f.field, m) for m in p.gradient if m is not None]
        how = ("collapsed Taylor, order 2" if p.method == "taylor"
               else "over the batch, directions stacked")
        lines.append(f"1 forward-Laplacian pass ({how}) along {', '.join(p.coords)} -> "
                     f"{', '.join(gives + [laplacian_name(f.field, p.node)])}")
    for p in f.taylor:
        gives = ", ".join(f.partial(m) for m in p.outputs if m is not None)
        inside = (f" in {len(p.around)} nested jvp{'s' if len(p.around) > 1 else ''} "
                  f"along {', '.join(p.around)}" if p.around else "")
        lines.append(f"1 Taylor-mode pass of order {p.order} along {p.coord}{inside} -> {gives}")
    for p in f.collapsed:
        angles = ", ".join(f"({', '.join(f'{c:.4g}' for c in v)})" for v in p.directions)
        total = " + ".join(f"{c:g}*{partial_name(f.field, m)}"
                           for c, m in zip(p.coefficients, p.partials))
        lines.append(f"1 collapsed Taylor pass of order {p.order} along "
                     f"{len(p.directions)} directions {angles} -> {total}")
    for k, node in enumerate(f.directional):
        vector = ("the outward normal" if directional_name(f.field, node, k).endswith("_n")
                  else " + ".join(f"({c})*e_{x}" for x, c in node.pairs))
        lines.append(f"1 jvp along {vector} -> {directional_name(f.field, node, k)}")
    return lines
