"""Energy natural gradient (ENGD): Gauss–Newton in function space, as an optax-style transform.

For a loss that is a sum of weighted mean squares, ``L(θ) = |r(θ)|²`` with the residual vector
``r = concat_t sqrt(w_t / N_t) r_t`` over every `pde`, `bc`, `ic` and `data` term, the step
solves ``(JᵀJ + λI) d = Jᵀr`` with ``J = ∂r/∂θ`` over all parameters (network weights and
`param`s): the natural gradient of Müller & Zeinhofer (ICML 2023) for these losses. It is
solved in the kernel form ``d = Jᵀ(JJᵀ + λI)⁻¹ r`` when there are fewer residuals than
parameters (the Woodbury identity), else in the parameter form. ``λ = damping · mean(diag)``,
tiny and fixed: measured on the 3×32 Poisson network, a fixed tiny damping with a line search
on a logarithmic grid beat Levenberg–Marquardt adaptation.

The step length is the best of ``2⁰, 2⁻¹, …`` on the loss itself (all evaluated at once); a step
that does not lower the loss is not taken, so the loss never increases.
"""
from __future__ import annotations

import os
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree

GRID = 16  # step lengths 2^0 ... 2^-15


class EngdState(NamedTuple):
    accepted: jax.Array   # whether the last step lowered the loss
    step_size: jax.Array  # the step length taken (0 when none was)
    damping: jax.Array    # the relative damping for the next step


# Adaptive damping: halve it after a full-length step, multiply it by 4 after a short or
# rejected one, within these bounds.
DAMPING_RANGE = (1e-12, 1e-1)


FORMS = ("kernel", "parameter", "matrix-free")


def memory_budget() -> int:
    """Bytes a dense Gauss–Newton system may take: a quarter of the device's memory (a GPU's
    allocator limit; on a CPU, the machine's physical memory)."""
    try:
        stats = jax.devices()[0].memory_stats() or {}
    except Exception:  # backends without memory statistics
        stats = {}
    total = stats.get("bytes_limit")
    if not total:
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            total = 8 * 2 ** 30
    return int(total) // 4


def choose_form(residuals: int, parameters: int, itemsize: int = 8,
                budget: int | None = None) -> str:
    """The form of the Gauss–Newton solve: 'kernel' (JJᵀ, M×M) when there are fewer residuals
    than parameters, else 'parameter' (JᵀJ, P×P): the smaller system, when it and the
    Jacobian (M×P) fit in ``budget`` bytes (`memory_budget`); else 'matrix-free' (conjugate
    gradients on Jᵀ(Jv), with JVPs and VJPs of the residuals: O(M + P) memory)."""
    budget = memory_budget() if budget is None else budget
    smaller = min(residuals, parameters)
    dense = (residuals * parameters + smaller * smaller) * itemsize
    if dense > budget:
        return "matrix-free"
    return "kernel" if residuals < parameters else "parameter"


def gauss_newton_direction(jacobian: jax.Array, residual: jax.Array, damping: float,
                           form: str | None = None) -> jax.Array:
    """The Gauss–Newton direction d with (JᵀJ + λI) d = Jᵀr, in the kernel or the parameter
    form (``form``, else the smaller).

    ``jacobian``: (M, P); ``residual``: (M,); returns (P,). λ = damping · mean diagonal.
    """
    m, p = jacobian.shape
    form = form or ("kernel" if m < p else "parameter")
    if form == "kernel":
        gram = jacobian @ jacobian.T
        shift = damping * jnp.trace(gram) / m
        factor = jax.scipy.linalg.cho_factor(gram + shift * jnp.eye(m, dtype=gram.dtype))
        return jacobian.T @ jax.scipy.linalg.cho_solve(factor, residual)
    gram = jacobian.T @ jacobian
    shift = damping * jnp.trace(gram) / p
    factor = jax.scipy.linalg.cho_factor(gram + shift * jnp.eye(p, dtype=gram.dtype))
    return jax.scipy.linalg.cho_solve(factor, jacobian.T @ residual)


def generalized_direction(rows: jax.Array, gradient: jax.Array, damping: float) -> jax.Array:
    """d with (RᵀR + λI) d = g/2, RᵀR half the generalized Gauss–Newton matrix (minimize terms:
    the gradient is not Rᵀ times anything, so there is no kernel form); parameter form."""
    gram = rows.T @ rows
    p = gram.shape[0]
    shift = damping * jnp.trace(gram) / p
    factor = jax.scipy.linalg.cho_factor(gram + shift * jnp.eye(p, dtype=gram.dtype))
    return jax.scipy.linalg.cho_solve(factor, 0.5 * gradient)


