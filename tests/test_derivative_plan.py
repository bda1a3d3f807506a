"""Generated residuals, whatever strategy the derivative plan picks (nested JVP chains, forward
Laplacian, Taylor mode, directional JVPs), against an independent reference built from
`jax.hessian` / nested `jax.jacfwd` on the same networks, in float64."""
from __future__ import annotations

import itertools

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import pinnc

jax.config.update("jax_enable_x64", True)
SMALL = "set model = mlp(hidden=[12, 12])\n"


def box(coords):
    return "domain O = box(" + ", ".join(f"{c} in [0, 1]" for c in coords) + ")\n"


def residuals(source, label="pde1", points=12, seed=0):
    problem = pinnc.compile_source(source, "case", points=points)
    params = problem.init(jax.random.key(seed))
    batch = problem.sample(jax.random.key(seed + 1))
    return (problem, params, batch[label].points,
            jax.jit(problem.residuals)(params, batch)[label])


def derivative(f, index):
    """The partial of f along the coordinate indices ``index`` by nested jacfwd (reference)."""
    g = f
    for i in index:
        g = (lambda g, i: lambda q: jax.jacfwd(g)(q)[i])(g, i)
    return g


def close(got, expected):
    scale = max(1.0, float(jnp.max(jnp.abs(expected))))
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-10 * scale)


@pytest.mark.parametrize("dim", [1, 2, 3, 5, 20, 100])
def test_laplacian_in_any_dimension(dim):
    coords = [f"x{i}" for i in range(1, dim + 1)]
    source = box(coords) + f"field u({', '.join(coords)})\npde lap(u) = 0 in O\n" + SMALL
    problem, params, points, got = residuals(source, points=6 if dim == 100 else 12)
    if dim > 1:  # one pass: a collapsed Taylor pass of order 2 up to 32 coordinates, beyond
        # one pass over the whole batch
        (lap,) = problem.plan.term("pde1").fields[0].laplacians
        assert lap.method == ("taylor" if dim <= 32 else "batched")
    f = problem.field_functions(params)["u"]
    expected = jax.jit(jax.vmap(lambda q: jnp.trace(jax.hessian(f)(q))))(points)
    close(got, expected)


def test_laplacian_leaves_out_t_and_mixes_with_other_derivatives():
    source = (box(["x", "y", "t"]) + "field u(x, y, t)\n"
              "pde Dt(u) - 0.1*lap(u) + u*Dx(u) - Dxy(u) = 0 in O\n" + SMALL)
    problem, params, points, got = residuals(source)
    f = problem.field_functions(params)["u"]

    def reference(q):
        h, g = jax.hessian(f)(q), jax.grad(f)(q)
        return g[2] - 0.1 * (h[0, 0] + h[1, 1]) + f(q) * g[0] - h[0, 1]
    close(got, jax.jit(jax.vmap(reference))(points))


ORDERS = {  # operator text -> multi-indices (x = 0, y = 1) with coefficients
    "Dx(u)": {(0,): 1}, "Dxx(u)": {(0, 0): 1}, "Dxy(u)": {(0, 1): 1},
    "Dxxx(u)": {(0, 0, 0): 1}, "Dxxy(u)": {(0, 0, 1): 1}, "Dxxxx(u)": {(0, 0, 0, 0): 1},
    "Dxxyy(u)": {(0, 0, 1, 1): 1}, "D(u, x, x, x, x, x, y)": {(0, 0, 0, 0, 0, 1): 1},
    "Dxxxx(u) + 2*Dxxyy(u) + Dyyyy(u)": {(0, 0, 0, 0): 1, (0, 0, 1, 1): 2, (1, 1, 1, 1): 1},
    "Dyyyyy(u) - 3*Dxxx(u) + Dyy(u)": {(1,) * 5: 1, (0, 0, 0): -3, (1, 1): 1},
}


