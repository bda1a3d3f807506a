"""Stages 3-4: the derivative plan and the generated module, tested by running it.

Residuals of the generated code are compared with derivatives computed independently: analytic
values for known functions, and `jax.hessian` / nested `jax.jacfwd` for a random network.
"""
import ast
import contextlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pinnc
from pinnc.compiler import derivatives
from pinnc.compiler.pipeline import compile_text
from pinnc.runtime.kernels import taylor
from pinnc.runtime.model import Entry, load_module

jax.config.update("jax_enable_x64", True)
RNG = np.random.default_rng(0)
POINTS = jnp.asarray(RNG.uniform(-0.9, 0.9, size=(16, 2)))


def module_for(source):
    compiled = compile_text(source, "case.pde")
    return compiled, load_module(compiled.source, "case")


@contextlib.contextmanager
def calls_of(module, name):
    """The arguments of every call the generated ``module`` makes to its function ``name``
    while the block runs (at trace time, under vmap)."""
    calls, original = [], getattr(module, name)

    def record(*args):
        calls.append(args)
        return original(*args)
    setattr(module, name, record)
    try:
        yield calls
    finally:
        setattr(module, name, original)


def residual(source, label, fields, params=None, points=POINTS):
    """Term ``label``'s residuals at ``points``, as the generated module computes them."""
    _, module = module_for(source)
    entry = Entry(measure=jnp.asarray(1.0), points=jnp.asarray(points))
    return module.TERM_RESIDUALS[label](fields, params or {}, entry)


BOX = "domain O = box(x in [-1, 1], y in [-1, 1])\nfield u(x, y)\n"


def test_laplacian_of_a_known_function():
    # u = sin(x) exp(2y): lap u = 3 u
    u = lambda p: jnp.sin(p[0]) * jnp.exp(2 * p[1])
    r = residual(BOX + "pde lap(u) = 3*u in O\n", "pde1", {"u": u})
    np.testing.assert_allclose(r, 0, atol=1e-12)


def test_third_order_mixed_and_nonlinear_terms_of_a_known_function():
    # u = x^3 y^2 + sin(y): Dxxy = 12 x y ; u*Dx(u) = u * 3x^2y^2
    u = lambda p: p[0] ** 3 * p[1] ** 2 + jnp.sin(p[1])
    r = residual(BOX + "pde Dxxy(u) + u*Dx(u) = 0 in O\n", "pde1", {"u": u})
    x, y = POINTS[:, 0], POINTS[:, 1]
    value = x ** 3 * y ** 2 + np.sin(y)
    np.testing.assert_allclose(r, 12 * x * y + value * 3 * x ** 2 * y ** 2, rtol=1e-12, atol=1e-12)


def mlp(key, widths=(2, 16, 16, 1)):
    keys = jax.random.split(key, len(widths) - 1)
    layers = [(jax.random.normal(k, (a, b)) / np.sqrt(a), jax.random.normal(k, (b,)) * 0.1)
              for k, a, b in zip(keys, widths[:-1], widths[1:])]

    def apply(p):
        z = p
        for w, b in layers[:-1]:
            z = jnp.tanh(z @ w + b)
        w, b = layers[-1]
        return (z @ w + b)[0]
    return apply


def test_network_residual_matches_hessian_and_jacfwd():
    u = mlp(jax.random.key(1))
    source = BOX + "param k = 0.7\npde inner: k*lap(u) + Dx(u)*Dy(u) - D(u, x, y, y) + sin(x)*u = exp(y) in O\n"
    r = residual(source, "inner", {"u": u}, {"k": jnp.asarray(0.7)})
    hess = jax.vmap(jax.hessian(u))(POINTS)
    grad = jax.vmap(jax.grad(u))(POINTS)
    third = jax.vmap(jax.jacfwd(jax.jacfwd(jax.jacfwd(u))))(POINTS)
    x, y = POINTS[:, 0], POINTS[:, 1]
    expected = (0.7 * (hess[:, 0, 0] + hess[:, 1, 1]) + grad[:, 0] * grad[:, 1] - third[:, 0, 1, 1]
                + np.sin(x) * jax.vmap(u)(POINTS) - np.exp(y))
    np.testing.assert_allclose(r, expected, rtol=1e-10, atol=1e-10)


