"""Points that move on the device: resampling from a pool, residual-based refinement (RAR),
and gradient-norm balancing of the terms' weights."""
from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pinnc
from pinnc.runtime import points
from pinnc.runtime.train import _balanced, train

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def problem():
    return pinnc.compile_file(EXAMPLES / "poisson.pde", points=50, boundary_points=20,
                              model="mlp(hidden=[8])")


def setup(problem, slots):
    batch = problem.sample(jax.random.key(1))
    layout = points.layout(problem, batch, slots)
    pools = points.pools(problem, layout, np.random.default_rng(0))
    return points.reserve(batch, layout), layout, pools


def test_refinement_adds_the_pool_points_of_largest_residual(problem):
    batch, layout, pools = setup(problem, slots=12)
    assert batch["pde1"]["points"].shape == (62, 2) and batch["bc1"]["points"].shape == (20, 2)
    assert float(batch["pde1"]["mask"].sum()) == 50 and float(batch["bc1"]["mask"].sum()) == 20
    pool = pools[("pde1",)]["points"]
    assert pool.shape == (50 * points.POOL_FACTOR, 2)
    # a made-up residual: largest far from the point (0.3, 0.6)
    distance = lambda b: {label: jnp.linalg.norm(e["points"] - jnp.array([0.3, 0.6]), axis=1)
                          for label, e in b.items()}
    once = points.refine(batch, layout, pools, distance, 4, jnp.asarray(0))
    twice = points.refine(once, layout, pools, distance, 4, jnp.asarray(1))
    far = np.asarray(pool)[np.argsort(-np.linalg.norm(np.asarray(pool) - [0.3, 0.6], axis=1))[:4]]
    added = np.asarray(once["pde1"]["points"][50:54])
    np.testing.assert_array_equal(np.sort(added, axis=0), np.sort(far, axis=0))
    assert float(once["pde1"]["mask"].sum()) == 54 and float(twice["pde1"]["mask"].sum()) == 58
    np.testing.assert_array_equal(once["pde1"]["points"][:50], batch["pde1"]["points"][:50])
    assert once["bc1"] is batch["bc1"]  # only pde sets are refined
    # masked slots do not count in the term's mean
    params = problem.init(jax.random.key(0))
    r = problem.residuals(params, once)["pde1"]
    value = problem.term_values(params, once)["pde1"]
    assert float(value) == pytest.approx(float(jnp.mean(r[:54] ** 2)), rel=1e-12)
    scaled = problem.residual_vector(params, once)
    assert float(jnp.sum(scaled ** 2)) == pytest.approx(float(problem.loss(params, once)), rel=1e-12)


def test_resampling_draws_from_the_pool_and_keeps_refined_points(problem):
    batch, layout, pools = setup(problem, slots=4)
    distance = lambda b: {label: e["points"][:, 0] for label, e in b.items()}
    batch = points.refine(batch, layout, pools, distance, 4, jnp.asarray(0))
    again = points.resample(batch, layout, pools, jax.random.key(7))
    for label, n in (("pde1", 50), ("bc1", 20)):
        new, pool = np.asarray(again[label]["points"][:n]), np.asarray(pools[(label,)]["points"])
        assert len(np.unique(new, axis=0)) == n  # no repeats
        assert all((pool == row).all(axis=1).any() for row in new)  # all from the pool
        assert not np.array_equal(new, np.asarray(batch[label]["points"][:n]))
    np.testing.assert_array_equal(again["pde1"]["points"][50:], batch["pde1"]["points"][50:])
    # normals move with their points
    rows = np.asarray(again["bc1"]["points"])
    normals = np.asarray(again["bc1"]["normals"])
    on_x = np.isclose(rows[:, 0], 0) | np.isclose(rows[:, 0], 1)
    assert np.allclose(np.abs(normals[on_x, 0]), 1)


def test_gradient_norm_balancing_equalizes_the_terms_pull(problem):
    params = problem.init(jax.random.key(0))
    batch = problem.sample(jax.random.key(1))
    weights = _balanced(problem, params, batch, jnp.ones(2), jnp.asarray(True))
    norms = [float(jnp.sqrt(sum(jnp.sum(g ** 2) for g in jax.tree.leaves(
        jax.grad(lambda p, l=label: problem.term_values(p, batch)[l])(params)))))
        for label in ("pde1", "bc1")]
    pulls = [w * n for w, n in zip(np.asarray(weights), norms)]
    assert pulls[0] == pytest.approx(pulls[1], rel=1e-10)
    assert pulls[0] == pytest.approx(sum(norms), rel=1e-10)
    smoothed = _balanced(problem, params, batch, 2 * weights, jnp.asarray(False))
    np.testing.assert_allclose(smoothed, 0.9 * 2 * weights + 0.1 * weights, rtol=1e-10)


def test_moving_points_and_weights_survive_a_kill_and_resume(problem, tmp_path):
    moving = problem.with_options(optimizer="adam(steps=400, lr=1e-2) then lbfgs(steps=100)",
                                  resample_every=100, refine="rar(every=150, points=5)",
                                  weighting="gradnorm(every=50)")
    straight = train(moving, progress=False)

    class Killed(Exception):
        pass

    def kill(step, params, seconds):
        if step == 400:
            raise Killed
    with pytest.raises(Killed):
        train(moving, progress=False, checkpoint=tmp_path, callback=kill)
    resumed = train(moving, progress=False, checkpoint=tmp_path, resume=True)
    for a, b in zip(jax.tree.leaves(resumed.params), jax.tree.leaves(straight.params)):
        np.testing.assert_array_equal(a, b)
    # three refinements (steps 150, 300, 450) of 5 points each were made
    with np.load(tmp_path / "checkpoint.npz") as stored:
        assert stored["batch/pde1/mask"].sum() == 50 + 15
        assert stored["batch/pde1/points"].shape == (50 + 15, 2)
        assert not np.allclose(stored["weights"], 1.0)
