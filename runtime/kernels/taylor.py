"""Taylor mode: the derivatives of a function along directions, to a given order, in one pass.

``directional_derivatives(f, x, directions, order)[i, k]`` is ``d^k/ds^k f(x + s v_i)`` at
``s = 0``. It propagates truncated Taylor series (normalized coefficients ``y_k = y^(k) / k!``)
through the function's jaxpr, one equation at a time. Two things make it cheaper than nested
JVPs for high orders, and than `jax.experimental.jet` as JAX ships it:

- a value that does not depend on ``x`` (a weight, a bias) carries no series, so ``W @ z``
  costs one matrix product per order, not the ``O(order²)`` of a product of two series;
- the directions are a Python loop, not a `jax.vmap`ped axis: under the caller's vmap over
  points a mapped direction axis lies between the points and the features, and XLA then
  transposes every cotangent to contract it in the parameter gradient. The order-0
  coefficients (the plain forward pass) are the same ops on the same values in every
  direction, which XLA computes once;
- tanh, logistic, exp, sin and cos differentiate their coefficients in closed form
  (`series.py`), so the parameter gradient's reverse pass through them is a few products per
  coefficient.

`RULES` maps a primitive's name to its rule, for the operations networks and residuals use
(products, sums, tanh, logistic, sin, cos, exp, log, powers, ...); any other primitive goes
through `jet`'s rule for it, and one neither has is an error that names it.

``collapsed_derivative(f, x, directions, weights, order)`` is ``sum_i w_i d^K/ds^K f(x + s v_i)``
(K = ``order``), the form of any constant-coefficient sum of K-th partials (the derivative plan
finds the directions and weights; `compiler/derivatives/`). It is "collapsed" Taylor mode
(Dangel, Siebert, Zeinhofer & Walther 2025): the top coefficient of every value is affine in
the top coefficients of its operands, ``y_K = f'(x_0)[x_K] + r(x_0, ..., x_{K-1})``, so only
its weighted sum over the directions is carried (one array, not one per direction); orders 1
to K-1 are carried per direction. Each operation's ``r`` is the per-direction rule with a
zero top coefficient; its linear part is the JVP of the operation at ``x_0``.
``collapsed_series`` also returns the value and the lower orders: with the coordinate axes,
unit weights and K = 2 it is the forward Laplacian (value, gradient, Laplacian).
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import jax
import jax.numpy as jnp
from jax import lax
from jax.experimental import jet
from jax.extend import core

from .series import (Series, cos, exp, log, logistic, power, product, quotient, sin, sqrt, tanh,
                     zeros)


def directional_derivatives(f: Callable, x: jax.Array, directions: jax.Array,
                            order: int) -> jax.Array:
    """(len(directions), order + 1): the k-th derivative of f along each direction at x."""
    closed = jax.make_jaxpr(f)(x)
    scale = [math.factorial(k) for k in range(order + 1)]
    rows = []
    for v in jnp.asarray(directions, x.dtype):  # a Python loop: see `Collapsed`
        series = [x, v] + [None] * (order - 1) if order >= 1 else [x]
        (out,) = _evaluate(closed.jaxpr, closed.consts, [series], order)
        rows.append(jnp.stack([jnp.zeros_like(out[0]) if c is None else c * s
                               for c, s in zip(out, scale)]))
    return jnp.stack(rows)


def collapsed_derivative(f: Callable, x: jax.Array, directions: jax.Array, weights: jax.Array,
                         order: int) -> jax.Array:
    """``sum_i weights[i] * d^order/ds^order f(x + s directions[i])`` at s = 0, order >= 2, in
    one collapsed Taylor-mode pass (see the module's docstring)."""
    return collapsed_series(f, x, directions, weights, order)[2]


def collapsed_series(f: Callable, x: jax.Array, directions: jax.Array, weights: jax.Array,
                     order: int) -> tuple[jax.Array, jax.Array, jax.Array]:
    """The whole collapsed pass: ``f(x)``; ``(len(directions), order - 1)``, the derivatives of
    orders 1 to K-1 along each direction; and ``sum_i weights[i] * d^K/ds^K f(x + s v_i)``.
    With the coordinate axes as directions, unit weights and K = 2, it is the forward
    Laplacian: the value, the gradient and the Laplacian in one pass."""
    if order < 2:
        raise ValueError("a collapsed Taylor pass needs order >= 2")
    closed = jax.make_jaxpr(f)(x)
    directions = jnp.asarray(directions, x.dtype)
    weights = jnp.asarray(weights, x.dtype)
    lower = [[directions[i]] + [None] * (order - 2) for i in range(len(directions))]
    (out,) = _evaluate_collapsed(closed.jaxpr, closed.consts, [(x, lower, None)], order, weights)
    value, lower, top = out
    zero = jnp.zeros_like(value)
    lower = jnp.stack([jnp.stack([zero if c is None else math.factorial(k) * c
                                  for k, c in enumerate(series, start=1)]) for series in lower])
    return value, lower, math.factorial(order) * (zero if top is None else top)


# A collapsed value: (x_0, [[x_1, ..., x_{K-1}] for each direction], sum_i w_i x_K,i), any
# coefficient None where it is zero. The directions are a Python list, not a mapped axis: a
# mapped direction axis sits between the points and the features, and XLA transposes every
# cotangent to contract it in the parameter gradient.
Collapsed = tuple


def _carries(value: Collapsed) -> bool:
    return value[2] is not None or _has_lower(value)


def _has_lower(value: Collapsed) -> bool:
    """Whether any direction's coefficient of orders 1 to K-1 is nonzero."""
    return any(c is not None for series in value[1] for c in series)


def _evaluate_collapsed(jaxpr: core.Jaxpr, consts: Sequence, inputs: list[Collapsed],
                        order: int, weights: jax.Array) -> list[Collapsed]:
    env: dict = {}
    constant = lambda value: (value, [[None] * (order - 1)] * len(weights), None)

    def read(var) -> Collapsed:
        return constant(var.val) if isinstance(var, core.Literal) else env[var]

    for var, value in zip(jaxpr.constvars, consts):
        env[var] = constant(value)
    for var, value in zip(jaxpr.invars, inputs):
        env[var] = value
    for eqn in jaxpr.eqns:
        ins = [read(v) for v in eqn.invars]
        carries = [_carries(value) for value in ins]
        inner = inner_jaxpr(eqn)
        if inner is not None and any(carries):
            results = _evaluate_collapsed(inner.jaxpr, inner.consts, ins, order, weights)
        else:
            results = _collapsed_rule(eqn, ins, carries, order, weights)
        for var, value in zip(eqn.outvars, results):
            env[var] = value
    return [read(v) for v in jaxpr.outvars]


def _collapsed_rule(eqn, ins: list[Collapsed], carries: list[bool], order: int,
                    weights: jax.Array) -> list[Collapsed]:
    bind = lambda *args: eqn.primitive.bind(*args, **eqn.params)
    values = [v for v, _, _ in ins]
    outs = bind(*values)
    outs = list(outs) if eqn.primitive.multiple_results else [outs]
    directions = range(len(weights))
    none = [[None] * (order - 1) for _ in directions]
    if not any(carries) or not all(jnp.issubdtype(v.aval.dtype, jnp.inexact)
                                   for v in eqn.outvars):
        return [(o, none, None) for o in outs]
    lowers = [none for _ in outs]
    rests = [None] * len(outs)
    if any(_has_lower(value) for value in ins):
        per_direction = []  # [direction][output]: orders 1..K, with a zero top coefficient
        for d in directions:
            series = [[v] + list(lower[d]) + [None] for v, lower, _ in ins]
            per_direction.append([s[1:] for s in _rule(eqn, series, order)])
        lowers = [[per_direction[d][i][:-1] for d in directions] for i in range(len(outs))]
        for i in range(len(outs)):
            for d in directions:
                top = per_direction[d][i][-1]
                if top is not None:
                    top = weights[d] * top
                    rests[i] = top if rests[i] is None else rests[i] + top
    tops = [top for _, _, top in ins]
    linear = [None] * len(outs)
    if any(t is not None for t in tops):
        moving = [i for i, t in enumerate(tops) if t is not None]

        def at(*moved):
            args = list(values)
            for i, v in zip(moving, moved):
                args[i] = v
            out = bind(*args)
            return list(out) if eqn.primitive.multiple_results else [out]
        _, linear = jax.jvp(at, tuple(values[i] for i in moving), tuple(tops[i] for i in moving))
    results = []
    for out, lower, rest, lin in zip(outs, lowers, rests, linear):
        top = rest if lin is None else (lin if rest is None else rest + lin)
        if top is not None and jnp.shape(top) != jnp.shape(out):
            top = jnp.broadcast_to(top, jnp.shape(out))
        results.append((out, lower, top))
    return results


def _evaluate(jaxpr: core.Jaxpr, consts: Sequence, inputs: list[Series], order: int) -> list[Series]:
    env: dict = {}

    def read(var) -> Series:
        if isinstance(var, core.Literal):
            return [var.val] + [None] * order
        return env[var]

    for var, value in zip(jaxpr.constvars, consts):
        env[var] = [value] + [None] * order
    for var, series in zip(jaxpr.invars, inputs):
        env[var] = series
    for eqn in jaxpr.eqns:
        ins = [read(v) for v in eqn.invars]
        if all(_constant(s) for s in ins):  # nothing here depends on x
            results = _locally_constant(eqn, ins, order)
        else:
            results = _rule(eqn, ins, order)
        for var, series in zip(eqn.outvars, results):
            env[var] = series
    return [read(v) for v in jaxpr.outvars]


# --- rules ----------------------------------------------------------------------------------------
# A rule maps (eqn, the operands' series, order) to the outputs' series. `RULES` holds pinnc's
# own, by primitive name, as `jax.experimental.jet` keeps its `jet_rules` by primitive; a
# primitive without one goes through jet's rule for it.

Rule = Callable[[core.JaxprEqn, list[Series], int], list[Series]]


def inner_jaxpr(eqn):
    """The closed jaxpr a call primitive (a nested jit, custom_jvp, custom_vjp) evaluates, which
    Taylor mode walks through; None for any other primitive."""
    name = eqn.primitive.name
    if name in ("pjit", "closed_call", "core_call", "jit"):
        return eqn.params["jaxpr"]
    if name == "custom_jvp_call":
        return eqn.params["call_jaxpr"]
    if name == "custom_vjp_call":
        return eqn.params.get("call_jaxpr") or eqn.params["fun_jaxpr"]
    return None


def _rule(eqn, ins: list[Series], order: int) -> list[Series]:
    if not all(jnp.issubdtype(v.aval.dtype, jnp.inexact) for v in eqn.outvars):
        return _locally_constant(eqn, ins, order)  # comparisons, integer results
    inner = inner_jaxpr(eqn)
    if inner is not None:
        return _evaluate(inner.jaxpr, inner.consts, ins, order)
    return RULES.get(eqn.primitive.name, _jet_rule)(eqn, ins, order)


def _bind(eqn, *args):
    return eqn.primitive.bind(*args, **eqn.params)


def _constant(series: Series) -> bool:
    """Whether a series has no coefficient above order 0 (its value does not move with x)."""
    return all(c is None for c in series[1:])


def _locally_constant(eqn, ins: list[Series], order: int) -> list[Series]:
    outs = _bind(eqn, *[s[0] for s in ins])
    outs = outs if eqn.primitive.multiple_results else [outs]
    return [[o] + [None] * order for o in outs]


def _linear(eqn, ins: list[Series], order: int) -> list[Series]:
    """f(a + b) = f(a) + f(b) in the first operand, the others held fixed."""
    if not all(_constant(s) for s in ins[1:]):
        return _jet_rule(eqn, ins, order)
    first, rest = ins[0], [s[0] for s in ins[1:]]
    return [[_bind(eqn, first[0], *rest)]
            + [None if c is None else _bind(eqn, c, *rest) for c in first[1:]]]


def _sum(eqn, ins: list[Series], order: int) -> list[Series]:
    """add, sub, add_any: coefficient by coefficient, a missing one zero."""
    a, b = ins
    out = [_bind(eqn, a[0], b[0])]
    for ak, bk in zip(a[1:], b[1:]):
        if bk is None:
            out.append(ak)
        elif ak is None:
            out.append(-bk if eqn.primitive.name == "sub" else bk)
        else:
            out.append(_bind(eqn, ak, bk))
    return [_fit(out, eqn)]


def _bilinear(eqn, ins: list[Series], order: int) -> list[Series]:
    """mul, dot_general: the Cauchy product of the two series under the primitive."""
    return [_fit(product(lambda a, b: _bind(eqn, a, b), ins[0], ins[1], order), eqn)]


def _pow(eqn, ins: list[Series], order: int) -> list[Series]:
    """a ** c for a constant exponent c: exp(c log a)."""
    if not _constant(ins[1]):
        return _jet_rule(eqn, ins, order)
    a, exponent = ins[0], ins[1][0]
    y = exp([None if c is None else exponent * c for c in log(a, order)], order)
    return [_fit([lax.pow(a[0], exponent)] + y[1:], eqn)]


def _select(eqn, ins: list[Series], order: int) -> list[Series]:
    """select_n(predicate, *cases): each coefficient chosen as the value is."""
    if not _constant(ins[0]):
        return _jet_rule(eqn, ins, order)
    predicate, cases = ins[0][0], ins[1:]
    out = [_bind(eqn, predicate, *[s[0] for s in cases])]
    for k in range(1, order + 1):
        chosen = not all(s[k] is None for s in cases)
        out.append(_bind(eqn, predicate, *[zeros(s, k) for s in cases]) if chosen else None)
    return [out]


def _extremum(eqn, ins: list[Series], order: int) -> list[Series]:
    """max, min: the series of the operand chosen (the first on a tie)."""
    a, b = ins
    pick = (a[0] >= b[0]) if eqn.primitive.name == "max" else (a[0] <= b[0])
    out = [_bind(eqn, a[0], b[0])]
    for k in range(1, order + 1):
        moving = a[k] is not None or b[k] is not None
        out.append(jnp.where(pick, zeros(a, k), zeros(b, k)) if moving else None)
    return [_fit(out, eqn)]


def _abs(eqn, ins: list[Series], order: int) -> list[Series]:
    x = ins[0]
    sign = jnp.sign(x[0])
    return [[jnp.abs(x[0])] + [None if c is None else sign * c for c in x[1:]]]


def _expm1(eqn, ins: list[Series], order: int) -> list[Series]:
    y = exp(ins[0], order)
    return [[jnp.expm1(ins[0][0])] + y[1:]]


def _unary(series_rule: Callable[[Series, int], Series]) -> Rule:
    """A rule for y = f(x) from ``series_rule(x, order)``, the series of y."""
    return lambda eqn, ins, order: [series_rule(ins[0], order)]


def _fit(series: Series, eqn) -> Series:
    """Broadcast coefficients to the output's shape (an operand may have been a scalar)."""
    shape = eqn.outvars[0].aval.shape
    return [c if c is None or jnp.shape(c) == shape else jnp.broadcast_to(c, shape)
            for c in series]


def _jet_rule(eqn, ins: list[Series], order: int) -> list[Series]:
    """A primitive without a rule in `RULES`: JAX's own Taylor rule for it (normalized
    coefficients)."""
    rule = jet.jet_rules.get(eqn.primitive)
    if rule is None:
        raise NotImplementedError(
            f"Taylor mode has no rule for the JAX primitive '{eqn.primitive.name}', neither in "
            "pinnc's RULES (runtime/kernels/taylor.py) nor in jax.experimental.jet's jet_rules: "
            "write the expression with other functions, or add a rule to RULES")
    primals = [s[0] for s in ins]
    series = [[zeros(s, k) for k in range(1, order + 1)] for s in ins]
    primal_out, series_out = rule(primals, series, **eqn.params)
    if not eqn.primitive.multiple_results:
        primal_out, series_out = [primal_out], [series_out]
    return [[p] + (list(s) if isinstance(s, (list, tuple)) else [None] * order)  # zero series
            for p, s in zip(primal_out, series_out)]


# Linear in their first operand, the others held fixed (where another carries a series too,
# `_linear` hands the equation to jet).
_LINEAR = ("neg", "reshape", "broadcast_in_dim", "convert_element_type", "squeeze", "expand_dims",
           "transpose", "slice", "reduce_sum", "copy", "copy_p", "rev", "real", "imag", "cumsum",
           "dynamic_slice", "gather", "reduce_precision")

RULES: dict[str, Rule] = {
    **dict.fromkeys(_LINEAR, _linear),
    **dict.fromkeys(("add", "sub", "add_any"), _sum),
    **dict.fromkeys(("mul", "dot_general"), _bilinear),
    **dict.fromkeys(("max", "min"), _extremum),
    "div": lambda eqn, ins, order: [quotient(ins[0], ins[1], order)],
    "integer_pow": lambda eqn, ins, order: [_fit(power(ins[0], eqn.params["y"], order), eqn)],
    "square": lambda eqn, ins, order: [_fit(product(lax.mul, ins[0], ins[0], order), eqn)],
    "pow": _pow,
    "select_n": _select,
    "abs": _abs,
    "tanh": _unary(tanh),
    "logistic": _unary(logistic),
    "exp": _unary(exp),
    "expm1": _expm1,
    "sin": _unary(sin),
    "cos": _unary(cos),
    "log": _unary(log),
    "log1p": _unary(lambda x, order: log([1 + x[0]] + x[1:], order)),
    "sqrt": _unary(sqrt),
}
