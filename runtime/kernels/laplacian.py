"""The forward Laplacian of a per-point function over a batch of points, in one pass.

``forward_laplacian(f, points, along)`` returns, at every point ``p`` of ``points`` (N, d), the
value ``f(p)``, its partials along the coordinates ``along`` and the sum of its pure second
derivatives along them (Li et al. 2023's forward Laplacian). It walks ``f``'s jaxpr, for one
point, one equation at a time, and carries for every value ``x`` its directional derivatives
``J`` along the k coordinates (one array, the directions on an axis) and its Laplacian ``L``:
``y = g(x)`` gives ``J_y = g'(x) J_x`` and ``L_y = g'(x) L_x + sum_i g''(x)[J_x,i, J_x,i]``.

Every rule runs on the whole batch at once, not under the caller's `jax.vmap`, and that is the
point of this module: it fixes the layout of the directions. ``J`` of a value of shape S is
(N, k, *S): the points, then the directions, then the features, so that

- a product with a matrix that does not depend on the point (a layer's weights) is one matrix
  product of (N k, features) by the weights, and its transpose in the parameter gradient is
  one as well. Under a vmap over points the same product is a dot of a (N, k, features) array,
  whose parameter gradient contracts two axes: XLA:CPU transposes the whole tangent array for
  it, three times per network;
- the sum over directions of ``g''(x)[J_i, J_i]`` reduces the middle axis, which XLA:CPU
  does at memory speed, where a reduction over the leading axis of the same array is not;
- a value that does not depend on the point keeps no point axis: the input's directions are
  the unit axes, the same at every point, and so is the first layer's ``J = W1``.

Rules: elementwise functions of one argument (tanh, exp, sin, ...) by their first and second
derivatives, products, and linear operations (sums, reshapes, slices, products by constants,
matrix products by weights) by their JVP; any other operation by nested JVPs of it per
direction. Only the per-point equations are vmapped (over points and directions), never the
whole function.
"""
from __future__ import annotations

from typing import Callable, NamedTuple, Sequence

import jax
import jax.numpy as jnp
from jax.extend import core

from .taylor import inner_jaxpr


class Carried(NamedTuple):
    """A value of the per-point function over the batch: ``x`` is (N, *S), or S where it does
    not depend on the point; ``J`` (N, k, *S) or (k, *S), or None where zero; ``L`` like ``x``,
    or None where zero. ``rank`` is len(S)."""
    x: jax.Array
    J: jax.Array | None
    L: jax.Array | None
    rank: int