def test_derivative_of_an_expression_follows_product_rule():
    u = mlp(jax.random.key(2))
    r = residual(BOX + "pde Dx(sin(x)*u) - Dyy(u^2) = 0 in O\n", "pde1", {"u": u})
    grad = jax.vmap(jax.grad(u))(POINTS)
    hess = jax.vmap(jax.hessian(u))(POINTS)
    value = jax.vmap(u)(POINTS)
    x = POINTS[:, 0]
    expected = np.cos(x) * value + np.sin(x) * grad[:, 0] - (2 * grad[:, 1] ** 2 + 2 * value * hess[:, 1, 1])
    np.testing.assert_allclose(r, expected, rtol=1e-10, atol=1e-10)


def test_field_of_fewer_coordinates_in_a_larger_domain():
    source = ("domain O = box(x in [-1, 1], t in [0, 1])\nfield u(x, t)\nfield v(x)\n"
              "pde Dt(u) = Dxx(v)*u in O\n")
    u = lambda p: jnp.exp(-p[1]) * jnp.cos(p[0])
    v = lambda q: jnp.sin(3 * q[0])
    r = residual(source, "pde1", {"u": u, "v": v})
    x, t = POINTS[:, 0], POINTS[:, 1]
    expected = -np.exp(-t) * np.cos(x) - (-9 * np.sin(3 * x)) * np.exp(-t) * np.cos(x)
    np.testing.assert_allclose(r, expected, rtol=1e-12, atol=1e-12)


def test_system_of_two_fields():
    source = BOX + "field v(x, y)\npde Dx(u) - Dy(v) = 0 in O\npde Dy(u) + Dx(v) = 0 in O\n"
    # u + iv = exp(z) is analytic: the Cauchy-Riemann residuals vanish
    u = lambda p: jnp.exp(p[0]) * jnp.cos(p[1])
    v = lambda p: jnp.exp(p[0]) * jnp.sin(p[1])
    for label in ("pde1", "pde2"):
        np.testing.assert_allclose(residual(source, label, {"u": u, "v": v}), 0, atol=1e-12)


def test_plan_computes_each_partial_once_and_reuses_lower_orders():
    compiled, _ = module_for(BOX + "pde Dxx(u) + Dx(u) + u + Dy(u) = 0 in O\n")
    (field,) = compiled.plan.term("pde1").fields
    assert set(field.needed) == {(), ("x",), ("x", "x"), ("y",)}
    passes = (*field.chains, *field.taylor)
    provided = [m for p in passes for m in p.outputs if m is not None]
    assert sorted(provided) == sorted(field.needed)  # each exactly once
    assert [(p.coord, p.order) for p in field.taylor] == [("x", 2)]  # u, u_x, u_xx
    assert [c.directions for c in field.chains] == [("y",)]
    assert "u_xx" in derivatives.describe(compiled.plan)


def test_generated_module_is_valid_python_without_dead_imports():
    compiled, module = module_for(BOX + "pde lap(u) = 1 in O\nbc u = 0 on boundary(O)\nexact u = x*y\n")
    tree = ast.parse(compiled.source)
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert {"jax", "jnp"} <= names
    imported = {a.asname or a.name for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
                for a in n.names}
    attributes = {n.value.id for n in ast.walk(tree)
                  if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)}
    assert imported - {"jax.numpy"} <= names | attributes  # each import is used
    assert {f.name for f in tree.body if isinstance(f, ast.FunctionDef)} >= {"pde1", "bc1", "loss", "residuals", "exact_u"}
    square = lambda p: p[0] ** 2 + 3 * p[1] ** 2
    np.testing.assert_allclose(jax.vmap(lambda p: module.pde1({"u": square}, {}, p))(POINTS), 7.0,
                               rtol=1e-12)  # lap(u) - 1
    np.testing.assert_allclose(jax.vmap(module.exact_u)(POINTS), POINTS[:, 0] * POINTS[:, 1])
    assert module.__doc__.startswith(f"Generated by pinnc {pinnc.__version__} from case.pde")


