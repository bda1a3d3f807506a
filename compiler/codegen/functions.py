"""The functions of a generated module at one point: a term's residual, an integrand, the
residuals of terms sharing points, a minimize term's feature split, an exact solution, a
derived quantity. Each computes the partials the plan lists, one line per pass, then returns
the printed expression under its SymPy form as a comment."""
from __future__ import annotations

import sympy

from .. import ir
from ..derivatives import (Combination, FieldPlan, Laplacian, TermPlan, combination_name,
                           directional_name, laplacian_name, multi_index, partial_name,
                           value_index)
from ..errors import SpecError
from ..expressions import Directional, ValueAt
from ..printer import UnprintableError, to_jax
from .helpers import uses_axes
from .naming import LOCAL_NAMES, MODULE_NAMES, docstring, identifier, quoted_text, reserved


def term_function(term: ir.Term, plan: TermPlan, function: str) -> str:
    """A term's residual at one point; its inputs beyond the point are those it uses."""
    special: dict[sympy.Symbol, str] = {}
    extra: list[str] = []
    if term.data is not None:
        special[ir.observed_symbol(term.data.field)] = "observed"
        extra.append("observed")
    if term.uses_normals:
        special.update({ir.normal_symbol(c): f"normal[{i}]" for i, c in enumerate(term.coords)})
        extra.append("normal")
    if term.integrals:
        special.update({i.symbol: f"integrals[{k}]" for k, i in enumerate(term.integrals)})
        extra.append("integrals")
    return point_function(function, docstring(term), plan, term.coords, term.span, extra,
                          special, hoisted=True)


def integrand_function(term: ir.Term, index: int, plan: TermPlan, function: str) -> str:
    doc = f"The integrand of integral {index} in {term.label}, at one point p."
    return point_function(function, doc, plan, term.integrals[index].region.coords, term.span,
                          [], {})


def shared_function(terms: list[ir.Term], plan: TermPlan, function: str) -> str:
    """The residuals of terms sharing points, at one point, with each derivative taken once."""
    doc = "; ".join(docstring(term) for term in terms)
    special, extra = {}, []
    if any(term.uses_normals for term in terms):
        special.update({ir.normal_symbol(c): f"normal[{i}]" for i, c in enumerate(plan.coords)})
        extra.append("normal")
    return point_function(function, doc, plan, plan.coords, terms[0].span, extra, special,
                          hoisted=True)


def features_functions(term: ir.Term, features, values: str, of_values: str) -> list[str]:
    """For a minimize term, its integrand split in two at one point (`derivatives.Features`):
    the field values and derivatives it contains (``values``: a vector z), and the integrand
    as a function of z (``of_values``)."""
    nodes = features.values.expr.args
    doc = (f"{term.label}: the values its integrand depends on at one point p: "
           + ", ".join(sympy.sstr(n) for n in nodes) + ".")
    first = point_function(values, doc, features.values, term.coords, term.span, [], {},
                           stacked=True)
    special = {symbol: f"z[{k}]" for k, symbol in enumerate(features.inputs)}
    doc = f"{term.label}: its integrand from the values z that {values} gives, at p."
    second = point_function(of_values, doc, features.integrand, term.coords, term.span, ["z"],
                            special)
    return [first, second]


def exact_function(problem: ir.Problem, exact: ir.Exact, function: str) -> str:
    coords = problem.reported(exact.field).coords
    taken = reserved() | MODULE_NAMES | LOCAL_NAMES
    names = {sympy.Symbol(c, real=True): identifier(c, taken) for c in coords}
    used = [(names[s], i) for i, s in enumerate(sympy.Symbol(c, real=True) for c in coords)
            if s in exact.expr.free_symbols]
    lines = [f"def {function}(p):",
             f'    """The exact {exact.field} at one point p = ({", ".join(coords)})."""']
    if used:
        lines.append(f"    {', '.join(n for n, _ in used)} = {', '.join(f'p[{i}]' for _, i in used)}")
    try:
        body = to_jax(exact.expr, names)
    except UnprintableError as error:
        raise SpecError(f"cannot generate code: {error}", exact.span) from None
    if not used:  # a constant: give it the point's dtype and shape ()
        body = f"jnp.asarray({body}, dtype=p.dtype)"
    lines.append(f"    return {body}")
    return "\n".join(lines) + "\n"


