"""The Python API (INTERFACE.md) and training: compile, init, sample, loss, residuals, fields,
overrides, errors; training results, run folders, precision and divergence."""
from __future__ import annotations

import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import pinnc
import pinnc.runtime.training
from pinnc.runtime.model import load_module

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
POISSON = EXAMPLES / "poisson.pde"
SEED = EXAMPLES / "seed.pde"
N_INTERIOR, N_BOUNDARY = 200, 80


@pytest.fixture(scope="module")
def poisson():
    return pinnc.compile_file(POISSON, points=N_INTERIOR, boundary_points=N_BOUNDARY)


@pytest.fixture(scope="module")
def params(poisson):
    return poisson.init(jax.random.key(0))


@pytest.fixture(scope="module")
def batch(poisson):
    return poisson.sample(jax.random.key(1))


def _finite(tree) -> bool:
    return all(bool(jnp.all(jnp.isfinite(leaf))) for leaf in jax.tree.leaves(tree))


# --- the compiled problem ---

def test_init_is_a_pytree_of_network_weights(poisson, params):
    leaves = jax.tree.leaves(params)
    assert leaves and all(isinstance(leaf, jax.Array) for leaf in leaves)
    assert _finite(params)
    weights = jax.tree.leaves(params["fields"]["u"])
    # the default model under engd (poisson.pde's default optimizer): 2 inputs -> 64 -> 1,
    # a weight matrix and a bias per layer
    assert sum(w.size for w in weights) == (2 * 64 + 64) + (64 + 1)
    assert params["params"] == {}
    # deterministic in the key, different for another key
    same = poisson.init(jax.random.key(0))
    other = poisson.init(jax.random.key(7))
    assert all(bool(jnp.array_equal(a, b)) for a, b in
               zip(jax.tree.leaves(params), jax.tree.leaves(same)))
    assert any(not bool(jnp.array_equal(a, b)) for a, b in
               zip(jax.tree.leaves(params), jax.tree.leaves(other)))


def test_sample_has_one_entry_per_term(batch):
    assert set(batch) == {"pde1", "bc1"}
    assert batch["pde1"].points.shape == (N_INTERIOR, 2)
    assert batch["bc1"].points.shape == (N_BOUNDARY, 2)


def test_an_entry_also_reads_as_the_mapping_the_api_documents(batch):
    entry = batch["bc1"]
    assert entry["points"] is entry.points and entry["normals"] is entry.normals
    assert entry["measure"] is entry.measure
    with pytest.raises(KeyError):
        batch["pde1"]["normals"]  # inside the domain there are none, as a dict had no key
    with pytest.raises(KeyError):
        entry["weights"]


def test_interior_points_lie_in_the_square(batch):
    X = np.asarray(batch["pde1"].points)
    assert np.all((X >= 0) & (X <= 1))
    assert len(np.unique(X, axis=0)) == len(X)


def test_boundary_points_lie_on_the_square_boundary(batch):
    X = np.asarray(batch["bc1"].points)
    assert np.all((X >= -1e-12) & (X <= 1 + 1e-12))
    distance = np.min(np.stack([X[:, 0], 1 - X[:, 0], X[:, 1], 1 - X[:, 1]]), axis=0)
    assert np.max(np.abs(distance)) < 1e-9
    # every side gets points
    for column, value in ((0, 0.0), (0, 1.0), (1, 0.0), (1, 1.0)):
        assert np.sum(np.abs(X[:, column] - value) < 1e-9) >= 5


def test_sample_depends_on_the_key(poisson, batch):
    again = poisson.sample(jax.random.key(1))
    other = poisson.sample(jax.random.key(2))
    np.testing.assert_array_equal(again["pde1"].points, batch["pde1"].points)
    assert not np.array_equal(other["pde1"].points, batch["pde1"].points)


def test_loss_is_a_finite_scalar(poisson, params, batch):
    loss = poisson.loss(params, batch)
    assert jnp.shape(loss) == ()
    assert math.isfinite(float(loss)) and float(loss) > 0


