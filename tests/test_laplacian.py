"""The forward Laplacian over a batch (`runtime/kernels/laplacian.py`) against `jax.hessian`, in
float64: every rule (elementwise functions, products, matrix products by weights, sums, and
the nested-JVP fallback), every layout (values that depend on the point and values that do
not), and in generated code: a term's residuals over its batch, at a single point (folx) and
in ENGD's per-point Jacobian rows."""
from __future__ import annotations

import contextlib

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import pytest

import pinnc
from pinnc.runtime.kernels.laplacian import forward_laplacian

jax.config.update("jax_enable_x64", True)

D = 5
W1 = jax.random.normal(jax.random.key(0), (D, 8))
W2 = jax.random.normal(jax.random.key(1), (8, 8))
w3 = jax.random.normal(jax.random.key(2), (8,))
FUNCTIONS = {
    "mlp": lambda p: jnp.tanh(jnp.tanh(p @ W1) @ W2) @ w3,
    "logistic and sin": lambda p: jnp.sum(jnp.sin(jax.nn.sigmoid(p @ W1) @ W2)),
    "quotient, log1p, sqrt": lambda p: (jnp.sin(p[0] * p[1]) / (1 + p[2] ** 2)
                                        + jnp.exp(p @ W1).sum() * jnp.log1p(p[3] ** 2)
                                        + jnp.sqrt(1 + p[4]) * p[0] ** 3),
    "pow, where, maximum": lambda p: ((1.5 + jnp.cos(p).sum()) ** 2.5
                                      + jnp.where(p[0] > 0.5, p[1] ** 2, p[2] ** 3)
                                      + jnp.maximum(p[3], 0.2) ** 2),
    "concatenate, norm": lambda p: (jnp.sum(jnp.tanh(jnp.concatenate([p, p ** 2]) * 2.0))
                                    + jnp.linalg.norm(p)),
    "a field of some coordinates": lambda p: jnp.tanh(p[jnp.array([0, 2, 4])] @ W1[:3]) @ W2 @ w3,
    "weights on the left": lambda p: jnp.sum(jnp.tanh(W1.T @ p) ** 3),
    "linear": lambda p: 3.0 * p[1] - p[2],
    "constant": lambda p: jnp.sum(W1) + 0.0 * p[0],
}


@pytest.mark.parametrize("along", [(0, 1, 2, 3, 4), (3, 1)])
@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_value_gradient_and_laplacian_match_the_hessian(name, along):
    f = FUNCTIONS[name]
    points = jax.random.uniform(jax.random.key(3), (7, D))
    value, gradient, laplacian = jax.jit(lambda P: forward_laplacian(f, P, along))(points)
    assert value.shape == (7,) and gradient.shape == (7, len(along)) and laplacian.shape == (7,)
    hessians = jax.vmap(jax.hessian(f))(points)
    np.testing.assert_allclose(value, jax.vmap(f)(points), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gradient, jax.vmap(jax.grad(f))(points)[:, jnp.array(along)],
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(laplacian, sum(hessians[:, i, i] for i in along),
                               rtol=1e-10, atol=1e-11)


def test_parameter_gradient_matches_nested_jvps():
    """The reverse pass through the batch pass (the training gradient) is the gradient of the
    same loss written with nested JVPs."""
    points = jax.random.uniform(jax.random.key(4), (9, D))

    def loss(weights, laplacian_of):
        f = lambda p: jnp.tanh(jnp.tanh(p @ weights[0]) @ weights[1]) @ weights[2]
        return jnp.mean(laplacian_of(f) ** 2)

    def nested(f):
        def second(q, i):
            e = jnp.zeros(D).at[i].set(1.0)
            return jax.jvp(lambda r: jax.jvp(f, (r,), (e,))[1], (q,), (e,))[1]
        return jax.vmap(lambda q: sum(second(q, i) for i in range(D)))(points)
    weights = (W1, W2, w3)
    got = jax.jit(jax.grad(lambda w: loss(w, lambda f: forward_laplacian(
        f, points, tuple(range(D)))[2])))(weights)
    expected = jax.jit(jax.grad(lambda w: loss(w, nested)))(weights)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)


