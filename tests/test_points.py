"""Points that move on the device: resampling from a pool, residual-based refinement (RAR),
and gradient-norm balancing of the terms' weights."""
from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pinnc
from pinnc.runtime.training import points, train
from pinnc.runtime.training.weighting import balanced

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
    assert batch["pde1"].points.shape == (62, 2) and batch["bc1"].points.shape == (20, 2)
    assert float(batch["pde1"].mask.sum()) == 50 and float(batch["bc1"].mask.sum()) == 20
    pool = pools[("pde1",)].points
    assert pool.shape == (50 * points.POOL_FACTOR, 2)
    # a made-up residual: largest far from the point (0.3, 0.6)
    distance = lambda b: {label: jnp.linalg.norm(e.points - jnp.array([0.3, 0.6]), axis=1)
                          for label, e in b.items()}
    once = points.refine(batch, layout, pools, distance, 4, jnp.asarray(0))
    twice = points.refine(once, layout, pools, distance, 4, jnp.asarray(1))
    far = np.asarray(pool)[np.argsort(-np.linalg.norm(np.asarray(pool) - [0.3, 0.6], axis=1))[:4]]
    added = np.asarray(once["pde1"].points[50:54])
    np.testing.assert_array_equal(np.sort(added, axis=0), np.sort(far, axis=0))
    assert float(once["pde1"].mask.sum()) == 54 and float(twice["pde1"].mask.sum()) == 58
    np.testing.assert_array_equal(once["pde1"].points[:50], batch["pde1"].points[:50])
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
    distance = lambda b: {label: e.points[:, 0] for label, e in b.items()}
    batch = points.refine(batch, layout, pools, distance, 4, jnp.asarray(0))
    again = points.resample(batch, layout, pools, jax.random.key(7))
    for label, n in (("pde1", 50), ("bc1", 20)):
        new, pool = np.asarray(again[label].points[:n]), np.asarray(pools[(label,)].points)
        assert pool.shape == (n * points.POOL_FACTOR, 2)
        # one of the pool's sets, whole: n consecutive rows starting at a multiple of n
        sets = pool.reshape(points.POOL_FACTOR, n, 2)
        assert sum(np.array_equal(new, s) for s in sets) == 1
        assert not np.array_equal(new, np.asarray(batch[label].points[:n]))
    np.testing.assert_array_equal(again["pde1"].points[50:], batch["pde1"].points[50:])
    # normals move with their points
    rows = np.asarray(again["bc1"].points)
    normals = np.asarray(again["bc1"].normals)
    on_x = np.isclose(rows[:, 0], 0) | np.isclose(rows[:, 0], 1)
    assert np.allclose(np.abs(normals[on_x, 0]), 1)


def integral_errors(sets: np.ndarray) -> np.ndarray:
    """|mean of sin(pi x) sin(pi y) over each set - its integral over the unit square, 4/pi^2|"""
    values = np.sin(np.pi * sets[..., 0]) * np.sin(np.pi * sets[..., 1])
    return np.abs(values.mean(axis=-1) - 4 / np.pi ** 2)


def test_each_set_of_a_pool_is_drawn_whole_with_the_sampler():
    """Resampling replaces a set by one of its pool's sets: under sobol each is a scrambled
    Sobol set of its own, whose average of a smooth function is far closer to the integral
    than that of random points (root mean square error about 7e-4 against 1.7e-2 for 256
    points; a random subset of the pool would be as far off as random points)."""
    problem = pinnc.compile_file(EXAMPLES / "poisson.pde", points=256, boundary_points=20,
                                 model="mlp(hidden=[8])")
    batch = problem.sample(jax.random.key(1))
    layout = points.layout(problem, batch)
    interior = lambda sampler: np.asarray(points.pools(problem.with_options(sampler=sampler),
                                                       layout, np.random.default_rng(0))
                                          [("pde1",)].points).reshape(-1, 256, 2)
    sobol, uniform = interior("sobol"), interior("uniform")
    assert len(sobol) == points.POOL_FACTOR
    assert len(np.unique(sobol.reshape(-1, 2), axis=0)) == 256 * points.POOL_FACTOR
    rms = lambda sets: np.sqrt(np.mean(integral_errors(sets) ** 2))
    assert rms(sobol) < 2e-3 and rms(uniform) > 6e-3
    # grid: the pool is one finer grid (16 x 256 = 64^2 cell centres) cut at random into sets
    grid = interior("grid").reshape(-1, 2)
    np.testing.assert_allclose(np.sort(np.unique(grid[:, 0])), (np.arange(64) + 0.5) / 64)
    assert len(np.unique(grid, axis=0)) == 64 ** 2


def test_gradient_norm_balancing_equalizes_the_terms_pull(problem):
    params = problem.init(jax.random.key(0))
    batch = problem.sample(jax.random.key(1))
    weights = balanced(problem, params, batch, jnp.ones(2), jnp.asarray(True))
    norms = [float(jnp.sqrt(sum(jnp.sum(g ** 2) for g in jax.tree.leaves(
        jax.grad(lambda p, l=label: problem.term_values(p, batch)[l])(params)))))
        for label in ("pde1", "bc1")]
    pulls = [w * n for w, n in zip(np.asarray(weights), norms)]
    assert pulls[0] == pytest.approx(pulls[1], rel=1e-10)
    assert pulls[0] == pytest.approx(sum(norms), rel=1e-10)
    smoothed = balanced(problem, params, batch, 2 * weights, jnp.asarray(False))
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