def point_function(function: str, doc: str, plan: TermPlan, coords: tuple[str, ...], span,
                   extra: list[str], special: dict[sympy.Symbol, str], hoisted: bool = False,
                   stacked: bool = False) -> str:
    """A function at one point computing ``plan.expr``; ``special`` names the symbols that
    stand for its ``extra`` inputs. ``hoisted``: its batched function computes the passes that
    run over the whole batch (`batch_passes`) and hands each point its share (``passes``).
    ``stacked``: a tuple ``expr`` is returned as one vector."""
    taken = reserved() | MODULE_NAMES | LOCAL_NAMES | set(extra)
    names: dict[sympy.Basic, str] = dict(special)
    hoisted = hoisted and bool(batch_passes(plan))
    parameters = ["fields", "params", "p", *extra] + (["passes=None"] if hoisted else [])
    lines = [f"def {function}({', '.join(parameters)}):", f'    """{doc}"""']
    lines += _input_lines(plan, coords, names, taken)
    if uses_axes(plan):
        lines.append(f"    e = jnp.eye({len(coords)}, dtype=p.dtype)")
    partials = {}
    handed = iter(range(len(batch_passes(plan)))) if hoisted else None
    shifted = [f for f in plan.fields if f.point]
    for field_plan in plan.fields:
        if field_plan.point:
            lines += _shifted_lines(field_plan, shifted.index(field_plan), coords, taken,
                                    partials, names)
            continue
        lines += _laplacian_lines(field_plan, coords, taken, partials, handed)
        lines += _taylor_lines(field_plan, coords, taken, partials)
        lines += _collapsed_lines(field_plan, coords, taken, partials)
        lines += _field_lines(field_plan, coords, taken, partials)
        lines += _directional_lines(field_plan, coords, taken, partials, names)
    for node in plan.nodes:
        names[node] = partials[_partial_key(node, coords)]
    lines += _return_lines(plan.expr, names, special, span, stacked)
    return "\n".join(lines) + "\n"


def _input_lines(plan: TermPlan, coords, names: dict, taken: set[str]) -> list[str]:
    """The lines that name the coordinates and params the plan's expression uses (recorded
    in ``names``); symbols already in ``names`` are the function's other inputs."""
    used = [s for s in plan.symbols if s not in names]
    positions = [(c, i) for i, c in enumerate(coords) if sympy.Symbol(c, real=True) in used]
    lines = []
    if positions:
        targets = [identifier(c, taken) for c, _ in positions]
        for (c, _), target in zip(positions, targets):
            names[sympy.Symbol(c, real=True)] = target
        lines.append(f"    {', '.join(targets)} = {', '.join(f'p[{i}]' for _, i in positions)}")
    for symbol in used:  # the rest are params
        if symbol not in names:
            names[symbol] = identifier(str(symbol), taken)
            lines.append(f"    {names[symbol]} = params[{str(symbol)!r}]")
    return lines


def _partial_key(node: sympy.Expr, coords) -> object:
    """Where a field node's value is recorded among a function's computed partials: (field,
    point, multi-index), the point () at the term's own, or the node itself."""
    if isinstance(node, ValueAt):
        return node.field.func.__name__, node.point, value_index(node, coords)
    if isinstance(node, sympy.Derivative):
        return node.expr.func.__name__, (), multi_index(node, coords)
    if isinstance(node, (Directional, Laplacian, Combination)):
        return node
    return node.func.__name__, (), ()


def _return_lines(expr: sympy.Expr, names: dict, special: dict, span, stacked: bool
                  ) -> list[str]:
    """The SymPy expression as a comment, then the line that returns it."""
    outputs = list(expr) if isinstance(expr, sympy.Tuple) else [expr]
    try:
        bodies = [to_jax(output, names) for output in outputs]
    except UnprintableError as error:
        raise SpecError(f"cannot generate code: {error}", span) from None
    shown = {symbol: sympy.Symbol(text) for symbol, text in special.items()}
    lines = [f"    # {quoted_text(sympy.sstr(output.xreplace(shown)))}" for output in outputs]
    if stacked:
        lines.append(f"    return jnp.stack([{', '.join(bodies)}])")
    elif isinstance(expr, sympy.Tuple):
        lines.append(f"    return ({', '.join(bodies)},)")
    else:
        lines.append(f"    return {bodies[0]}")
    return lines


def _shifted_lines(plan: FieldPlan, number: int, coords, taken, partials, names) -> list[str]:
    """The point a field is taken at (`ValueAt`), ``at0`` say, in the term's coordinates, then
    the passes that compute the field's partials there (``u_x_at0``)."""
    at = identifier(f"at{number}", taken)
    entries = [to_jax(plan.point[plan.args.index(c)], names) if c in plan.args else f"p[{i}]"
               for i, c in enumerate(coords)]
    lines = [f"    {at} = jnp.stack([{', '.join(entries)}]).astype(p.dtype)"]
    lines += _taylor_lines(plan, coords, taken, partials, at, f"_{at}")
    lines += _field_lines(plan, coords, taken, partials, at, f"_{at}")
    return lines


def _field_lines(plan: FieldPlan, coords: tuple[str, ...], taken: set[str],
                 partials: dict, at: str = "p", suffix: str = "") -> list[str]:
    """Lines that compute the partials of one field a term needs, one line per chain, at
    the point named ``at``."""
    call = field_call(plan, coords)
    lines = []
    for chain in plan.chains:
        targets = _targets(plan, chain.outputs, taken, partials, suffix)
        if not chain.directions:
            lines.append(f"    {targets[0]} = {call}({at})")
        else:
            lines.append(f"    {', '.join(targets)} = _derivatives({call}, {at}, "
                         f"{_axes(chain.directions, coords)})")
    return lines