HIGH = 40  # above MAX_TAYLOR_LAPLACIAN_COORDS: the pass over the batch
COORDS = [f"x{i}" for i in range(1, HIGH + 1)]
SOURCE = ("domain O = box(" + ", ".join(f"{c} in [0, 1]" for c in COORDS) + ")\n"
          f"field u({', '.join(COORDS)})\n"
          "pde lap(u) + u*D(u, x2) = sin(x1) in O\nbc u = 0 on boundary(O)\n"
          "set model = mlp(hidden=[6, 6])\n")


@contextlib.contextmanager
def counted_batch_passes(module):
    """The number of coordinates of each forward-Laplacian pass over a whole batch that
    ``module`` makes while the block runs."""
    calls, original = [], module._laplacians

    def counting(f, points, along):
        calls.append(len(along))
        return original(f, points, along)
    module._laplacians = counting
    try:
        yield calls
    finally:
        module._laplacians = original


def test_generated_residuals_over_the_batch_and_at_one_point():
    problem = pinnc.compile_source(SOURCE, "high", points=6, boundary_points=3)
    (lap,) = problem.plan.term("pde1").fields[0].laplacians
    assert lap.method == "batched"
    params = problem.init(jax.random.key(0))
    batch = problem.sample(jax.random.key(1))
    points = batch["pde1"].points
    with counted_batch_passes(problem.module) as calls:
        got = jax.jit(problem.residuals)(params, batch)["pde1"]
    assert calls == [HIGH]  # one pass over the batch, along every coordinate
    f = problem.field_functions(params)["u"]
    reference = jax.jit(jax.vmap(lambda q: jnp.trace(jax.hessian(f)(q))
                                 + f(q) * jax.grad(f)(q)[1] - jnp.sin(q[0])))(points)
    np.testing.assert_allclose(got, reference, rtol=1e-9, atol=1e-10)
    # the term function at one point, without the batch's passes, takes folx's
    at_point = jax.jit(lambda q: problem.module.pde1(problem.field_functions(params), {}, q))
    np.testing.assert_allclose(jnp.stack([at_point(q) for q in points[:2]]), reference[:2],
                               rtol=1e-9, atol=1e-10)


def test_engd_rows_through_the_batch_pass_match_reverse_mode():
    problem = pinnc.compile_source(SOURCE, "high", points=4, boundary_points=2)
    params = problem.init(jax.random.key(0))
    batch = problem.sample(jax.random.key(1))
    theta, unravel = jax.flatten_util.ravel_pytree(params)
    expected = jax.jit(jax.jacrev(lambda t: problem.residual_vector(unravel(t), batch)))(theta)
    np.testing.assert_allclose(jax.jit(problem.residual_jacobian)(params, batch), expected,
                               rtol=1e-9, atol=1e-11)


def test_terms_sharing_points_hand_each_point_both_fields_passes():
    source = SOURCE.replace("pde lap(u) + u*D(u, x2) = sin(x1) in O\n",
                            f"field v({', '.join(COORDS)})\n"
                            "pde lap(u) = v in O\npde lap(v) + u*D(u, x2) = sin(x1) in O\n"
                            "bc v = 0 on boundary(O)\n")
    problem = pinnc.compile_source(source, "pair", points=5, boundary_points=3)
    assert problem.ir.point_sets()[0] == ("pde1", "pde2")
    assert set(problem.module.SHARED_RESIDUALS) == {("pde1", "pde2"), ("bc1", "bc2")}
    params = problem.init(jax.random.key(0))
    batch = problem.sample(jax.random.key(1))
    with counted_batch_passes(problem.module) as calls:
        got = jax.jit(problem.residuals)(params, batch)
    assert calls == [HIGH, HIGH]  # u's pass and v's, each over the batch once
    fields = problem.field_functions(params)
    f_u, f_v = fields["u"], fields["v"]
    lap = lambda f: lambda q: jnp.trace(jax.hessian(f)(q))
    points = batch["pde1"].points
    first = jax.jit(jax.vmap(lambda q: lap(f_u)(q) - f_v(q)))(points)
    second = jax.jit(jax.vmap(lambda q: lap(f_v)(q) + f_u(q) * jax.grad(f_u)(q)[1]
                              - jnp.sin(q[0])))(points)
    np.testing.assert_allclose(got["pde1"], first, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(got["pde2"], second, rtol=1e-9, atol=1e-10)
