"""The optimizer registry: one row per optimizer the language names, every row called the same
way, and ENGD as a chain of small transformations."""
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from optax.tree_utils import tree_get

import pinnc
from pinnc.compiler import ir, options
from pinnc.runtime.optim import KEYWORDS, OPTIMIZERS, Optimizer, optimizer, registry
from pinnc.runtime.optim.engd import (DAMPING_RANGE, engd, gauss_newton_direction,
                                      scale_by_gauss_newton, scale_by_grid_linesearch)
from pinnc.runtime.training import chunks
from pinnc.runtime.training.step import Carry

jax.config.update("jax_enable_x64", True)
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_the_registry_names_what_the_language_accepts():
    assert set(OPTIMIZERS) == set(options.OPTIMIZERS)
    for name, row in OPTIMIZERS.items():
        assert row.chunk_steps >= 1 and set(row.keywords) <= set(KEYWORDS), name


def test_an_unknown_optimizer_is_named():
    with pytest.raises(ValueError, match="'nope'"):
        optimizer(ir.Phase("nope", 1))


def least_squares():
    """A small linear least-squares problem as the step offers it: params, keywords."""
    rng = np.random.default_rng(0)
    A = jnp.asarray(rng.normal(size=(20, 6)))
    y = jnp.asarray(rng.normal(size=20))
    residual_fn = lambda q: A @ q["w"] - y
    value_fn = lambda q: jnp.sum(residual_fn(q) ** 2)
    offered = dict(value_fn=value_fn, residual_fn=residual_fn,
                   jacobian_fn=lambda q: A, rows_fn=None, form=None,
                   sampled_jacobian_fn=lambda q, key, rows: A)
    return {"w": jnp.zeros(6)}, value_fn, offered


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_is_called_the_same_way(name):
    """Each row's default settings, stepped as the training step does: value and gradient as
    the row says, then ``update(grad, state, params, **its keywords)``."""
    row = OPTIMIZERS[name]
    phase = ir.Phase(name, 10, tuple(options.OPTIMIZERS[name].items()))
    transform = row.build(phase)
    params, loss, offered = least_squares()
    state = transform.init(params)
    start = float(loss(params))
    for _ in range(10):
        value, grad = row.value_and_grad(loss, params, state, False)
        offered.update(value=value, grad=grad)
        updates, state = transform.update(grad, state, params,
                                          **{k: offered[k] for k in row.keywords})
        params = optax.apply_updates(params, updates)
    assert float(loss(params)) < start


def test_engd_is_a_direction_a_line_search_and_a_damping():
    """One ENGD update is the Gauss–Newton direction at the state's damping, times the best
    step length of the grid; the damping then adapts to the length taken."""
    params, loss, offered = least_squares()
    transform = engd(damping=1e-3)
    state = transform.init(params)
    assert float(tree_get(state, "damping")) == 1e-3
    updates, state = transform.update(None, state, params, value_fn=loss,
                                      residual_fn=offered["residual_fn"],
                                      jacobian_fn=offered["jacobian_fn"])
    A = offered["jacobian_fn"](params)
    direction = gauss_newton_direction(A, offered["residual_fn"](params), 1e-3)
    size = float(tree_get(state, "step_size"))
    assert size == 1.0 and bool(tree_get(state, "accepted"))
    np.testing.assert_array_equal(updates["w"], size * -direction)
    assert float(tree_get(state, "damping")) == 0.5e-3  # halved after a full step

    # the units alone: the direction unit's output, searched along, gives the same update
    minus_d, _ = scale_by_gauss_newton(1e-3).update(None, optax.EmptyState(), params,
                                                    **offered)
    search = scale_by_grid_linesearch()
    same, _ = search.update(minus_d, search.init(params), params, value_fn=loss)
    np.testing.assert_array_equal(same["w"], updates["w"])


def test_a_rejected_engd_step_raises_the_damping_within_its_range():
    params = {"w": jnp.asarray([1.0, -2.0])}
    uphill = dict(value_fn=lambda p: jnp.sum(p["w"] ** 2), residual_fn=lambda p: p["w"],
                  jacobian_fn=lambda p: -jnp.eye(2))  # a Jacobian of the wrong sign
    transform = engd(damping=DAMPING_RANGE[1] / 2)
    state = transform.init(params)
    for _ in range(2):
        _, state = transform.update(None, state, params, **uphill)
        assert not bool(tree_get(state, "accepted"))
    assert float(tree_get(state, "damping")) == DAMPING_RANGE[1]
    fixed = engd(damping=1e-6, adaptive=False)
    _, kept = fixed.update(None, fixed.init(params), params, **uphill)
    assert float(tree_get(kept, "damping")) == 1e-6


def test_engd_state_leaves_are_what_checkpoints_hold():
    """checkpoint.npz stores the state's leaves in order: accepted, step length, damping."""
    leaves = jax.tree.leaves(engd().init({"w": jnp.zeros(3)}))
    assert [leaf.dtype for leaf in leaves] == [jnp.bool_, jnp.float64, jnp.float64]
    assert [leaf.shape for leaf in leaves] == [(), (), ()]


def test_a_new_optimizer_is_one_registry_row(monkeypatch):
    """A row added to the registry alone trains: the loop has no branch on a name."""
    monkeypatch.setitem(registry.OPTIMIZERS, "sgd", Optimizer(
        build=lambda phase: optax.with_extra_args_support(optax.sgd(phase.get("lr", 1e-2))),
        chunk_steps=7))
    problem = pinnc.compile_file(EXAMPLES / "poisson.pde", points=30, boundary_points=12,
                                 model="mlp(hidden=[6])")
    phase = ir.Phase("sgd", 7, (("lr", 1e-3),))
    params = problem.init(jax.random.key(0))
    batch, moves = chunks.initial_points(problem, jax.random.key(1))
    weights = jnp.ones(len(problem.ir.terms), problem.dtype)
    carry = Carry.start(params, optimizer(phase).init(params), 0, batch, weights)
    chunk = jax.jit(chunks.chunk_function(problem, phase, 7, moves))
    carry, (_, values, _, _) = chunk(carry, jnp.asarray(7, jnp.int32), {})
    expected, state = params, optax.sgd(1e-3).init(params)
    for _ in range(7):
        grad = jax.grad(lambda p: problem.loss(p, batch))(expected)
        updates, state = optax.sgd(1e-3).update(grad, state, expected)
        expected = optax.apply_updates(expected, updates)
    assert int(carry.step) == 7 and np.all(np.isfinite(values))
    for a, b in zip(jax.tree.leaves(carry.params), jax.tree.leaves(expected)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