def _targets(plan: FieldPlan, outputs, taken: set[str], partials: dict,
             suffix: str = "") -> list[str]:
    """Names for the outputs of one derivative pass: ``_`` where an output is unused (None),
    else a fresh name for the partial (``suffix`` after it), recorded in ``partials``."""
    targets = []
    for index in outputs:
        if index is None:
            targets.append("_")
        else:
            key = (plan.field, plan.point, index)
            partials[key] = identifier(partial_name(plan.field, index) + suffix, taken)
            targets.append(partials[key])
    return targets


def _laplacian_lines(plan: FieldPlan, coords, taken, partials, handed) -> list[str]:
    """One line per forward-Laplacian pass: value, partials along its coordinates, Laplacian.
    A pass over the batch is taken from ``passes`` where the caller computed it (``handed``
    numbers them, in `batch_passes` order), else at the point by `_laplacian`."""
    call = field_call(plan, coords)
    lines = []
    for p in plan.laplacians:
        targets = _targets(plan, (() if p.value else None, *p.gradient), taken, partials)
        partials[p.node] = identifier(laplacian_name(plan.field, p.node), taken)
        targets.append(partials[p.node])
        helper = "_laplacian_taylor" if p.method == "taylor" else "_laplacian"
        computed = f"{helper}({call}, p, {along(p, coords)})"
        if p.method == "batched" and handed is not None:
            computed = f"{computed} if passes is None else passes[{next(handed)}]"
        lines.append(f"    {', '.join(targets)} = {computed}")
    return lines


def along(p, coords) -> str:
    """The tuple literal of a Laplacian pass's coordinates, as indices into the point."""
    along = ", ".join(str(coords.index(c)) for c in p.coords)
    return f"({along}{',' if len(p.coords) == 1 else ''})"


def batch_passes(plan: TermPlan) -> list[tuple[FieldPlan, object]]:
    """The Laplacian passes of a plan that run over the whole batch, in the order of
    ``passes``: (field plan, pass)."""
    return [(f, p) for f in plan.fields for p in f.laplacians if p.method == "batched"]


def _taylor_lines(plan: FieldPlan, coords, taken, partials, at: str = "p",
                  suffix: str = "") -> list[str]:
    """One line per Taylor-mode pass: the field and its derivatives along one coordinate, at
    the point named ``at``."""
    call = field_call(plan, coords)
    lines = []
    for p in plan.taylor:
        targets = _targets(plan, p.outputs, taken, partials, suffix)
        around = f", {_axes(p.around, coords)}" if p.around else ""
        lines.append(f"    {', '.join(targets)} = _taylor({call}, {at}, {coords.index(p.coord)}, "
                     f"{p.order}{around})")
    return lines


def _collapsed_lines(plan: FieldPlan, coords, taken, partials) -> list[str]:
    """One line per collapsed Taylor pass: a sum of partials of one order of the field."""
    call = field_call(plan, coords)
    lines = []
    for p in plan.collapsed:
        partials[p.node] = identifier(combination_name(plan.field), taken)
        directions = ", ".join("(" + ", ".join(repr(c) for c in v) + ")" for v in p.directions)
        weights = ", ".join(repr(w) for w in p.weights)
        lines.append(f"    {partials[p.node]} = _collapsed({call}, p, ({directions},), "
                     f"({weights},), {p.order})")
    return lines


def _directional_lines(plan: FieldPlan, coords, taken, partials, names) -> list[str]:
    """One JVP per derivative along a vector: ``u_n`` for dn(u), ``u_dir0`` and so on."""
    call = field_call(plan, coords)
    lines = []
    for k, node in enumerate(plan.directional):
        target = identifier(directional_name(plan.field, node, k), taken)
        partials[node] = target
        components = dict((str(x), c) for x, c in node.pairs)
        parts = [to_jax(components[c], names) if c in components else "0.0" for c in coords]
        if parts == [f"normal[{i}]" for i in range(len(coords))]:
            vector = "normal"
        else:
            vector = f"jnp.stack([{', '.join(parts)}]).astype(p.dtype)"
        lines.append(f"    _, {target} = _derivatives({call}, p, ({vector},))")
    return lines


def field_call(plan: FieldPlan, coords) -> str:
    """How a term calls a field: directly when it takes the term's coordinates in order."""
    positions = tuple(coords.index(c) for c in plan.args)
    if positions == tuple(range(len(coords))):
        return f"fields[{plan.field!r}]"
    return f"(lambda q: fields[{plan.field!r}](q[jnp.array({list(positions)})]))"


def _axes(along, coords) -> str:
    """A tuple literal of the unit axes along the coordinates ``along``: ``(e[0], e[1])``."""
    items = ", ".join(f"e[{coords.index(c)}]" for c in along)
    return f"({items}{',' if len(along) == 1 else ''})"