def test_loss_composes_with_jit_and_grad(poisson, params, batch):
    grads = jax.jit(jax.grad(poisson.loss))(params, batch)
    assert jax.tree.structure(grads) == jax.tree.structure(params)
    assert _finite(grads)
    assert any(float(jnp.max(jnp.abs(g))) > 0 for g in jax.tree.leaves(grads))
    # the jitted loss agrees with the plain one
    np.testing.assert_allclose(jax.jit(poisson.loss)(params, batch), poisson.loss(params, batch),
                               rtol=1e-10)
    # a gradient step lowers the loss
    step = jax.tree.map(lambda p, g: p - 1e-4 * g, params, grads)
    assert float(poisson.loss(step, batch)) < float(poisson.loss(params, batch))


def test_residuals_shape_and_loss_consistency(poisson, params, batch):
    residuals = poisson.residuals(params, batch)
    assert set(residuals) == {"pde1", "bc1"}
    assert residuals["pde1"].shape == (N_INTERIOR,)
    assert residuals["bc1"].shape == (N_BOUNDARY,)
    # both weights are 1: the loss is the sum of the mean squares
    expected = sum(float(jnp.mean(r ** 2)) for r in residuals.values())
    assert float(poisson.loss(params, batch)) == pytest.approx(expected, rel=1e-10)