def test_user_names_that_clash_with_python_or_generated_names():
    source = ("domain O = box(x in [0, 1], jnp in [0, 1])\nfield lambda_(x, jnp)\nfield loss(x, jnp)\n"
              "param sum = 2\npde jax: Dx(lambda_) + sum*loss = 0 in O\n")
    compiled, module = module_for(source)
    f = lambda p: p[0] ** 2 + p[1]
    g = lambda p: jnp.cos(p[0])
    r = jax.vmap(lambda p: module.jax_(
        {"lambda_": f, "loss": g}, {"sum": 2.0}, p))(POINTS)
    np.testing.assert_allclose(r, 2 * POINTS[:, 0] + 2 * np.cos(POINTS[:, 0]), rtol=1e-12)


def test_minimize_term_value_is_measure_times_mean():
    compiled, module = module_for(BOX + "minimize integral(u^2) with weight=2\n")
    u = lambda p: p[0]
    batch = {"minimize1": Entry(points=POINTS, measure=jnp.asarray(4.0))}
    values = module.term_values({"u": u}, {}, batch)
    expected = 4.0 * np.mean(np.asarray(POINTS[:, 0]) ** 2)
    assert float(values["minimize1"]) == pytest.approx(expected)
    assert float(module.loss({"u": u}, {}, batch)) == pytest.approx(2 * expected)


# --- strategies chosen by the derivative plan ----------------------------------------------------

def _plan_of(source: str, label: str = "pde1"):
    from pinnc.compiler.pipeline import compile_text
    compiled = compile_text(source, "case.pde")
    return compiled.plan.term(label).fields[0], compiled


def test_laplacian_sum_becomes_one_forward_laplacian_pass():
    field, compiled = _plan_of("domain O = box(x in [0, 1], y in [0, 1], t in [0, 1])\n"
                               "field u(x, y, t)\npde Dt(u) = 0.1*lap(u) + u*Dx(u) + Dxy(u) in O\n")
    (lap,) = field.laplacians
    assert lap.coords == ("x", "y") and lap.value and lap.gradient == (("x",), None)
    assert [c.directions for c in field.chains] == [("x", "y"), ("t",)]
    assert field.needs() == ["u", "u_t", "u_x", "u_xx", "u_xy", "u_yy"]
    module = load_module(compiled.source, "case")
    assert not hasattr(module, "_laplacians")  # the pass over the batch: over 32 coordinates
    u = mlp(jax.random.key(6), (3, 16, 16, 1))
    points = np.random.default_rng(1).uniform(0, 1, (4, 3))
    with calls_of(module, "_laplacian_taylor") as calls:
        got = jax.vmap(lambda p: module.pde1({"u": u}, {}, p))(points)
    assert [along for _, _, along in calls] == [(0, 1)]  # one Taylor pass along x and y

    def reference(q):
        gradient, hessian = jax.grad(u)(q), jax.hessian(u)(q)
        return (gradient[2] - 0.1 * (hessian[0, 0] + hessian[1, 1]) - u(q) * gradient[0]
                - hessian[0, 1])
    np.testing.assert_allclose(got, jax.vmap(reference)(points), rtol=1e-10, atol=1e-12)


def test_unequal_coefficients_are_not_a_laplacian():
    field, _ = _plan_of("domain O = box(x in [0, 1], y in [0, 1])\nfield u(x, y)\n"
                        "pde Dxx(u) + 2*Dyy(u) = 0 in O\n")
    assert not field.laplacians and [(p.coord, p.order) for p in field.taylor] == [("x", 2),
                                                                                   ("y", 2)]


