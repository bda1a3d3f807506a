"""The self-scaled Broyden optimizer: convergence on functions with known minima, the update's
invariants, and training a PINN with it."""
from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import pinnc
from pinnc.runtime.optim.ssbroyden import ssbroyden, ssbroyden_update

jax.config.update("jax_enable_x64", True)
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def minimize(f, x0, steps):
    transform = ssbroyden()
    value_and_grad = optax.value_and_grad_from_state(f)

    def step(carry, _):
        x, state = carry
        value, grad = value_and_grad(x, state=state)
        updates, state = transform.update(grad, state, x, value=value, grad=grad, value_fn=f)
        return (optax.apply_updates(x, updates), state), value
    (x, state), values = jax.lax.scan(step, (x0, transform.init(x0)), None, length=steps)
    return x, state, values


def rosenbrock(x):
    return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def test_rosenbrock_is_solved_to_machine_precision():
    x, _, values = minimize(rosenbrock, jnp.array([-1.2, 1.0, -1.2, 1.0, 0.5]), 200)
    np.testing.assert_allclose(x, 1.0, atol=1e-8)
    assert float(rosenbrock(x)) < 1e-16
    assert all(b <= a for a, b in zip(values, values[1:]))  # Wolfe steps never go up


def test_ill_conditioned_quadratic_and_the_inverse_hessian():
    n = 20
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    A = jnp.asarray(Q @ np.diag(np.logspace(0, 6, n)) @ Q.T)
    f = lambda x: 0.5 * x @ A @ x
    x, state, _ = minimize(f, jnp.ones(n), 200)
    assert float(jnp.linalg.norm(A @ x)) < 1e-8
    H = state[0].inverse_hessian
    np.testing.assert_allclose(H, H.T, atol=1e-10 * float(jnp.max(jnp.abs(H))))
    assert float(jnp.min(jnp.linalg.eigvalsh(H))) > 0


def test_one_update_satisfies_the_secant_equation():
    rng = np.random.default_rng(1)
    n = 6
    M = rng.normal(size=(n, n))
    H = jnp.asarray(M @ M.T + n * np.eye(n))
    g = jnp.asarray(rng.normal(size=n))
    s = -0.3 * H @ g
    y = 2 * jnp.linalg.solve(H, s)  # curvature twice H's: 1/b = 2 is inside the accepted band
    new = ssbroyden_update(H, s, y, g, 0.3, False)
    # so y is not modified and the new H satisfies the secant equation H y = s
    np.testing.assert_allclose(new @ y, s, rtol=1e-10)


def test_trains_a_pinn():
    problem = pinnc.compile_file(EXAMPLES / "poisson.pde", points=100, boundary_points=40,
                                 model="mlp(hidden=[10, 10])",
                                 optimizer="adam(steps=200, lr=1e-2) then ssbroyden(steps=300)")
    result = problem.train(progress=False)
    assert result.metrics["status"] == "ok"
    losses = result.history["loss"]
    assert losses[-1] < 1e-3 * losses[0]
    assert result.metrics["fields"]["u"]["rel_l2"] < 2e-2