def test_residuals_match_an_independent_laplacian(poisson, params, batch):
    """pde1's residual is lap(u) - f with f = -2 pi^2 sin(pi x) sin(pi y); check it against
    jax.hessian of the field, and bc1's against u itself."""
    u = poisson.field("u", params)
    u_point = lambda p: u(p[None, :])[0]
    X = batch["pde1"].points
    laplacian = jax.vmap(lambda p: jnp.trace(jax.hessian(u_point)(p)))(X)
    f = -2 * jnp.pi ** 2 * jnp.sin(jnp.pi * X[:, 0]) * jnp.sin(jnp.pi * X[:, 1])
    residuals = poisson.residuals(params, batch)
    np.testing.assert_allclose(residuals["pde1"], laplacian - f, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(residuals["bc1"], u(batch["bc1"].points), rtol=1e-10,
                               atol=1e-12)


def test_field_values(poisson, params, batch):
    X = batch["pde1"].points
    values = poisson.field("u", params)(X)
    assert values.shape == (N_INTERIOR,)
    assert _finite(values)
    np.testing.assert_allclose(poisson.field("u", params)(X[:7]), values[:7], rtol=1e-12)
    assert float(jnp.std(values)) > 0  # a function of the point, not a constant


def test_field_unknown_name(poisson, params):
    with pytest.raises(KeyError, match="no field 'v'; fields are u"):
        poisson.field("v", params)


def test_source_is_the_generated_module(poisson, params):
    module = load_module(poisson.source, "poisson")  # what the problem runs, loaded again
    batch = poisson.sample(jax.random.key(1))
    again = module.term_values(poisson.field_functions(params), params["params"], batch)
    for label, value in poisson.term_values(params, batch).items():
        assert float(again[label]) == pytest.approx(float(value), rel=1e-12)


def test_keyword_overrides_change_options():
    problem = pinnc.compile_file(POISSON, points=123, boundary_points=45, sampler="uniform")
    sample = problem.sample(jax.random.key(1))
    assert sample["pde1"].points.shape == (123, 2)
    assert sample["bc1"].points.shape == (45, 2)
    assert problem.options.sampler == "uniform"
    default = pinnc.compile_file(POISSON)
    assert default.options.points != 123


@pytest.mark.parametrize("overrides, words", [
    ({"points": 0}, ["points"]),
    ({"points": "abc"}, ["number"]),
    ({"sampler": "sobl"}, ["did you mean 'sobol'"]),
    ({"optimizer": "adan(steps=10)"}, ["did you mean 'adam'"]),
    ({"model": "mlp(hidden=[8], activation=tanhh)"}, ["did you mean 'tanh'"]),
])
def test_bad_override_raises_spec_error(overrides, words):
    with pytest.raises(pinnc.SpecError) as error:
        pinnc.compile_file(POISSON, **overrides)
    assert hasattr(error.value, "line") and hasattr(error.value, "column")
    assert isinstance(error.value.line, int) and isinstance(error.value.column, int)
    for word in words:
        assert word in str(error.value)


def test_unknown_override_raises_spec_error():
    with pytest.raises(pinnc.SpecError) as error:
        pinnc.compile_file(POISSON, pionts=10)
    assert "did you mean 'points'" in str(error.value)


def test_compile_source():
    text = POISSON.read_text()
    problem = pinnc.compile_source(text, name="x", points=50, boundary_points=20)
    assert problem.name == "x"
    sample = problem.sample(jax.random.key(0))
    assert sample["pde1"].points.shape == (50, 2)
    params = problem.init(jax.random.key(0))
    assert math.isfinite(float(problem.loss(params, sample)))


def test_compile_source_spec_error_is_located():
    text = ("domain Omega = box(x in [0, 1], y in [0, 1])\n"
            "field u(x, y)\n"
            "pde lap(uu) = 1 in Omega\n")
    with pytest.raises(pinnc.SpecError) as error:
        pinnc.compile_source(text, name="x")
    assert (error.value.line, error.value.column) == (3, 9)
    message = str(error.value)
    assert "x.pde:3:9" in message
    assert "did you mean 'u'" in message
    assert "pde lap(uu) = 1 in Omega" in message and "^" in message


# --- training ---

def _spread_along_x(field) -> float:
    """max over y in [-2.5, 2.5] of (max_x u - min_x u), on a 61 x 51 grid with x in [-3, 3]."""
    xs, ys = np.linspace(-3, 3, 61), np.linspace(-2.5, 2.5, 51)
    X, Y = np.meshgrid(xs, ys)  # rows: fixed y
    u = np.asarray(field(jnp.asarray(np.stack([X.ravel(), Y.ravel()], axis=1)))).reshape(51, 61)
    return float(np.max(u.max(axis=1) - u.min(axis=1)))


@pytest.fixture(scope="module")
def seed_result():
    """seed.pde with its own options (L-BFGS, 500 steps, 100 points)."""
    return pinnc.compile_file(SEED).train(progress=False)


def test_seed_trains_to_a_function_constant_along_x(seed_result):
    metrics = seed_result.metrics
    assert metrics["status"] == "ok"
    assert metrics["steps"] == 500
    assert set(metrics["terms"]) == {"minimize1"}
    assert metrics["loss"] < 1e-6
    # An untrained network varies along x; the trained one must not.
    untrained = seed_result.problem.field("u", seed_result.problem.init(jax.random.key(0)))
    assert _spread_along_x(untrained) > 5e-3
    assert _spread_along_x(seed_result.field("u")) < 1e-3


def test_seed_history(seed_result):
    history = seed_result.history
    assert set(history) == {"step", "loss", "minimize1"}
    steps = history["step"]
    assert steps[0] == 0 and steps[-1] == 500
    assert all(0 < b - a <= 10 for a, b in zip(steps, steps[1:]))
    assert len(history["loss"]) == len(steps) == len(history["minimize1"])
    assert history["loss"][-1] < history["loss"][0]


def test_save_and_load_run_round_trip(seed_result, tmp_path):
    directory = tmp_path / "seed_run"
    seed_result.save(directory)
    assert (directory / "metrics.json").exists() and (directory / "history.csv").exists()
    loaded = pinnc.load_run(directory)
    assert loaded.metrics == seed_result.metrics
    assert loaded.history["step"] == seed_result.history["step"]
    np.testing.assert_allclose(loaded.history["loss"], seed_result.history["loss"], rtol=1e-15)
    for a, b in zip(jax.tree.leaves(loaded.params), jax.tree.leaves(seed_result.params)):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    X = jnp.asarray(np.random.default_rng(0).uniform(-3, 3, size=(64, 2)))
    np.testing.assert_array_equal(loaded.field("u")(X), seed_result.field("u")(X))


def test_small_poisson_reaches_the_exact_solution():
    # ~2 % would already be sloppy; a wrong second derivative or boundary leaves rel_l2 ~ 1.
    problem = pinnc.compile_file(POISSON, points=300, boundary_points=100,
                                 model="mlp(hidden=[16, 16], activation=tanh)",
                                 optimizer="adam(steps=1000, lr=1e-2) then lbfgs(steps=1000)")
    result = problem.train(progress=False)
    metrics = result.metrics
    assert metrics["status"] == "ok"
    assert metrics["steps"] == 2000
    assert set(metrics["terms"]) == {"pde1", "bc1"}
    assert set(metrics["fields"]) == {"u"}
    errors = metrics["fields"]["u"]
    assert errors["rel_l2"] < 2e-2, errors
    assert errors["max_abs"] < 5e-2, errors
    # The reported error agrees with the trained field against sin(pi x) sin(pi y).
    X = jnp.asarray(np.random.default_rng(3).uniform(0, 1, size=(2000, 2)))
    exact = np.sin(np.pi * X[:, 0]) * np.sin(np.pi * X[:, 1])
    difference = np.asarray(result.field("u")(X)) - np.asarray(exact)
    assert np.linalg.norm(difference) / np.linalg.norm(exact) < 2e-2


def test_float32_run():
    problem = pinnc.compile_file(SEED, precision="float32", optimizer="adam(steps=20, lr=1e-2)")
    result = problem.train(progress=False)
    assert result.metrics["status"] == "ok"
    assert result.metrics["steps"] == 20
    assert {leaf.dtype for leaf in jax.tree.leaves(result.params)} == {jnp.dtype("float32")}
    assert math.isfinite(result.metrics["loss"])
    values = result.field("u")(jnp.zeros((3, 2), jnp.float32))
    assert values.dtype == jnp.float32 and values.shape == (3,)


NAN_SPEC = """\
domain Omega = box(x in [0, 1], y in [0, 1])
field u(x, y): mlp(hidden=[8], activation=tanh)
pde sqrt(-1 - u^2) = 0 in Omega
bc u = 0 on boundary(Omega)
set points = 50
set boundary_points = 20
set optimizer = adam(steps=50, lr=1e-2)
"""


def test_nan_loss_ends_diverged_with_finite_params():
    result = pinnc.compile_source(NAN_SPEC, name="nan").train(progress=False)
    assert result.metrics["status"] == "diverged"
    assert result.metrics["steps"] < 50
    assert _finite(result.params)


# exp(exp(u)) overflows after a few L-BFGS steps: the loss *becomes* non-finite mid-training.
BLOWUP_SPEC = """\
domain Omega = interval(x in [0, 1])
field u(x): mlp(hidden=[8], activation=tanh)
minimize integral(-exp(exp(u)))
set points = 50
set optimizer = lbfgs(steps=30)
"""


def test_loss_becoming_nan_keeps_the_last_finite_params():
    result = pinnc.compile_source(BLOWUP_SPEC, name="blowup").train(progress=False)
    assert result.metrics["status"] == "diverged"
    assert _finite(result.params)
    # the kept parameters are the last ones whose training loss was finite
    assert math.isfinite(result.metrics["loss"])


def test_errors_are_measured_where_the_equations_hold():
    """In `domain L = Square - Hole` the errors (and plots) are over L, not over the first
    declared domain: against an exact solution that is zero on L and not in the hole, the zero
    field has no error."""
    from pinnc.runtime.training.loop import field_errors
    problem = pinnc.compile_source(
        "domain Square = box(x in [0, 2], y in [0, 2])\n"
        "domain L = Square - box(x in [1, 2], y in [1, 2])\n"
        "field u(x, y)\n"
        "pde lap(u) = 0 in L\n"
        "bc u = 0 on boundary(L)\n"
        "exact u = (x - 1 + abs(x - 1))*(y - 1 + abs(y - 1))\n", "hole")
    assert problem.field_domain("u").op == "difference"
    zero = jax.tree.map(jnp.zeros_like, problem.init(jax.random.key(0)))
    errors = field_errors(problem, zero)
    assert errors["u"]["max_abs"] == 0.0 and errors["u"]["rel_l2"] == 0.0


def test_tolerances_end_a_phase_early_and_the_next_one_starts_there():
    problem = pinnc.compile_file(EXAMPLES / "poisson.pde", points=60, boundary_points=24,
                                 model="mlp(hidden=[8])",
                                 optimizer="adam(steps=300, lr=1e-2, loss_tol=2.0) "
                                           "then lbfgs(steps=3000, grad_tol=1e-3)")
    seen = []
    result = pinnc.runtime.training.train(problem, progress=False,
                                       callback=lambda step, params, seconds: seen.append(step))
    assert result.metrics["status"] == "ok"
    history = dict(zip(result.history["step"], result.history["loss"]))
    # adam stopped at its first step whose loss was at or below 2 (no step taken there) ...
    adam_steps = seen[0] if seen[0] != 200 else seen[1]  # chunks of 200 adam steps
    assert adam_steps < 300
    assert all(v > 2.0 for s, v in history.items() if s < adam_steps - adam_steps % 10)
    # ... lbfgs started from there and stopped where the gradient norm met grad_tol
    assert seen[-1] == result.metrics["steps"] < adam_steps + 3000
    batch = problem.sample(jax.random.split(jax.random.key(0))[1])
    grad = jax.grad(problem.loss)(result.params, batch)
    assert float(optax.tree.norm(grad)) <= 1e-3


def test_training_a_problem_again_reuses_its_compiled_chunks():
    """A second `train` of the same problem (a resumed run, say) neither traces nor compiles
    its chunks again, and ends where the first did."""
    problem = pinnc.compile_file(EXAMPLES / "poisson.pde", points=60, boundary_points=24,
                                 model="mlp(hidden=[8])", resample_every=20,
                                 optimizer="adam(steps=40, lr=1e-2) then lbfgs(steps=10)")
    first = problem.train(progress=False)
    chunks = dict(problem._compiled_chunks)
    assert len(chunks) == 2  # one per phase
    again = problem.train(progress=False)
    assert problem._compiled_chunks == chunks
    assert all(problem._compiled_chunks[key] is chunk for key, chunk in chunks.items())
    for a, b in zip(jax.tree.leaves(again.params), jax.tree.leaves(first.params)):
        np.testing.assert_array_equal(a, b)
    # another problem (other options) has its own
    assert problem.with_options(seed=1)._compiled_chunks == {}


def test_history_records_every_tenth_step_across_phases_with_the_loss_there():
    problem = pinnc.compile_file(EXAMPLES / "poisson.pde", points=60, boundary_points=24,
                                 model="mlp(hidden=[8])",
                                 optimizer="adam(steps=25, lr=1e-2) then adam(steps=17, lr=1e-3)")
    result = problem.train(progress=False)
    assert result.history["step"] == [0, 10, 20, 30, 40, 42]
    loss = dict(zip(result.history["step"], result.history["loss"]))
    # the loss recorded at step 30 is the loss of the parameters after 30 steps
    shorter = problem.with_options(
        optimizer="adam(steps=25, lr=1e-2) then adam(steps=5, lr=1e-3)").train(progress=False)
    assert shorter.metrics["steps"] == 30
    assert loss[30] == pytest.approx(shorter.metrics["loss"], rel=1e-9)


def test_a_chunk_of_steps_is_one_device_program_that_never_calls_the_host():
    """What keeps the loop on the device (a GPU's too): each phase's chunk lowers to one
    program, a while loop over its steps, with no host callback, infeed or outfeed inside;
    the host sees the carry only between chunks."""
    from pinnc.runtime.optim import optimizer, registered
    from pinnc.runtime.training import chunks
    from pinnc.runtime.training.step import Carry
    problem = pinnc.compile_file(EXAMPLES / "poisson.pde", points=60, boundary_points=24,
                                 model="mlp(hidden=[8])", resample_every=5,
                                 optimizer="adam(steps=10) then lbfgs(steps=10) "
                                           "then ssbroyden(steps=10) then engd(steps=10)")
    params = problem.init(jax.random.key(0))
    batch, moves = chunks.initial_points(problem, jax.random.key(1))
    weights = jnp.ones(len(problem.ir.terms), problem.dtype)
    for phase in problem.options.optimizer:
        carry = Carry.start(params, optimizer(phase).init(params), 0, batch, weights)
        row = registered(phase)
        form = row.form(problem, params, batch) if row.form is not None else None
        chunk = chunks.chunk_function(problem, phase, 10, moves, form)
        text = jax.jit(chunk).lower(carry, jnp.asarray(10, jnp.int32), moves.pools).as_text()
        assert "stablehlo.while" in text, phase.name
        for host in ("callback", "infeed", "outfeed", "stablehlo.send", "stablehlo.recv"):
            assert host not in text, (phase.name, host)