def test_taylor_mode_for_repeated_coordinates_and_chains_for_the_rest():
    # Dxxxx + x*Dyyyy and u*Dxxyy are no constant-coefficient sum: no collapsed pass
    field, compiled = _plan_of("domain O = box(x in [0, 1], y in [0, 1])\nfield u(x, y)\n"
                               "pde Dxxxx(u) + u*Dxxyy(u) + x*Dyyyy(u) + Dxx(u) = 0 in O\n")
    assert not field.collapsed
    assert [(p.coord, p.order, p.around) for p in field.taylor] == [
        ("x", 4, ()), ("y", 4, ()), ("x", 2, ("y", "y"))]  # two repeat: JVPs along y twice
    assert field.taylor[0].outputs == ((), None, ("x", "x"), None, ("x",) * 4)
    assert field.taylor[2].outputs == (None,) * 11 + (("x", "x", "y", "y"),) and not field.chains
    assert load_module(compiled.source, "case")._taylor_series is taylor.directional_derivatives
    # u_xxyz: x to order 2 under JVPs along y and z; the block of mask 3 takes both
    field, compiled = _plan_of("domain O = box(x in [0, 1], y in [0, 1], z in [0, 1])\n"
                               "field u(x, y, z)\npde D(u, x, x, y, z) + u = 0 in O\n")
    (p,) = field.taylor
    assert (p.coord, p.order, p.around) == ("x", 2, ("y", "z")) and not field.chains
    assert p.outputs == ((),) + (None,) * 10 + (("x", "x", "y", "z"),)
    module = load_module(compiled.source, "case")
    u = mlp(jax.random.key(7), (3, 16, 16, 1))
    points = np.random.default_rng(2).uniform(0, 1, (3, 3))
    with calls_of(module, "_taylor") as calls:
        got = jax.vmap(lambda p: module.pde1({"u": u}, {}, p))(points)
    assert [(axis, order, len(around)) for _, _, axis, order, around in calls] == [(0, 2, 2)]
    d4 = lambda q: jax.jacfwd(jax.jacfwd(jax.hessian(u)))(q)[0, 0, 1, 2] + u(q)
    np.testing.assert_allclose(got, jax.vmap(d4)(points), rtol=1e-10, atol=1e-12)
    assert ("1 Taylor-mode pass of order 2 along x in 2 nested jvps along y, z -> u, u_xxyz"
            in derivatives.describe(compiled.plan))
    # a coordinate taken once, as in Dxy, is a chain
    field, _ = _plan_of("domain O = box(x in [0, 1], y in [0, 1])\nfield u(x, y)\n"
                        "pde Dxx(u) + u*Dxy(u) = 0 in O\n")
    assert [c.directions for c in field.chains] == [("x", "y")]
    assert [(p.coord, p.order, p.around) for p in field.taylor] == [("x", 2, ())]


