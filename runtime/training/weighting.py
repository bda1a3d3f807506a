"""Adaptive weighting of the terms: gradient-norm balancing, on the device."""
from __future__ import annotations

import jax
import jax.numpy as jnp

from ...compiler import ir
from ..model import Batch, Params, Problem


def balanced(problem: Problem, params: Params, batch: Batch, weights: jax.Array,
              first: jax.Array, smoothing: float = ir.Weighting().smoothing) -> jax.Array:
    """Gradient-norm balancing (Wang, Teng & Perdikaris 2021): each term's multiplier becomes
    (sum of all terms' gradient norms) / (its own), smoothed with the previous multipliers, so
    that every term pulls on the parameters with the same strength (times its own weight).
    The first update (at step 0) sets them outright."""
    labels = [t.label for t in problem.ir.terms]
    values = lambda p: jnp.stack([problem.term_values(p, batch)[label] for label in labels])
    gradients = jax.jacrev(values)(params)  # one forward pass, a reverse pass per term
    norms = jnp.sqrt(sum(jnp.sum(g.reshape(len(labels), -1) ** 2, axis=1)
                         for g in jax.tree.leaves(gradients)))
    target = jnp.sum(norms) / jnp.maximum(norms, jnp.finfo(norms.dtype).tiny)
    new = jnp.where(first, target, smoothing * weights + (1 - smoothing) * target)
    return jnp.where(jnp.isfinite(new), new, weights)