CG_STEPS = 200  # conjugate-gradient iterations of a matrix-free solve, at most
PROBES = 8      # Rademacher probes for the trace of JᵀJ (the damping's scale), matrix-free


def matrix_free_direction(residual_of, theta: jax.Array, damping: float,
                          key: jax.Array) -> jax.Array:
    """(JᵀJ + λI) d = Jᵀr by conjugate gradients, with ``J v`` a JVP and ``Jᵀ u`` a VJP of
    ``residual_of`` (flat parameters -> residual vector) at ``theta``: J is never formed.
    λ = damping · trace(JᵀJ)/P, the trace estimated from `PROBES` random ±1 vectors."""
    residual, jvp = jax.linearize(residual_of, theta)
    vjp = jax.linear_transpose(jvp, theta)
    probes = jax.random.rademacher(key, (PROBES, theta.shape[0]), theta.dtype)
    trace = jnp.mean(jax.vmap(lambda v: jnp.sum(jvp(v) ** 2))(probes))
    shift = damping * trace / theta.shape[0]
    operator = lambda v: vjp(jvp(v))[0] + shift * v
    direction, _ = jax.scipy.sparse.linalg.cg(operator, vjp(residual)[0], maxiter=CG_STEPS,
                                              tol=1e-10)
    return direction


def engd(damping: float = 1e-10, adaptive: bool = True) -> optax.GradientTransformationExtraArgs:
    """The ENGD step as an optax transformation.

    ``update(updates, state, params, *, value_fn, residual_fn, jacobian_fn, rows_fn, form)``:
    ``residual_fn(params)`` is the weighted residual vector r (M,) with loss |r|²,
    ``jacobian_fn(params)`` its Jacobian (M, P) in `ravel_pytree` order, ``form`` one of
    `FORMS` (`choose_form`; matrix-free needs only ``residual_fn``); or, for a loss with
    minimize terms, ``rows_fn(params)`` the rows R of half its generalized Gauss–Newton matrix
    (the step then solves with RᵀR and the gradient of ``value_fn``). ``value_fn(params)`` is
    the loss to line-search on, and ``value`` its value at ``params`` where the caller has it;
    ``updates`` is ignored. Returns the parameter update (zero when
    no step length lowers the loss) and the new state.
    """
    def init(params) -> EngdState:
        dtype = ravel_pytree(params)[0].dtype
        return EngdState(jnp.asarray(True), jnp.asarray(0.0, dtype), jnp.asarray(damping, dtype))

    def update(updates, state, params, *, value_fn: Callable, residual_fn: Callable | None = None,
               jacobian_fn: Callable | None = None, rows_fn: Callable | None = None,
               form: str | None = None, value: jax.Array | None = None, **extra):
        del updates, extra
        theta, unravel = ravel_pytree(params)
        if rows_fn is not None:  # minimize terms: the generalized Gauss–Newton matrix
            gradient = ravel_pytree(jax.grad(value_fn)(params))[0]
            direction = generalized_direction(rows_fn(params), gradient, state.damping)
        elif form == "matrix-free":
            direction = matrix_free_direction(lambda t: residual_fn(unravel(t)), theta,
                                              state.damping, jax.random.key(0))
        else:
            direction = gauss_newton_direction(jacobian_fn(params), residual_fn(params),
                                               state.damping, form)
        sizes = 2.0 ** -jnp.arange(GRID, dtype=theta.dtype)
        losses = jax.vmap(lambda a: value_fn(unravel(theta - a * direction)))(sizes)
        losses = jnp.where(jnp.isfinite(losses), losses, jnp.inf)
        best = jnp.argmin(losses)
        current = value_fn(params) if value is None else value
        accepted = losses[best] < current
        size = jnp.where(accepted, sizes[best], 0.0)
        if adaptive:
            low, high = DAMPING_RANGE
            factor = jnp.where(size >= 0.5, 0.5, jnp.where(size >= 2.0 ** -4, 1.0, 4.0))
            new_damping = jnp.clip(state.damping * factor, low, high)
        else:
            new_damping = state.damping
        return unravel(-size * direction), EngdState(accepted, size, new_damping)

    return optax.GradientTransformationExtraArgs(init, update)