@pytest.mark.parametrize("operator", ORDERS)
@pytest.mark.parametrize("activation", ["tanh", "sin"])
def test_pure_and_mixed_partials_to_high_order(operator, activation):
    source = (box(["x", "y"]) + f"field u(x, y)\npde {operator} = 0 in O\n"
              f"set model = mlp(hidden=[8, 8], activation={activation})\n")
    problem, params, points, got = residuals(source)
    f = problem.field_functions(params)["u"]
    expected = jax.jit(jax.vmap(lambda q: sum(c * derivative(f, m)(q)
                                              for m, c in ORDERS[operator].items())))(points)
    close(got, expected)


@pytest.mark.parametrize("activation", ["sigmoid", "softplus", "gelu"])
def test_strategies_under_other_activations(activation):
    source = (box(["x", "y"]) + "field u(x, y)\npde lap(u) + Dxxx(u) + u*Dy(u) = 0 in O\n"
              f"set model = mlp(hidden=[8, 8], activation={activation})\n")
    problem, params, points, got = residuals(source)
    f = problem.field_functions(params)["u"]

    def reference(q):
        h = jax.hessian(f)(q)
        return h[0, 0] + h[1, 1] + derivative(f, (0, 0, 0))(q) + f(q) * jax.grad(f)(q)[1]
    close(got, jax.jit(jax.vmap(reference))(points))


def test_system_of_fields_and_derivatives_of_expressions():
    source = (box(["x", "y"]) + "field u(x, y)\nfield v(x, y)\n"
              "pde lap(u) + v*Dx(u) + D(u^2, x) - lap(u*v) = 0 in O\n"
              "pde Dxy(v) - u^2 + Dxx(sin(u)*x) + dot(grad(v), [1, 2]) = 0 in O\n" + SMALL)
    problem, params, points, got1 = residuals(source)
    batch = problem.sample(jax.random.key(1))
    got2 = jax.jit(problem.residuals)(params, batch)["pde2"]
    fields = problem.field_functions(params)
    u, v = fields["u"], fields["v"]
    uv = lambda q: u(q) * v(q)
    first = lambda q: (jnp.trace(jax.hessian(u)(q)) + v(q) * jax.grad(u)(q)[0]
                       + jax.grad(lambda r: u(r) ** 2)(q)[0] - jnp.trace(jax.hessian(uv)(q)))
    second = lambda q: (jax.hessian(v)(q)[0, 1] - u(q) ** 2
                        + jax.hessian(lambda r: jnp.sin(u(r)) * r[0])(q)[0, 0]
                        + jnp.dot(jax.grad(v)(q), jnp.array([1.0, 2.0])))
    close(got1, jax.jit(jax.vmap(first))(points))
    close(got2, jax.jit(jax.vmap(second))(batch["pde2"].points))


@settings(max_examples=12, deadline=None)
@given(terms=st.lists(st.tuples(st.integers(-3, 3).filter(bool),
                                st.lists(st.sampled_from("xyz"), min_size=0, max_size=4),
                                st.booleans()), min_size=1, max_size=4))
def test_random_operators(terms):
    """Random sums of c * (u *) D(u, ...) over three coordinates, against nested jacfwd."""
    parts = []
    for c, index, times_u in terms:
        d = f"D(u, {', '.join(index)})" if index else "u"
        parts.append(f"{c}*{'u*' if times_u else ''}{d}")
    source = (box(["x", "y", "z"]) + "field u(x, y, z)\npde " + " + ".join(parts)
              + " = 0 in O\nset model = mlp(hidden=[6, 6])\n")
    problem, params, points, got = residuals(source, points=6)
    f = problem.field_functions(params)["u"]

    def reference(q):
        total = 0.0
        for c, index, times_u in terms:
            value = derivative(f, ["xyz".index(a) for a in index])(q)
            total = total + c * (f(q) * value if times_u else value)
        return total
    close(got, jax.jit(jax.vmap(reference))(points))


# --- terms sharing points ---------------------------------------------------------------------

SYSTEM = (box("xy") + "field u(x, y)\nfield v(x, y)\n"
          "pde Dx(u)*Dy(v) + lap(u) = sin(x) in O\n"
          "pde Dx(u) + Dyy(v) - u*v = 0 in O\n"
          "pde Dy(v) = 1 in O with points=7\n"
          "bc u = 0 on boundary(O)\nbc dn(v) = 0 on boundary(O)\n" + SMALL)


