"""ENGD: the Gauss–Newton step, its line search, the per-point Jacobian, and training with it."""
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree
from optax.tree_utils import tree_get

import pinnc
from pinnc.runtime.optim.engd import (choose_form, engd, gauss_newton_direction,
                                matrix_free_direction)

jax.config.update("jax_enable_x64", True)
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("m, p", [(40, 12), (12, 40)])
def test_one_step_solves_a_linear_least_squares_problem(m, p):
    rng = np.random.default_rng(0)
    A = jnp.asarray(rng.normal(size=(m, p)))
    y = jnp.asarray(rng.normal(size=m))
    theta = jnp.asarray(rng.normal(size=p))
    d = gauss_newton_direction(A, A @ theta - y, damping=1e-14)
    solved = theta - d
    if m > p:  # overdetermined: the least-squares solution
        expected = np.linalg.lstsq(np.asarray(A), np.asarray(y), rcond=None)[0]
        np.testing.assert_allclose(solved, expected, rtol=1e-7, atol=1e-9)
    else:  # underdetermined: the residual vanishes
        np.testing.assert_allclose(A @ solved, y, atol=1e-7)


def test_the_form_is_the_smaller_system_or_matrix_free_when_it_does_not_fit():
    assert choose_form(100, 2000) == "kernel"
    assert choose_form(3000, 2000) == "parameter"
    # J (M x P) and the smaller Gram matrix, in float64: 8 * (3000*2000 + 2000**2) = 80 MB
    assert choose_form(3000, 2000, 8, budget=80_000_000) == "parameter"
    assert choose_form(3000, 2000, 8, budget=79_999_999) == "matrix-free"
    assert choose_form(10**6, 10**5) == "matrix-free"  # 8e11 bytes fit no machine here


def test_the_matrix_free_solve_matches_the_dense_one():
    rng = np.random.default_rng(3)
    A = jnp.asarray(rng.normal(size=(30, 12)) * np.logspace(0, 2, 12))
    y = jnp.asarray(rng.normal(size=30))
    theta = jnp.asarray(rng.normal(size=12))
    dense = gauss_newton_direction(A, A @ theta - y, damping=1e-10)
    free = matrix_free_direction(lambda t: A @ t - y, theta, 1e-10, jax.random.key(0))
    np.testing.assert_allclose(free, dense, rtol=1e-6)


def test_the_line_search_never_raises_the_loss():
    params = {"w": jnp.asarray([1.0, -2.0])}
    transform = engd()
    state = transform.init(params)
    # A residual whose Gauss-Newton direction points uphill for the loss searched on.
    residual_fn = lambda p: p["w"]
    jacobian_fn = lambda p: -jnp.eye(2)
    value_fn = lambda p: jnp.sum(p["w"] ** 2)
    updates, state = transform.update(params, state, params, residual_fn=residual_fn,
                                      jacobian_fn=jacobian_fn, value_fn=value_fn)
    assert not bool(tree_get(state, "accepted"))
    np.testing.assert_array_equal(updates["w"], 0.0)
    # and with the right Jacobian the full step is taken and solves it
    updates, state = transform.update(params, state, params, residual_fn=residual_fn,
                                      jacobian_fn=lambda p: jnp.eye(2), value_fn=value_fn)
    assert bool(tree_get(state, "accepted")) and float(tree_get(state, "step_size")) == 1.0
    np.testing.assert_allclose(params["w"] + updates["w"], 0.0, atol=1e-8)


@pytest.mark.parametrize("name", ["integro", "neumann", "heat_inverse", "system"])
def test_per_point_jacobian_matches_reverse_mode_of_the_whole_vector(name):
    problem = pinnc.compile_file(EXAMPLES / f"{name}.pde", points=40, boundary_points=16,
                                 model="mlp(hidden=[6], activation=tanh)")
    params = problem.init(jax.random.key(0))
    batch = problem.sample(jax.random.key(1))
    theta, unravel = ravel_pytree(params)
    expected = jax.jit(jax.jacrev(lambda t: problem.residual_vector(unravel(t), batch)))(
        theta)
    np.testing.assert_allclose(jax.jit(problem.residual_jacobian)(params, batch), expected,
                               rtol=1e-10, atol=1e-12)
    residual = problem.residual_vector(params, batch)
    assert float(jnp.sum(residual ** 2)) == pytest.approx(float(problem.loss(params, batch)))


def test_engd_recovers_a_parameter_of_an_inverse_problem():
    problem = pinnc.compile_file(EXAMPLES / "heat_inverse.pde", points=300, boundary_points=60,
                                 model="mlp(hidden=[16, 16], activation=tanh)",
                                 optimizer="engd(steps=40)")
    result = problem.train(progress=False)
    assert result.metrics["status"] == "ok"
    assert result.metrics["params"]["kappa"] == pytest.approx(0.1, rel=0.02)
    losses = result.history["loss"]
    assert all(b <= a for a, b in zip(losses, losses[1:]))  # never increases


def test_generalized_gauss_newton_of_the_dirichlet_energy_is_the_energy_inner_product():
    source = ("let f = 2*pi^2*sin(pi*x)*sin(pi*y)\n"
              "domain Omega = box(x in [0, 1], y in [0, 1])\nfield u(x, y)\n"
              "minimize integral(0.5*dot(grad(u), grad(u)) - f*u)\n"
              "bc u = 0 on boundary(Omega) with weight=100\n")
    problem = pinnc.compile_source(source, points=20, boundary_points=8, model="mlp(hidden=[5])")
    params = problem.init(jax.random.key(0))
    batch = problem.sample(jax.random.key(1))
    theta, unravel = ravel_pytree(params)
    rows = jax.jit(problem.gauss_newton_rows)(params, batch)
    u = lambda t, q: problem.field_functions(unravel(t))["u"](q)
    gradient_u = jax.vmap(jax.jacrev(jax.grad(u, argnums=1)), in_axes=(None, 0))  # (N, 2, P)
    inside, edge = batch["minimize1"], batch["bc1"]
    G = jnp.einsum("nkp,nkq->pq", *(2 * [gradient_u(theta, inside.points)]))
    G = G * float(inside.measure) / inside.points.shape[0]      # energy: integral of grad.grad
    values = jax.vmap(jax.grad(u), in_axes=(None, 0))(theta, edge.points)  # (N, P)
    B = 2 * 100.0 * values.T @ values / edge.points.shape[0]       # bc weight 100, squared
    np.testing.assert_allclose(rows.T @ rows, (G + B) / 2, rtol=1e-9, atol=1e-12)


def test_engd_trains_minimize_terms():
    problem = pinnc.compile_file(EXAMPLES / "seed.pde", optimizer="engd(steps=20)")
    result = problem.train(progress=False)
    assert result.metrics["solver"] == {"0:engd": "generalized"}
    x = jnp.linspace(-3, 3, 41)
    X, Y = jnp.meshgrid(x, x)
    values = result.field("u")(jnp.stack([X.ravel(), Y.ravel()], 1)).reshape(X.shape)
    assert float(jnp.max(values.max(axis=1) - values.min(axis=1))) < 1e-4
