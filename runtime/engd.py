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


def choose_form(residuals: int, parameters: int) -> str:
    """'kernel' (solve with JJᵀ, M×M) when there are fewer residuals than parameters, else
    'parameter' (solve with JᵀJ, P×P): the smaller of the two systems."""
    return "kernel" if residuals < parameters else "parameter"


def gauss_newton_direction(jacobian: jax.Array, residual: jax.Array, damping: float) -> jax.Array:
    """The Gauss–Newton direction d with (JᵀJ + λI) d = Jᵀr, in the cheaper form.

    ``jacobian``: (M, P); ``residual``: (M,); returns (P,). λ = damping · mean diagonal.
    """
    m, p = jacobian.shape
    if choose_form(m, p) == "kernel":
        gram = jacobian @ jacobian.T
        shift = damping * jnp.trace(gram) / m
        factor = jax.scipy.linalg.cho_factor(gram + shift * jnp.eye(m, dtype=gram.dtype))
        return jacobian.T @ jax.scipy.linalg.cho_solve(factor, residual)
    gram = jacobian.T @ jacobian
    shift = damping * jnp.trace(gram) / p
    factor = jax.scipy.linalg.cho_factor(gram + shift * jnp.eye(p, dtype=gram.dtype))
    return jax.scipy.linalg.cho_solve(factor, jacobian.T @ residual)


def engd(damping: float = 1e-10, adaptive: bool = True) -> optax.GradientTransformationExtraArgs:
    """The ENGD step as an optax transformation.

    ``update(updates, state, params, *, residual_fn, jacobian_fn, value_fn)``:
    ``residual_fn(params)`` is the weighted residual vector r (M,) with loss |r|²,
    ``jacobian_fn(params)`` its Jacobian (M, P) in `ravel_pytree` order, ``value_fn(params)``
    the loss to line-search on, and ``value`` its value at ``params`` where the caller has it;
    ``updates`` is ignored. Returns the parameter update (zero when
    no step length lowers the loss) and the new state.
    """
    def init(params) -> EngdState:
        dtype = ravel_pytree(params)[0].dtype
        return EngdState(jnp.asarray(True), jnp.asarray(0.0, dtype), jnp.asarray(damping, dtype))

    def update(updates, state, params, *, residual_fn: Callable, jacobian_fn: Callable,
               value_fn: Callable, value: jax.Array | None = None, **extra):
        del updates, extra
        theta, unravel = ravel_pytree(params)
        residual = residual_fn(params)
        jacobian = jacobian_fn(params)
        direction = gauss_newton_direction(jacobian, residual, state.damping)
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
