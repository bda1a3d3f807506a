"""Self-scaled Broyden (SSBroyden), a dense quasi-Newton method, as an optax transformation.

Urbán, Stefanou & Pons, "Unveiling the optimization process of physics informed neural networks:
how accurate and competitive can PINNs be?" (J. Comput. Phys. 2025, arXiv 2405.04230), eqs.
13-23: a member of Broyden's family whose inverse-Hessian update is rescaled by ``1/tau`` and
weighted by ``phi`` chosen from the last step, so that the approximation's spectrum stays
well conditioned on the badly scaled losses of PINNs. No well-kept JAX library ships it
(optax has L-BFGS; optimistix has BFGS and DFP, not self-scaled), so it is written here in
optax's style and chained, as `optax.lbfgs` is, with optax's zoom line search (strong Wolfe
conditions).

The inverse Hessian is dense, P x P: for networks of up to a few thousand parameters (the
3x32 default has 2,241: 40 MB in float64). Each step costs O(P^2) besides the line search's
loss-and-gradient evaluations.
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree

# Bounds of the accepted curvature ratio 1/b (sigma_2 >= C3, sigma_3 >= C4) and the threshold
# NU of the rescaling by b, as in the paper.
C3, C4, NU = 0.9, 9.0, 0.5


class SSBroydenState(NamedTuple):
    inverse_hessian: jax.Array  # (P, P)
    last_iterate: jax.Array     # the previous iterate, flat (names unlike the line search's
    last_gradient: jax.Array    # `value` and `grad`, which optax looks up by name)
    last_direction: jax.Array   # the search direction taken from there
    count: jax.Array            # steps so far


def ssbroyden_update(H, s, y, g, alpha, first):
    """The next inverse Hessian from step ``s = alpha * p`` (``p = -H g``) and gradient change
    ``y``; ``first``: H is still the initial identity. Where the curvature is unusable (a
    non-positive or non-finite denominator) H is kept."""
    n = s.shape[0]
    ys = y @ s
    Bs = -alpha * g                       # B s with B = H^-1, since s = -alpha H g
    b = (s @ Bs) / ys
    # bring the curvature ratio 1/b into [1 - sigma2, 1 + sigma3] by modifying y
    sigma2 = jnp.maximum(C3, 1 - 1 / alpha)
    sigma3 = jnp.maximum(C4, 1 / alpha - 1)
    phi_low, phi_high = sigma2 / (1 - 1 / b), sigma3 / (1 / b - 1)
    shrink = jnp.where(1 / b < 1 - sigma2, 1 - phi_low,
                       jnp.where(1 / b > 1 + sigma3, 1 - phi_high, 0.0))
    y_hat = y + shrink * (Bs - y)
    Hy = H @ y
    h = (y @ Hy) / ys
    theta = jnp.where(h < 1, 1 / (1 - b), 0.0)
    theta_tilde = 1 + theta * (b * h - 1)
    scale = jnp.maximum(jnp.maximum(theta_tilde ** (1.0 / (n - 1)), theta), 1.0)
    tau = jnp.where(first, h / theta_tilde,
                    jnp.where((NU < 1 / b) & (1 / b < 1), 1 / (b * scale), 1 / scale))
    Hy_hat = H @ y_hat
    yHy = y_hat @ Hy_hat
    ys_hat = s @ y_hat
    v = s / ys_hat - Hy_hat / yHy
    a_hat = (yHy / ys_hat) * b - 1
    phi = (1 - theta) / (1 + a_hat * theta)
    new = (H - jnp.outer(Hy_hat, Hy_hat) / yHy + phi * yHy * jnp.outer(v, v)) / tau \
        + jnp.outer(s, s) / ys_hat
    usable = (ys > 0) & (ys_hat > 0) & (yHy > 0) & jnp.all(jnp.isfinite(new))
    return jnp.where(usable, new, H)


def scale_by_ssbroyden() -> optax.GradientTransformation:
    """The search direction ``-H g``, H updated from the last step first."""
    def init(params):
        theta, _ = ravel_pytree(params)
        n = theta.shape[0]
        return SSBroydenState(jnp.eye(n, dtype=theta.dtype), theta, jnp.zeros_like(theta),
                              jnp.zeros_like(theta), jnp.asarray(0, jnp.int32))

    def update(updates, state, params=None):
        g, unravel = ravel_pytree(updates)
        theta, _ = ravel_pytree(params)
        s, y, p = theta - state.last_iterate, g - state.last_gradient, state.last_direction
        alpha = (s @ p) / jnp.maximum(p @ p, jnp.finfo(p.dtype).tiny)
        H = jax.lax.cond(
            (state.count > 0) & (alpha > 0),
            lambda: ssbroyden_update(state.inverse_hessian, s, y, state.last_gradient, alpha,
                                     state.count == 1),
            lambda: state.inverse_hessian)
        direction = -H @ g
        # a direction that does not descend (rounding in H) falls back on the gradient
        direction = jnp.where(direction @ g < 0, direction, -g)
        return unravel(direction), SSBroydenState(H, theta, g, direction, state.count + 1)

    return optax.GradientTransformation(init, update)


def ssbroyden(max_linesearch_steps: int = 20) -> optax.GradientTransformationExtraArgs:
    """SSBroyden with optax's zoom line search (strong Wolfe): use like `optax.lbfgs`, with
    ``update(grad, state, params, value=..., grad=..., value_fn=...)``."""
    return optax.chain(
        scale_by_ssbroyden(),
        optax.scale_by_zoom_linesearch(max_linesearch_steps=max_linesearch_steps,
                                       initial_guess_strategy="one"),
    )