def test_a_constant_coefficient_sum_of_fourth_partials_takes_one_collapsed_pass():
    """The biharmonic: one collapsed Taylor pass along 3 directions (11 series, against 19
    values for two Taylor passes and a chain), whose residual matches nested jax.jacfwd; a
    sum whose decomposition takes more than its partials' chains stays with those."""
    source = ("domain O = box(x in [0, 1], y in [0, 1], t in [0, 1])\nfield u(x, y, t)\n"
              "pde Dxxxx(u) + 2*Dxxyy(u) + Dyyyy(u) + Dxx(u) = t in O\n")
    field, compiled = _plan_of(source)
    (p,) = field.collapsed
    assert p.order == 4 and len(p.directions) == 3
    assert p.partials == (("x",) * 4, ("x", "x", "y", "y"), ("y",) * 4)
    assert all(v[2] == 0 for v in p.directions)  # in the plane of x and y
    np.testing.assert_allclose(p.weights, [8 / 9] * 3, rtol=1e-12)
    assert [(t.coord, t.order) for t in field.taylor] == [("x", 2)] and not field.chains
    assert field.needs() == ["u_xx", "u_xxxx", "u_xxyy", "u_yyyy"]
    assert ("1 collapsed Taylor pass of order 4 along 3 directions (1, 0, 0), (0.5, 0.866, 0), "
            "(-0.5, 0.866, 0) -> 1*u_xxxx + 2*u_xxyy + 1*u_yyyy") in derivatives.describe(compiled.plan)

    def reference(u, q):
        d4 = jax.jacfwd(jax.jacfwd(jax.hessian(u)))(q)
        return (d4[0, 0, 0, 0] + 2 * d4[0, 0, 1, 1] + d4[1, 1, 1, 1]
                + jax.hessian(u)(q)[0, 0] - q[2])
    _assert_residual_matches(source, reference, 5)
    # x²y² + y²z² takes the axes and four diagonals: 2 + 7 x 3 series against 9 + 9 values
    field, _ = _plan_of("domain O = box(x in [0, 1], y in [0, 1], z in [0, 1])\n"
                        "field u(x, y, z)\npde Dxxyy(u) + Dyyzz(u) = 0 in O\n")
    assert not field.collapsed and not field.chains
    assert [(p.coord, p.order, p.around) for p in field.taylor] == [("x", 2, ("y", "y")),
                                                                     ("y", 2, ("z", "z"))]


def _assert_residual_matches(source: str, reference, count: int) -> None:
    """pde1's generated residual at ``count`` random points of the unit cube equals
    ``reference(u, q)`` (u: the field's network at one point) to 1e-10."""
    from pinnc.api import Problem
    problem = Problem.from_text(source, "case.pde")
    params = problem.init(jax.random.key(0))
    u = problem.field_functions(params)["u"]
    points = jax.random.uniform(jax.random.key(3), (count, len(problem.ir.coords)), jnp.float64)
    got = jax.jit(problem.residuals)(params, {"pde1": Entry(points=points, measure=1.0)})["pde1"]
    expected = jax.jit(jax.vmap(lambda q: reference(u, q)))(points)
    np.testing.assert_allclose(got, expected, rtol=1e-10)


@pytest.mark.parametrize("coefficients, count", [
    ({("x",) * 4: 1.0, ("y",) * 4: 1.0}, 2),
    ({("x",) * 4: 1.0, ("x", "x", "y", "y"): 2.0, ("y",) * 4: 1.0}, 3),
    ({("x",) * 4: 0.3, ("x",) * 3 + ("y",): -1.1, ("x", "x", "y", "y"): 2.0,
      ("x", "y", "y", "y"): 0.7, ("y",) * 4: -0.4}, 5),
    ({("x", "x", "y"): 1.0}, 3),  # 4 equally spaced directions, one of weight 0
])
def test_waring_directions_and_weights_give_the_operator(coefficients, count):
    """sum_i w_i (v_i . xi)**k equals the operator's symbol sum_m c_m xi^m at random xi, with
    the fewest equally spaced directions that do."""
    from pinnc.compiler.derivatives import waring
    order = len(next(iter(coefficients)))
    directions, weights = waring(coefficients, ["x", "y"], order)
    assert len(directions) == count
    for xi in np.random.default_rng(0).normal(size=(5, 2)):
        symbol = sum(c * np.prod([xi[0] if a == "x" else xi[1] for a in m])
                     for m, c in coefficients.items())
        powers = sum(w * (v[0] * xi[0] + v[1] * xi[1]) ** order
                     for v, w in zip(directions, weights))
        assert powers == pytest.approx(symbol, rel=1e-12, abs=1e-12)