def forward_laplacian(f: Callable, points: jax.Array, along: Sequence[int]
                      ) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``f(p)`` (N,), its partials along the coordinates ``along`` (N, len(along)) and the
    sum of its pure second derivatives along them (N,), at every point p of ``points`` (N, d);
    ``f`` maps one point (d,) to a scalar."""
    n, d = points.shape
    closed = jax.make_jaxpr(f)(points[0])
    axes = jnp.eye(d, dtype=points.dtype)[jnp.asarray(along)]
    (out,) = _evaluate(closed.jaxpr, closed.consts, [Carried(points, axes, None, 1)])
    value = _per_point(out.x, out.rank, n)
    if out.J is None:
        gradient = jnp.zeros((n, len(along)), points.dtype)
    elif _batched_J(out):
        gradient = out.J.reshape(n, len(along))
    else:
        gradient = jnp.broadcast_to(out.J.reshape(len(along)), (n, len(along)))
    laplacian = (jnp.zeros((n,), points.dtype) if out.L is None
                 else _per_point(out.L, out.rank, n))
    return value.reshape(n), gradient, laplacian.reshape(n)


def _per_point(array: jax.Array, rank: int, n: int) -> jax.Array:
    return array if array.ndim > rank else jnp.broadcast_to(array, (n, *array.shape))


def _batched(array: jax.Array, rank: int) -> bool:
    return jnp.ndim(array) > rank  # a literal of the jaxpr may be a Python number


def _batched_J(value: Carried) -> bool:
    return value.J is not None and value.J.ndim > value.rank + 1


def _evaluate(jaxpr: core.Jaxpr, consts: Sequence, inputs: list[Carried]) -> list[Carried]:
    env: dict = {}

    def read(var) -> Carried:
        if isinstance(var, core.Literal):
            return Carried(var.val, None, None, jnp.ndim(var.val))
        return env[var]

    for var, value in zip(jaxpr.constvars, consts):
        env[var] = Carried(value, None, None, jnp.ndim(value))
    for var, value in zip(jaxpr.invars, inputs):
        env[var] = value
    for eqn in jaxpr.eqns:
        ins = [read(v) for v in eqn.invars]
        inner = inner_jaxpr(eqn)
        carries = any(v.J is not None for v in ins)
        if inner is not None and carries:
            results = _evaluate(inner.jaxpr, inner.consts, ins)
        else:
            results = _rule(eqn, ins)
        for var, value in zip(eqn.outvars, results):
            env[var] = value
    return [read(v) for v in jaxpr.outvars]


# --- rules ----------------------------------------------------------------------------------------

# Elementwise functions of one argument: J_y = g'(x) J, L_y = g'(x) L + g''(x) sum_i J_i².
_ELEMENTWISE = {"tanh", "logistic", "exp", "exp2", "log", "log1p", "expm1", "sin", "cos", "tan",
                "sqrt", "rsqrt", "cbrt", "integer_pow", "square", "erf", "atan", "sinh", "cosh",
                "asinh"}
# Operations linear in each argument that carries derivatives, the others held fixed, where no
# two arguments carry them at once (sums may: they are linear in all arguments together).
_SUMS = {"add", "sub", "add_any"}
_LINEAR = {"neg", "reshape", "broadcast_in_dim", "convert_element_type", "squeeze",
           "expand_dims", "transpose", "slice", "reduce_sum", "copy", "copy_p", "rev", "cumsum",
           "dynamic_slice", "gather", "reduce_precision", "mul", "dot_general", "concatenate",
           "pad", "select_n"}


def _rule(eqn, ins: list[Carried]) -> list[Carried]:
    name = eqn.primitive.name
    bind = lambda *args: eqn.primitive.bind(*args, **eqn.params)
    ranks = [v.aval.ndim for v in eqn.outvars]
    values = [v.x for v in ins]
    outs = _over_points(lambda *a: _listed(eqn, bind(*a)), values,
                        [_batched(v.x, v.rank) for v in ins])
    carrying = [i for i, v in enumerate(ins) if v.J is not None]  # L is None where J is
    if not carrying or not all(jnp.issubdtype(v.aval.dtype, jnp.inexact) for v in eqn.outvars):
        return [Carried(o, None, None, r) for o, r in zip(outs, ranks)]
    if name in _ELEMENTWISE and len(ins) == 1:
        return [_elementwise(eqn, ins[0], outs[0])]
    if name == "mul" and len(carrying) == 2:
        return [_product(ins[0], ins[1], outs[0])]
    if name == "dot_general" and carrying == [0] and _weights_product(eqn, ins):
        return [_matrix_product(eqn, ins, outs[0])]
    linear = name in _SUMS or (name in _LINEAR and len(carrying) == 1
                               and not (name == "select_n" and carrying == [0]))
    Js = _directional(eqn, ins, carrying)
    Ls = _linear_part(eqn, ins, carrying)
    if not linear:
        seconds = _second_order(eqn, ins, carrying)
        Ls = [s if l is None else l + s for l, s in zip(Ls, seconds)]
    return [Carried(o, J, L, r) for o, J, L, r in zip(outs, Js, Ls, ranks)]


def _listed(eqn, out) -> list:
    return list(out) if eqn.primitive.multiple_results else [out]


def _over_points(fun: Callable, args: Sequence, batched: Sequence[bool]):
    """``fun`` of per-point arguments, over the points of those that have them."""
    if any(batched):
        return jax.vmap(fun, in_axes=tuple(0 if b else None for b in batched))(*args)
    return fun(*args)


def _expand(scale: jax.Array, rank: int) -> jax.Array:
    """A per-point array (N, *S) or S, ready to multiply a J of either layout."""
    return scale[:, None] if _batched(scale, rank) else scale


def _direction_sum(array: jax.Array, rank: int) -> jax.Array:
    """The sum over the directions of a J-shaped array: (N, *S) or S."""
    return jnp.sum(array, axis=1 if array.ndim > rank + 1 else 0)


def _elementwise(eqn, x: Carried, out: jax.Array) -> Carried:
    """y = g(x), elementwise: g' and g'' at every entry, by JAX's JVP of g."""
    g = lambda v: eqn.primitive.bind(v, **eqn.params)
    one = jnp.ones_like(x.x)
    first = lambda v: jax.jvp(g, (v,), (one,))[1]
    d1, d2 = jax.jvp(first, (x.x,), (one,))
    J = _expand(d1, x.rank) * x.J
    L = d2 * _direction_sum(x.J * x.J, x.rank)
    if x.L is not None:
        L = L + d1 * x.L
    return Carried(out, J, L, x.rank)


def _product(a: Carried, b: Carried, out: jax.Array) -> Carried:
    """y = a b, both carrying: J = a J_b + b J_a, L = a L_b + b L_a + 2 sum_i J_a,i J_b,i."""
    rank = a.rank
    J = _expand(a.x, rank) * b.J + _expand(b.x, rank) * a.J
    L = 2 * _direction_sum(a.J * b.J, rank)
    for value, other in ((a, b), (b, a)):
        if other.L is not None:
            L = L + value.x * other.L
    return Carried(out, J, L, rank)


def _weights_product(eqn, ins: list[Carried]) -> bool:
    """Whether a dot_general is x @ W: x's last axis contracted with one axis of W, which
    carries nothing and is the same at every point, and no batch axes."""
    (lhs_contract, rhs_contract), (lhs_batch, rhs_batch) = eqn.params["dimension_numbers"]
    x, W = ins
    return (W.J is None and W.L is None and not _batched(W.x, W.rank) and not lhs_batch
            and not rhs_batch and tuple(lhs_contract) == (x.rank - 1,) and len(rhs_contract) == 1)


def _matrix_product(eqn, ins: list[Carried], out: jax.Array) -> Carried:
    """x @ W as one matrix product of every leading axis (points, directions) at once."""
    x, W = ins
    (_, rhs_contract), _ = eqn.params["dimension_numbers"]
    params = dict(eqn.params, dimension_numbers=(((1,), tuple(rhs_contract)), ((), ())))
    rank = eqn.outvars[0].aval.ndim
    width = x.x.shape[-1]

    def times_W(array):
        flat = array.reshape(-1, width)
        product = eqn.primitive.bind(flat, W.x, **params)
        return product.reshape(*array.shape[:-1], *product.shape[1:])
    J = times_W(x.J)
    L = None if x.L is None else times_W(x.L)
    return Carried(out, J, L, rank)


def _directional(eqn, ins: list[Carried], carrying: list[int]) -> list[jax.Array]:
    """J of every output: the JVP of the operation along each direction, at every point."""
    def per_point(*args):
        values, tangents = args[:len(ins)], args[len(ins):]
        at = _moving(eqn, values, carrying)
        along = lambda *t: jax.jvp(at, tuple(values[i] for i in carrying), t)[1]
        return jax.vmap(along)(*tangents)
    return list(_over_points(per_point, *_arguments(ins, carrying, "J")))


def _linear_part(eqn, ins: list[Carried], carrying: list[int]) -> list[jax.Array | None]:
    """The JVP of the operation along the Laplacians of its arguments."""
    moving = [i for i in carrying if ins[i].L is not None]
    if not moving:
        return [None] * len(eqn.outvars)

    def per_point(*args):
        values, Ls = args[:len(ins)], args[len(ins):]
        at = _moving(eqn, values, moving)
        return jax.jvp(at, tuple(values[i] for i in moving), tuple(Ls))[1]
    return list(_over_points(per_point, *_arguments(ins, moving, "L")))


def _second_order(eqn, ins: list[Carried], carrying: list[int]) -> list[jax.Array]:
    """sum_i d²/ds² g(x + s J_i) of every output, by nested JVPs per direction."""
    def per_point(*args):
        values, tangents = args[:len(ins)], args[len(ins):]
        at = _moving(eqn, values, carrying)
        start = tuple(values[i] for i in carrying)

        def along(*t):
            first = lambda *v: jax.jvp(at, v, t)[1]
            return jax.jvp(first, start, t)[1]
        return [jnp.sum(s, axis=0) for s in jax.vmap(along)(*tangents)]
    return list(_over_points(per_point, *_arguments(ins, carrying, "J")))


def _arguments(ins: list[Carried], indices: list[int], part: str) -> tuple[list, list[bool]]:
    """What `_over_points` maps: the values of ``ins``, then the ``part`` ("J" or "L") of those
    at ``indices``, and whether each has a point axis."""
    parts = [getattr(ins[i], part) for i in indices]
    extra = 1 if part == "J" else 0  # the directions axis
    batched = [_batched(v.x, v.rank) for v in ins] + [
        a.ndim > ins[i].rank + extra for i, a in zip(indices, parts)]
    return [v.x for v in ins] + parts, batched


def _moving(eqn, values: Sequence, moving: list[int]) -> Callable:
    """The operation as a function of the arguments at ``moving``, the others at ``values``."""
    def at(*moved):
        args = list(values)
        for i, v in zip(moving, moved):
            args[i] = v
        return _listed(eqn, eqn.primitive.bind(*args, **eqn.params))
    return at
