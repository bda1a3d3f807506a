"""Gated MLPs, PirateNets, Fourier features and factorized weights: the generated derivatives
through them match autodiff, Fourier features stay fixed, a PirateNet starts linear in its
embedding; causal weighting weights time slices as its formula says, in the loss and in the
least-squares rows; each trains; mistakes are refused at their line and column."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

import pinnc
from pinnc import SpecError
from pinnc.compiler import defaults, ir
from pinnc.compiler.pipeline import compile_text
from pinnc.runtime.model import causal, networks
from pinnc.runtime.model.batch import Entry

jax.config.update("jax_enable_x64", True)

BOX = "domain O = box(x in [0, 2], y in [-1, 1])\nfield u(x, y)\n"
POINTS = jnp.asarray(np.random.default_rng(0).uniform([0, -1], [2, 1], size=(6, 2)))
MODELS = [
    "mlp(hidden=[8, 8], fourier=6, sigma=2)",
    "mlp(hidden=[8], factorized=rwf(mean=0.5, std=0.2))",
    "gated(hidden=[8, 8], activation=sigmoid)",
    "gated(hidden=[8, 8], fourier=4, factorized=true)",
    "pirate(blocks=2, width=8, fourier=4)",
    "pirate(blocks=1, width=8, fourier=0, activation=sin, factorized=true)",
]
HEAT = ("domain O = box(x in [0, 1], t in [0, 1])\nfield u(x, t)\n"
        "pde Dt(u) = 0.1*Dxx(u) in O\n"
        "ic u = sin(pi*x) on boundary(O) where t == 0\n"
        "bc u = 0 on boundary(O) where x == 0 or x == 1\n")
TINY = dict(points=48, boundary_points=16, precision="float64")


def fresh(source, model, **options):
    """A compiled problem, its parameters (a PirateNet's alphas moved off 0, so that its
    blocks count) and its field functions."""
    problem = pinnc.compile_source(source, name="case", model=model, **options)
    params = problem.init(jax.random.key(1))
    params = jax.tree_util.tree_map_with_path(
        lambda path, v: v + 0.3 if "alpha" in jax.tree_util.keystr(path) else v, params)
    return problem, params, problem.field_functions(params)


@pytest.mark.parametrize("model, equation", [
    *((model, "lap(u) + u*Dx(u) = 0") for model in MODELS),  # a forward-Laplacian pass
    (MODELS[2], "Dxxy(u) + Dy(u) = 0"),                       # Taylor passes
    (MODELS[4], "Dxxy(u) + Dy(u) = 0"),
])
def test_generated_derivatives_match_autodiff(model, equation):
    problem, params, fields = fresh(BOX + f"pde {equation} in O\n", model)
    u = fields["u"]
    got = jax.vmap(lambda p: problem.module.pde1(fields, {}, p))(POINTS)

    def want(p):
        g, h = jax.grad(u)(p), jax.hessian(u)(p)
        if "lap" in equation:
            return h[0, 0] + h[1, 1] + u(p) * g[0]
        return jax.jacfwd(jax.hessian(u))(p)[0, 0, 1] + g[1]
    np.testing.assert_allclose(got, jax.vmap(want)(POINTS), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("model", MODELS)
def test_parameter_count_is_the_cost_model_s(model):
    problem, params, _ = fresh(BOX + "pde lap(u) = 0 in O\n", model)
    trained = ravel_pytree(params["fields"])[0].size
    assert trained == defaults.network_size(problem.ir.fields[0].model, 2)


def test_a_plain_mlp_keeps_its_layout():
    problem, params, _ = fresh(BOX + "pde lap(u) = 0 in O\n", "mlp(hidden=[5, 3])")
    layers = params["fields"]["u"]
    assert [{k: v.shape for k, v in layer.items()} for layer in layers] == [
        {"w": (2, 5), "b": (5,)}, {"w": (5, 3), "b": (3,)}, {"w": (3, 1), "b": (1,)}]


@pytest.mark.parametrize("form", ["mlp(hidden=[6, 5]", "gated(hidden=[6, 6]"])
def test_a_factorized_network_starts_as_the_unfactorized_one(form):
    source = BOX + "pde lap(u) = 0 in O\n"
    plain = pinnc.compile_source(source, name="case", model=form + ")")
    factorized = pinnc.compile_source(source, name="case", model=form + ", factorized=true)")
    params, rwf = (p.init(jax.random.key(2)) for p in (plain, factorized))
    scales = [layer["s"] for layer in jax.tree.leaves(rwf, is_leaf=lambda v: "s" in v)
              if isinstance(layer, dict)]
    assert scales and all(float(jnp.std(s)) > 0 for s in scales if s.size > 1)
    np.testing.assert_allclose(factorized.field("u", rwf)(POINTS),
                               plain.field("u", params)(POINTS), rtol=1e-12)


def test_fourier_features_are_fixed_by_the_seed_and_never_trained():
    source = BOX + "periodic u in x\npde lap(u) = 1 in O\nbc u = 0 on boundary(O)\n"
    model = "mlp(hidden=[8], fourier=5, sigma=3)"
    problem, params, _ = fresh(source, model, seed=7, **TINY)
    B = problem._fourier["u"]
    assert B.shape == (3, 5)  # y, cos(pi x), sin(pi x) -> 5 features
    assert 1.5 < float(jnp.std(B)) < 4.5  # 15 draws of N(0, 3²)
    assert not any(leaf.shape == B.shape for leaf in jax.tree.leaves(params))
    same = problem.ir.fields[0].model
    np.testing.assert_array_equal(networks.embedding(same, 3, 7, 0, jnp.float64), B)
    assert not np.allclose(networks.embedding(same, 3, 8, 0, jnp.float64), B)
    z = jnp.stack([POINTS[:, 1], jnp.cos(jnp.pi * POINTS[:, 0]), jnp.sin(jnp.pi * POINTS[:, 0])],
                  axis=1)
    hidden = jnp.tanh(jnp.concatenate([jnp.cos(z @ B), jnp.sin(z @ B)], axis=1)
                      @ params["fields"]["u"][0]["w"] + params["fields"]["u"][0]["b"])
    by_hand = hidden @ params["fields"]["u"][1]["w"] + params["fields"]["u"][1]["b"]
    np.testing.assert_allclose(problem.field("u", params)(POINTS), by_hand[:, 0], rtol=1e-12)


def test_a_pirate_net_starts_as_a_linear_model_of_its_embedding():
    problem = pinnc.compile_source(BOX + "pde lap(u) = 0 in O\n", name="case",
                                   model="pirate(blocks=3, width=16, fourier=4)")
    params = problem.init(jax.random.key(0))
    net = params["fields"]["u"]
    assert [float(block["alpha"]) for block in net["blocks"]] == [0.0, 0.0, 0.0]
    B = problem._fourier["u"]
    z = (POINTS - jnp.array([0.0, -1.0])) / jnp.array([2.0, 2.0]) * 2 - 1
    features = jnp.concatenate([jnp.cos(z @ B), jnp.sin(z @ B)], axis=1)
    linear = features @ net["output"]["w"] + net["output"]["b"]
    np.testing.assert_allclose(problem.field("u", params)(POINTS), linear[:, 0], rtol=1e-12)


def test_causal_weights_follow_the_formula():
    # slices of [0, 1] in 4: points at t = 0.1, 0.2 (slice 0), 0.6 (slice 2), 0.9 (slice 3)
    times = jnp.array([0.1, 0.2, 0.6, 0.9, 0.95])
    residual = jnp.array([1.0, 3.0, 2.0, 0.5, 1.5])
    entry = Entry(points=jnp.stack([jnp.zeros(5), times], axis=1),
                  measure=jnp.asarray(1.0), mask=jnp.array([1.0, 1.0, 1.0, 1.0, 0.0]))
    c = causal.point_weights(residual, entry, 1, 0.0, 1.0, ir.Causal(epsilon=0.5, slices=4))
    losses = [5.0, 4.0, 0.25]  # the mean squares of the slices holding points, in time order
    w = [1.0, np.exp(-0.5 * 5.0), np.exp(-0.5 * 9.0)]
    np.testing.assert_allclose(c, [w[0] / 6, w[0] / 6, w[1] / 3, w[2] / 3, 0.0], rtol=1e-12)
    value = float(jnp.sum(c * residual ** 2))
    assert value == pytest.approx(sum(wi * li for wi, li in zip(w, losses)) / 3, rel=1e-12)
    # the weights are constants of the gradient: d/dr sum(c r^2) = 2 c r
    grad = jax.grad(lambda r: jnp.sum(causal.point_weights(r, entry, 1, 0.0, 1.0,
                                                           ir.Causal(0.5, 4)) * r ** 2))(residual)
    np.testing.assert_allclose(grad, 2 * c * residual, rtol=1e-12)


def test_causal_loss_and_least_squares_rows_agree():
    small = dict(TINY, points=16, boundary_points=8)
    problem, params, _ = fresh(HEAT + "set causal = causal(epsilon=2, slices=8)\n",
                               "mlp(hidden=[6])", **small)
    batch = problem.sample(jax.random.key(0))
    plain = pinnc.compile_source(HEAT, name="case", model="mlp(hidden=[6])", **small)
    values, plain_values = problem.term_values(params, batch), plain.term_values(params, batch)
    assert float(values["ic1"]) == pytest.approx(float(plain_values["ic1"]), rel=1e-12)
    assert float(values["pde1"]) != pytest.approx(float(plain_values["pde1"]), rel=1e-3)
    loss = float(problem.loss(params, batch))
    residual = problem.residual_vector(params, batch)
    assert float(jnp.sum(residual ** 2)) == pytest.approx(loss, rel=1e-12)


@pytest.mark.slow
def test_causal_jacobian_rows_hold_the_weights_fixed():
    problem, params, _ = fresh(HEAT + "set causal = causal(epsilon=2, slices=8)\n",
                               "mlp(hidden=[6])", **dict(TINY, points=16, boundary_points=8))
    batch = problem.sample(jax.random.key(0))
    theta, unravel = ravel_pytree(params)
    scales = problem._row_scales(batch, None, problem.residuals(params, batch))
    fixed = lambda flat: jnp.concatenate([scales[t.label] * problem.residuals(unravel(flat),
                                                                               batch)[t.label]
                                          for t in problem.ir.terms])
    np.testing.assert_allclose(problem.residual_jacobian(params, batch), jax.jacrev(fixed)(theta),
                               rtol=1e-9, atol=1e-12)


def decreases(source, model, optimizer, **options):
    problem = pinnc.compile_source(source, name="case", model=model, **TINY, **options)
    result = problem.train(progress=False, optimizer=optimizer)
    losses = result.history["loss"]
    assert result.metrics["status"] == "ok"
    assert losses[-1] < 0.7 * losses[0]


@pytest.mark.slow
@pytest.mark.parametrize("model, optimizer", [
    ("pirate(blocks=1, width=8, fourier=4)", "engd(steps=4)"),
    ("gated(hidden=[8], fourier=4, factorized=true)", "adam(steps=30, lr=1e-2)"),
])
def test_a_tiny_training_decreases_the_loss(model, optimizer):
    decreases(HEAT, model, optimizer)


@pytest.mark.slow
def test_causal_training_decreases_the_loss_with_a_least_squares_optimizer():
    decreases(HEAT + "set causal = causal(epsilon=1, slices=4)\n", "mlp(hidden=[8])",
              "nystrom(steps=4, rank=16)")


@pytest.mark.slow
@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("optimizer", ["adam(steps=40, lr=1e-2)", "engd(steps=5)",
                                       "lbfgs(steps=10)", "ssbroyden(steps=10)",
                                       "nystrom(steps=5, rank=16)"])
def test_every_form_trains_with_every_optimizer(model, optimizer):
    decreases(HEAT + "periodic u in x\nset causal = causal\n", model, optimizer)


HEAD = "domain O = box(x in [0, 1], y in [0, 2])\nfield u(x, y)\npde u = 0 in O\n"


@pytest.mark.parametrize("source, line, column, fragment", [
    (HEAD + "set model = gated(hidden=[8], depth=3)", 4, 31,
     "'gated' has no setting 'depth'"),
    (HEAD + "set model = pirate(blocks=2, width=-4)", 4, 36, "width must be an integer >= 1"),
    (HEAD + "set model = mlp(hidden=[8, -2])", 4, 28, "a layer width must be an integer >= 1"),
    (HEAD + "set model = gated(hidden=[8, 4])", 4, 30, "4 differs from 8"),
    (HEAD + "set model = mlp(hidden=[8], sigma=2)", 4, 29, "give fourier=M too"),
    (HEAD + "set model = mlp(fourier=4, sigma=0)", 4, 34, "sigma must be positive"),
    (HEAD + "set model = mlp(factorized=yes)", 4, 28, "factorized must be true, false or rwf"),
    (HEAD + "set model = pirat(blocks=2)", 4, 13, "did you mean 'pirate'"),
    (HEAD + "set causal = causal(epsilon=1)", 4, 14, "no pde term has a coordinate 't'"),
    (HEAD.replace("field u(x, y)", "field u(x, y): gated(hidden=[4], fourier=-1)"), 2, 42,
     "fourier must be an integer >= 0"),
    (HEAD + "set causal = causal(slices=0)", 4, 28, "slices must be an integer >= 1"),
])
def test_misuse_is_refused_at_its_place(source, line, column, fragment):
    with pytest.raises(SpecError) as error:
        compile_text(source, "case.pde")
    assert (error.value.line, error.value.column) == (line, column), str(error.value)
    assert fragment in str(error.value)


def test_check_shows_the_model_and_the_causal_terms():
    from pinnc.summary import summary
    compiled = compile_text(HEAT + "set model = pirate(width=16, factorized=true)\n"
                            "set causal = causal(slices=8)\n", "case.pde")
    text = summary(compiled, "case.pde")
    assert ("  field u(x, t): pirate(blocks=3, width=16, activation=tanh, output=identity, "
            "fourier=32, sigma=1, factorized=rwf(mean=1, std=0.1))\n") in text
    assert "    causal: pde1 weighted over 8 slices of t, epsilon 1" in text