def test_the_biharmonic_in_three_dimensions_takes_a_collapsed_pass_of_nine_directions():
    """(Dxx + Dyy + Dzz)^2 written out is 9 directions (the axes with weight 1/3, the
    diagonals (e_i ± e_j)/sqrt 2 with weight 2/3): 29 series, fewer than the 42 values of
    three Taylor passes and three chains; its residual matches nested jax.jacfwd. A monomial
    in three coordinates (Dxyz) has no decomposition on axes and diagonals."""
    import itertools
    from pinnc.compiler.derivatives import waring
    coefficients = {m: {(4,): 1.0, (2, 2): 2.0}[tuple(sorted(m.count(c) for c in set(m)))]
                    for m in itertools.combinations_with_replacement("xyz", 4)
                    if tuple(sorted(m.count(c) for c in set(m))) in ((4,), (2, 2))}
    directions, weights = waring(coefficients, ["x", "y", "z"], 4)
    np.testing.assert_allclose(sorted(weights), [1 / 3] * 3 + [2 / 3] * 6, rtol=1e-12)
    for xi in np.random.default_rng(0).normal(size=(3, 3)):
        assert sum(w * np.dot(v, xi) ** 4 for v, w in zip(directions, weights)) == \
            pytest.approx(np.dot(xi, xi) ** 2, rel=1e-12)
    assert waring({("x", "y", "z"): 1.0}, ["x", "y", "z"], 3) is None
    source = ("domain O = box(x in [0, 1], y in [0, 1], z in [0, 1])\nfield u(x, y, z)\n"
              "pde Dxxxx(u) + Dyyyy(u) + Dzzzz(u) + 2*Dxxyy(u) + 2*Dxxzz(u) + 2*Dyyzz(u) = 0 "
              "in O\nset model = mlp(hidden=[6, 6])\n")
    field, _ = _plan_of(source)
    (p,) = field.collapsed
    assert len(p.directions) == 9 and not field.taylor and not field.chains

    def reference(u, q):
        d4 = jax.jacfwd(jax.jacfwd(jax.hessian(u)))(q)
        return sum(d4[i, i, j, j] for i in range(3) for j in range(3))
    _assert_residual_matches(source, reference, 3)


def test_a_let_of_fields_that_an_exact_names_is_computed_like_a_field():
    from pinnc.api import Problem
    from pinnc.runtime.training.loop import exact_reference, field_errors
    source = ("domain O = box(x in [-1, 1], y in [-1, 1])\nfield u(x, y)\nfield v(y)\n"
              "param k = 2\nlet q = k*x*Dx(u) + lap(u)*v\npde lap(u) = 0 in O\n"
              "bc v = 0 on boundary(O)\nexact q = x + y\n")
    problem = Problem.from_text(source, "case.pde")
    assert [d.name for d in problem.ir.derived] == ["q"]
    assert problem.ir.derived[0].coords == ("x", "y")
    assert [q.name for q in problem.ir.quantities] == ["u", "v", "q"]
    params = problem.init(jax.random.key(0))
    fields = problem.field_functions(params)
    u, v = fields["u"], fields["v"]
    gradient = jax.vmap(jax.grad(u))(POINTS)
    laplacian = jnp.trace(jax.vmap(jax.hessian(u))(POINTS), axis1=1, axis2=2)
    expected = 2 * POINTS[:, 0] * gradient[:, 0] + laplacian * jax.vmap(v)(POINTS[:, 1:])
    np.testing.assert_allclose(problem.field("q", params)(POINTS), expected, rtol=1e-10)
    # its error is reported like a field's, against the exact formula
    exact = problem.ir.exact[0]
    points, reference = exact_reference(problem, exact, np.random.default_rng(2 ** 31 + problem.options.seed))
    np.testing.assert_allclose(reference, points[:, 0] + points[:, 1], rtol=1e-12)
    predicted = np.asarray(problem.field("q", params)(points))
    error = field_errors(problem, params)["q"]["rel_l2"]
    assert error == pytest.approx(np.linalg.norm(predicted - reference) / np.linalg.norm(reference))