def test_terms_on_the_same_points_are_sampled_once_and_computed_together():
    problem = pinnc.compile_source(SYSTEM, "system", points=12, boundary_points=8)
    assert problem.ir.point_sets() == (("pde1", "pde2"), ("pde3",), ("bc1", "bc2"))
    batch = problem.sample(jax.random.key(1))
    assert batch["pde1"] is batch["pde2"] and batch["bc1"] is batch["bc2"]
    assert batch["pde3"].points.shape == (7, 2)  # its own number of points: its own set
    shared = problem.plan.shared[0]
    assert shared.labels == ("pde1", "pde2")
    u, v = shared.plan.fields
    # u, u_x (both equations) and lap(u): one forward-Laplacian pass, no chain at all
    assert u.chains == ()
    (lap,) = u.laplacians
    assert lap.coords == ("x", "y") and lap.value and lap.gradient == (("x",), None)
    assert sorted(v.needed) == [(), ("y",), ("y", "y")]
    (taylor,) = v.taylor  # v, v_y, v_yy from one Taylor pass along y
    assert (taylor.coord, taylor.order) == ("y", 2) and not v.chains
    # the merged residuals are each term's own, at the shared points
    params = problem.init(jax.random.key(0))
    together = jax.jit(problem.residuals)(params, batch)
    fields = problem.field_functions(params)
    for label in ("pde1", "pde2", "bc1", "bc2"):
        term = problem.module.TERM_RESIDUALS[label]
        alone = jax.jit(lambda p, entry, term=term: term(problem.field_functions(p),
                                                          p["params"], entry))
        close(together[label], alone(params, batch[label]))
    # and against the reference for the first equation
    f_u, f_v = fields["u"], fields["v"]
    reference = jax.jit(jax.vmap(lambda q: derivative(f_u, (0,))(q) * derivative(f_v, (1,))(q)
                                 + jnp.trace(jax.hessian(f_u)(q)) - jnp.sin(q[0])))
    close(together["pde1"], reference(batch["pde1"].points))


def test_shared_plan_is_shown_and_jacobian_rows_follow_the_terms():
    problem = pinnc.compile_source(SYSTEM, "system", points=5, boundary_points=4,
                                   model="mlp(hidden=[4])")
    from pinnc.compiler.derivatives import describe
    text = describe(problem.plan)
    assert "terms pde1, pde2 together (shared points in x, y):" in text
    assert "terms bc1, bc2 together" in text
    params = problem.init(jax.random.key(0))
    batch = problem.sample(jax.random.key(1))
    theta, unravel = jax.flatten_util.ravel_pytree(params)
    expected = jax.jit(jax.jacrev(lambda t: problem.residual_vector(unravel(t), batch)))(
        theta)
    np.testing.assert_allclose(jax.jit(problem.residual_jacobian)(params, batch), expected,
                               rtol=1e-10, atol=1e-12)


def test_the_plan_carries_the_symbols_fields_and_feature_split_codegen_prints():
    source = ("domain O = box(x in [0, 1], y in [0, 1], t in [0, 1])\nfield u(x, y, t)\n"
              "field v(y)\nparam k = 2\npde Dt(u) = k*lap(u) + x*Dyy(v) in O\n"
              "minimize integral(0.5*dot(grad(u), grad(u)) - k*u)\n")
    problem = pinnc.compile_source(source, "case", points=4)
    pde = problem.plan.term("pde1")
    assert [str(s) for s in pde.symbols] == ["k", "x"]
    assert {f.field: f.args for f in pde.fields} == {"u": ("x", "y", "t"), "v": ("y",)}
    assert pde.features is None
    features = problem.plan.term("minimize1").features
    assert [str(n) for n in features.values.expr.args] == [str(n) for n in
                                                           problem.plan.term("minimize1").nodes]
    # the integrand of the values: no field is left, each value a symbol of its own
    assert not features.integrand.nodes and not features.integrand.fields
    assert set(features.inputs) <= set(features.integrand.symbols)
