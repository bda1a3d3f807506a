"""The helper functions a generated module defines, each with the imports it needs, and
which of them a program's plan calls."""
from __future__ import annotations

from dataclasses import dataclass

from .. import ir
from ..derivatives import DerivativePlan, TermPlan, integral_label
from .naming import shared_labels


_DERIVATIVES = '''\
def _derivatives(f, p, directions):
    """f(p) and its derivatives along every subset of `directions`, by nested jax.jvp.

    Returns 2**len(directions) values; bit i of an output's index says direction i was taken.
    """
    return _nested(lambda q: (f(q),), p, directions)


def _nested(g, p, directions):
    """The values of g(p), a tuple, and their derivatives along every subset of `directions`:
    mask-major, the block for a mask of directions holding all of g's values."""
    for v in directions:
        g = _with_tangents(g, v)
    return g(p)


def _with_tangents(g, v):
    def h(q):
        values, tangents = jax.jvp(g, (q,), (v,))
        return values + tangents
    return h
'''


_LAPLACIAN = '''\
def _laplacian(f, p, along):
    """f(p), its partials along the coordinates `along` (indices into p) and the sum of its
    pure second derivatives along them, in one forward-Laplacian pass at the point (folx):
    where a function runs at a single point; over a batch, `_laplacians` does it for all."""
    if tuple(along) == tuple(range(p.shape[0])):
        g, start = f, p
    else:
        index = jnp.array(along)
        g, start = (lambda s: f(p.at[index].set(s))), p[index]
    out = folx.forward_laplacian(g, sparsity_threshold=0)(start)
    gradient = out.jacobian.dense_array.reshape(len(along))
    return (out.x, *(gradient[i] for i in range(len(along))), out.laplacian)
'''


_LAPLACIANS = '''\
def _laplacians(f, points, along):
    """At every point of `points` (N, d): f, its partials along the coordinates `along` and
    the sum of its pure second derivatives along them, (N,) each, in one forward-Laplacian
    pass over the whole batch (the directions an axis of every tangent)."""
    value, gradient, laplacian = _forward_laplacian(f, points, along)
    return (value, *(gradient[:, i] for i in range(len(along))), laplacian)
'''


_LAPLACIAN_TAYLOR = '''\
def _laplacian_taylor(f, p, along):
    """f(p), its partials along the coordinates `along` (indices into p) and the sum of its
    pure second derivatives along them, in one collapsed Taylor pass of order 2 along those
    axes (the forward Laplacian)."""
    axes = jnp.eye(p.shape[0], dtype=p.dtype)[jnp.array(along)]
    value, lower, total = _collapsed_series(f, p, axes, jnp.ones(len(along), p.dtype), 2)
    return (value, *(lower[i, 0] for i in range(len(along))), total)
'''


_TAYLOR = '''\
def _taylor(f, p, axis, order, around=()):
    """f(p) and its derivatives along coordinate `axis` up to `order`, in one Taylor-mode pass,
    and their derivatives along every subset of the directions `around` by nested jax.jvp:
    (order + 1) * 2**len(around) values, the k-th of the mask-th block taking the directions
    whose bits are set in mask."""
    direction = jnp.zeros_like(p).at[axis].set(1)
    return _nested(lambda q: tuple(_taylor_series(f, q, direction[None], order)[0]), p, around)
'''


_COLLAPSED = '''\
def _collapsed(f, p, directions, weights, order):
    """sum_i weights[i] (d/ds)**order f(p + s directions[i]): a constant-coefficient sum of
    partials of one order, in one collapsed Taylor-mode pass."""
    return _collapsed_derivative(f, p, jnp.asarray(directions, p.dtype),
                                 jnp.asarray(weights, p.dtype), order)
'''


_INTEGRAL = '''\
def _integral(integrand, entry):
    """The Monte Carlo estimate of an integral: the region's measure times the mean of the
    integrand over the entry's points."""
    return entry.measure * jnp.mean(jax.vmap(integrand)(entry.points))
'''


_MEAN = '''\
def _mean(values, entry):
    """The mean of per-point values over a batch entry's points; over those its mask marks,
    where it has one (slots reserved for points that refinement adds later are 0)."""
    if entry.mask is None:
        return jnp.mean(values)
    return jnp.sum(entry.mask * values) / jnp.sum(entry.mask)
'''


@dataclass(frozen=True)
class _Helper:
    """Code the generated functions call: its blocks and the imports they need."""
    blocks: tuple[str, ...]
    imports: tuple[str, ...] = ()


# In the order the module defines them.
HELPERS = {
    "derivatives": _Helper((_DERIVATIVES,)),
    "batched laplacian": _Helper((_LAPLACIAN, _LAPLACIANS), (
        "import folx",
        "from pinnc.runtime.kernels.laplacian import forward_laplacian as _forward_laplacian")),
    "taylor laplacian": _Helper((_LAPLACIAN_TAYLOR,), (
        "from pinnc.runtime.kernels.taylor import collapsed_series as _collapsed_series",)),
    "taylor": _Helper((_TAYLOR,), (
        "from pinnc.runtime.kernels.taylor import directional_derivatives as _taylor_series",)),
    "collapsed": _Helper((_COLLAPSED,), (
        "from pinnc.runtime.kernels.taylor import collapsed_derivative as "
        "_collapsed_derivative",)),
    "integral": _Helper((_INTEGRAL,)),
    "mean": _Helper((_MEAN,)),
}


def _printed_plans(problem: ir.Problem, plan: DerivativePlan) -> list[TermPlan]:
    """The plans the module prints a function of: each term's (or its group's, where it
    shares points), each integrand's, each minimize split's, each derived quantity's."""
    together = shared_labels(plan)
    plans = [group.plan for group in plan.shared]
    for term in problem.terms:
        own = plan.term(term.label)
        if term.label not in together:
            plans.append(own)
        plans += [plan.term(integral_label(term.label, k)) for k in range(len(term.integrals))]
        if own.features is not None:
            plans += [own.features.values, own.features.integrand]
    return plans + list(plan.derived)


def helpers_used(problem: ir.Problem, plan: DerivativePlan) -> set[str]:
    """The keys of `HELPERS` that the printed plans' passes and the terms call."""
    printed = _printed_plans(problem, plan)
    fields = [f for t in printed for f in t.fields]
    methods = {p.method for f in fields for p in f.laplacians}
    used = {"mean"}
    if "batched" in methods:
        used.add("batched laplacian")
    if "taylor" in methods:
        used.add("taylor laplacian")
    if any(f.taylor for f in fields):
        used |= {"taylor", "derivatives"}  # `_taylor` nests its JVPs with `_nested`
    if any(f.collapsed for f in fields):
        used.add("collapsed")
    if any(_needs_derivatives(t) for t in printed):
        used.add("derivatives")
    if any(t.integrals for t in problem.terms):
        used.add("integral")
    return used


def _needs_derivatives(plan: TermPlan) -> bool:
    return uses_axes(plan) or any(f.directional for f in plan.fields)


def uses_axes(plan: TermPlan) -> bool:
    """Whether a chain or a Taylor pass's JVPs take coordinate axes (``e = jnp.eye(...)``)."""
    return any(chain.directions for f in plan.fields for chain in f.chains) or any(
        t.around for f in plan.fields for t in f.taylor)