def test_module_holds_what_the_runtime_reads_and_no_dead_tables():
    source = (BOX + "field v(x, y)\npde lap(u) = v in O\npde Dx(u) - Dy(v) = 0 in O\n"
              "bc u = 0 on boundary(O)\nexact u = x*y\n")
    compiled, module = module_for(source)
    for name in ("residuals", "term_values", "loss", "TERM_RESIDUALS", "SHARED_RESIDUALS",
                 "TERM_WEIGHTS", "FEATURES", "EXACT", "DERIVED"):
        assert hasattr(module, name)
    for dead in ("FIELD_COORDINATES", "PARAMS", "TERM_KINDS", "TERM_COORDINATES"):
        assert not hasattr(module, dead)
    assert set(module.SHARED_RESIDUALS) == {("pde1", "pde2")}
    assert not hasattr(module, "pde1") and not hasattr(module, "pde2")  # only their group's
    # the shared function and each term's own give the same residuals
    u, v = mlp(jax.random.key(4)), mlp(jax.random.key(5))
    entry = Entry(points=POINTS, measure=1.0)
    together = module.SHARED_RESIDUALS[("pde1", "pde2")]({"u": u, "v": v}, {}, entry)
    for k, label in enumerate(("pde1", "pde2")):
        alone = module.TERM_RESIDUALS[label]({"u": u, "v": v}, {}, entry)
        np.testing.assert_allclose(together[k], alone, rtol=1e-12)


def test_features_split_a_minimize_integrand_into_values_and_a_function_of_them():
    source = BOX + "param k = 0.7\nminimize integral(0.5*dot(grad(u), grad(u)) - k*x*u)\n"
    _, module = module_for(source)
    features, of_features = module.FEATURES["minimize1"]
    u = mlp(jax.random.key(6))
    params = {"k": jnp.asarray(0.7)}
    z = jax.vmap(lambda p: features({"u": u}, params, p))(POINTS)
    grad = jax.vmap(jax.grad(u))(POINTS)
    np.testing.assert_allclose(z, np.column_stack([jax.vmap(u)(POINTS), grad]), rtol=1e-12)
    whole = jax.vmap(lambda p: module.minimize1({"u": u}, params, p))(POINTS)
    split = jax.vmap(lambda p, w: of_features({"u": u}, params, p, w))(POINTS, z)
    np.testing.assert_allclose(split, whole, rtol=1e-12)


def test_a_constant_exact_solution_has_the_point_dtype_and_shape():
    _, module = module_for(BOX + "pde lap(u) = 0 in O\nexact u = 2\n")
    value = module.exact_u(POINTS[0])
    assert value.shape == () and value.dtype == POINTS.dtype and float(value) == 2.0


def test_where_conditions_are_numpy_functions_of_the_points_in_the_ir_s_order():
    source = ("domain O = box(x in [-1, 1], t in [0, 1])\nfield u(x, t)\n"
              "pde Dt(u) = Dxx(u) in O\nic u = 0 on boundary(O) where t == 0\n"
              "bc u = 0 on boundary(O) where x == -1 or x == 1\n"
              "bc side: u = 0 on boundary(O) where x == -1 or x == 1\n")
    compiled, module = module_for(source)
    wheres = compiled.problem.wheres()
    assert [compiled.problem.terms[k].region.where for k in (1, 2, 3)] == [*wheres, wheres[1]]
    initial, sides = module.WHERE
    points = np.array([[0.3, 0.0], [-1.0, 0.5], [1.0, 1e-13], [0.2, 0.4]])
    assert initial(points).tolist() == [True, False, True, False]  # == up to rounding
    assert sides(points).tolist() == [False, True, True, False]
    assert isinstance(initial(points), np.ndarray)  # numpy, for the runtime's geometry
    _, plain = module_for(BOX + "pde lap(u) = 1 in O\n")
    assert plain.WHERE == ()

