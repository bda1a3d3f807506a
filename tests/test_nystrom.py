"""The Nyström natural gradient: the sketched direction against ENGD's, and training with it."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree
from optax.tree_utils import tree_get

import pinnc
from pinnc.runtime.optim.engd import gauss_newton_direction, line_search
from pinnc.runtime.optim.nystrom import (choose_form, dense_products, matrix_free_products,
                                         nystrom, nystrom_direction)

jax.config.update("jax_enable_x64", True)

POISSON_1D = """domain I = interval(x in [0, 1])
field u(x)
pde  Dxx(u) = -pi^2*sin(pi*x)   in I
bc   u = 0                      on boundary(I)
exact u = sin(pi*x)
"""


def small_residual(m: int, p: int):
    """A nonlinear residual (p,) -> (m,) with a moderately conditioned Jacobian, and a point."""
    rng = np.random.default_rng(0)
    A = jnp.asarray(rng.normal(size=(m, p)) * np.logspace(0, 1, p) / np.sqrt(p))
    y = jnp.asarray(rng.normal(size=m))
    return (lambda t: jnp.tanh(A @ t) - y), jnp.asarray(rng.normal(size=p)) * 0.3


def products(residual, theta, form):
    if form == "matrix-free":
        return matrix_free_products(residual, theta)
    return dense_products(jax.jacfwd(residual)(theta), residual(theta))


@pytest.mark.parametrize("products_form", ["jacobian", "matrix-free"])
@pytest.mark.parametrize("m, p, form", [(40, 12, "parameter"), (12, 40, "kernel")])
def test_a_full_rank_sketch_is_the_gauss_newton_direction(m, p, form, products_form):
    residual, theta = small_residual(m, p)
    jacobian = jax.jacfwd(residual)(theta)
    # ENGD's kernel form scales its damping by trace/M, its parameter form (and this) by trace/P
    damping = 1e-6 * m / p if form == "kernel" else 1e-6
    exact = gauss_newton_direction(jacobian, residual(theta), damping, form)
    for cg in (0, 2):
        sketched = nystrom_direction(products(residual, theta, products_form), p, 1e-6, p, cg,
                                     jax.random.key(1))
        np.testing.assert_allclose(sketched, exact, rtol=1e-9, atol=1e-12)


def test_the_full_rank_step_on_a_pinn_is_engds():
    problem = pinnc.compile_source(POISSON_1D, points=30, boundary_points=2,
                                   model="mlp(hidden=[6], activation=tanh)")
    params = problem.init(jax.random.key(0))
    batch = problem.sample(jax.random.key(1))
    theta, unravel = ravel_pytree(params)
    residual_of = lambda t: problem.residual_vector(unravel(t), batch)
    jacobian = problem.residual_jacobian(params, batch)              # (32, 19)
    exact = gauss_newton_direction(jacobian, residual_of(theta), 1e-6, "parameter")
    size = theta.shape[0]
    sketched = jax.jit(lambda t: nystrom_direction(matrix_free_products(residual_of, t), size,
                                                   1e-6, size, 0, jax.random.key(0)))(theta)
    # round-off of either solve: the Gram matrix's condition number (~1e7 here) times eps
    error = jnp.linalg.norm(sketched - exact) / jnp.linalg.norm(exact)
    assert float(error) < 1e-8, float(error)


def test_a_low_rank_sketch_descends_and_cg_refines_it():
    residual, theta = small_residual(60, 30)
    exact = gauss_newton_direction(jax.jacfwd(residual)(theta), residual(theta), 1e-6,
                                   "parameter")
    error = lambda d: float(jnp.linalg.norm(d - exact) / jnp.linalg.norm(exact))
    sketched = nystrom_direction(products(residual, theta, "jacobian"), 30, 1e-6, 8, 0,
                                 jax.random.key(2))
    refined = nystrom_direction(products(residual, theta, "matrix-free"), 30, 1e-6, 8, 30,
                                jax.random.key(2))
    gradient = jax.grad(lambda t: jnp.sum(residual(t) ** 2))(theta)
    assert float(sketched @ gradient) > 0  # -d descends
    assert error(refined) < error(sketched) / 100, (error(refined), error(sketched))


def test_the_step_never_raises_the_loss_and_draws_a_new_sketch():
    residual, theta = small_residual(40, 12)
    params = {"w": theta}
    residual_fn = lambda q: residual(q["w"])
    value_fn = lambda q: jnp.sum(residual_fn(q) ** 2)
    transform = nystrom(rank=4)
    state = transform.init(params)
    for step in range(3):
        before = float(value_fn(params))
        updates, state = transform.update(params, state, params, residual_fn=residual_fn,
                                          value_fn=value_fn)
        params = jax.tree.map(jnp.add, params, updates)
        assert float(value_fn(params)) <= before
        assert int(tree_get(state, "count")) == step + 1


def test_nystrom_trains_far_below_adam_in_the_same_steps():
    errors = {}
    for name, phase in [("adam", "adam(steps=100, lr=1e-2)"),
                        ("nystrom", "nystrom(steps=100, rank=16)")]:
        problem = pinnc.compile_source(POISSON_1D, points=200, boundary_points=2,
                                       model="mlp(hidden=[20, 20], activation=tanh)",
                                       optimizer=phase)
        result = problem.train(progress=False)
        assert result.metrics["status"] == "ok"
        errors[name] = result.metrics["fields"]["u"]["rel_l2"]
    # measured: Adam 3e-3; rank 16 of 481 parameters: 1e-7
    assert errors["nystrom"] < 1e-5, errors
    assert errors["nystrom"] < errors["adam"] / 100, errors


def test_rows_drawn_at_random_estimate_the_gram_matrix():
    problem = pinnc.compile_source(POISSON_1D, points=40, boundary_points=2,
                                   model="mlp(hidden=[6], activation=tanh)")
    params = problem.init(jax.random.key(0))
    batch = problem.sample(jax.random.key(1))
    whole = problem.residual_jacobian(params, batch)
    # every row drawn: the same rows in another order, the same scales
    every = problem.sampled_residual_jacobian(params, batch, jax.random.key(2), 42)
    np.testing.assert_allclose(every.T @ every, whole.T @ whole, rtol=1e-12)
    # 10 rows: 1 of the 2 boundary rows and 10 · 40/42 ≈ 10 interior rows, each scaled to
    # stand for its share; their mean over draws is the whole Gram matrix
    assert problem.sampled_residual_jacobian(params, batch, jax.random.key(3), 10).shape == \
        (11, whole.shape[1])
    gram = jax.jit(jax.vmap(lambda key: (lambda j: j.T @ j)(
        problem.sampled_residual_jacobian(params, batch, key, 10))))
    grams = gram(jax.random.split(jax.random.key(4), 400))
    error = np.linalg.norm(np.mean(grams, axis=0) - whole.T @ whole) / np.linalg.norm(
        whole.T @ whole)
    assert error < 0.05, error


def test_a_sampled_sketch_and_whole_iterations_train_with_the_backtracking_search():
    problem = pinnc.compile_source(POISSON_1D, points=200, boundary_points=2,
                                   model="mlp(hidden=[20, 20], activation=tanh)",
                                   optimizer="nystrom(steps=100, rank=16, rows=64, search=1, "
                                             "cg=5)")
    result = problem.train(progress=False)
    assert result.metrics["solver"] == {"0:nystrom": "sampled"}
    losses = result.history["loss"]
    assert all(b <= a for a, b in zip(losses, losses[1:]))
    # measured: 2.6e-7 (64 of 202 rows a step, 5 iterations on the whole JᵀJ); without the
    # iterations 2e-3, with the whole Jacobian's sketch 1e-7, adam 9e-3
    assert result.metrics["fields"]["u"]["rel_l2"] < 1e-5, result.metrics["fields"]


def test_the_backtracking_search_finds_the_grids_length_with_fewer_losses():
    rng = np.random.default_rng(0)
    A, y = jnp.asarray(rng.normal(size=(30, 8))), jnp.asarray(rng.normal(size=30))
    evaluations = []

    def value_fn(q):
        evaluations.append(1)
        return jnp.sum((A @ q["w"] - y) ** 2)

    params = {"w": jnp.zeros(8)}
    gauss_newton = jnp.linalg.lstsq(A, y)[0]
    # along a least-squares line the loss is a parabola: the grid's best is where it turns
    for direction, best in ((gauss_newton, 1.0), (4 * gauss_newton, 0.25),
                            (-0.01 * jax.grad(value_fn)(params)["w"], None)):
        grid, _ = line_search(16).update({"w": direction}, line_search(16).init(params),
                                         params, value_fn=value_fn)
        evaluations.clear()
        with jax.disable_jit():
            search = line_search(1)
            updates, state = search.update({"w": direction}, search.init(params), params,
                                           value_fn=value_fn, value=value_fn(params))
        np.testing.assert_allclose(updates["w"], grid["w"], rtol=1e-12)
        size = float(tree_get(state, "step_size"))
        if best is not None:
            assert size == best
            # the lengths down to the best and one more, and the loss at the start
            assert len(evaluations) == int(np.log2(1 / best)) + 3, len(evaluations)


def test_the_jacobian_is_formed_only_where_it_fits():
    assert choose_form(10_240, 40_801, 8, budget=4 * 2**30) == "jacobian"      # 3.3 GB
    assert choose_form(10_240, 40_801, 8, budget=3 * 2**30) == "matrix-free"


def test_the_matrix_free_form_trains_as_the_jacobian_form():
    results = {}
    for form in ("jacobian", "matrix-free"):
        problem = pinnc.compile_source(POISSON_1D, points=50, boundary_points=2,
                                       model="mlp(hidden=[8], activation=tanh)")
        params = problem.init(jax.random.key(0))
        batch = problem.sample(jax.random.key(1))
        residual_fn = lambda p: problem.residual_vector(p, batch)
        value_fn = lambda p: problem.loss(p, batch)
        transform = nystrom(rank=6)
        state = transform.init(params)
        step = jax.jit(lambda params, state: transform.update(
            None, state, params, residual_fn=residual_fn, value_fn=value_fn, form=form,
            jacobian_fn=lambda p: problem.residual_jacobian(p, batch)))
        for _ in range(5):
            updates, state = step(params, state)
            params = jax.tree.map(jnp.add, params, updates)
        results[form] = ravel_pytree(params)[0]
    np.testing.assert_allclose(results["matrix-free"], results["jacobian"], rtol=1e-6)


def test_minimize_terms_are_refused_at_their_line():
    source = ("domain Omega = box(x in [0, 1], y in [0, 1])\nfield u(x, y)\n"
              "minimize integral(0.5*dot(grad(u), grad(u)) - u)\n"
              "bc u = 0 on boundary(Omega)\n")
    with pytest.raises(pinnc.SpecError, match="nystrom") as error:
        pinnc.compile_source(source, optimizer="nystrom(steps=5)").train(progress=False)
    assert error.value.line == 3
