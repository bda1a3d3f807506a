"""Causal weighting of a space-time residual (Wang, Sankaran & Perdikaris 2022).

A term's points are split into M slices of time; slice i's mean square L_i is weighted by
w_i = exp(-epsilon * sum_{k<i} L_k), the weights held constant under differentiation, and the
term's value is the mean over the slices that hold points of w_i L_i. Later times then count
only once the earlier ones are fitted, as a time-stepping solver would have them.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from ...compiler import ir
from .batch import Entry


def slice_weights(losses: jax.Array, epsilon: float) -> jax.Array:
    """w_i = exp(-epsilon * sum_{k<i} losses_k) for each slice's mean square ``losses`` (M,)."""
    earlier = jnp.cumsum(losses) - losses
    return jnp.exp(-epsilon * earlier)


def point_weights(residual: jax.Array, entry: Entry, column: int, low: float, high: float,
                  causal: ir.Causal) -> jax.Array:
    """(N,) c with the term's causal value ``sum(c * residual**2)``: c = w_i / (M' n_i) at a
    point of slice i (n_i its counted points, M' the slices holding any), 0 off the mask.
    Constant under differentiation, so that ``sqrt(c) * residual`` are its least-squares rows."""
    residual = jax.lax.stop_gradient(residual)
    times = entry.points[:, column]
    slices = causal.slices
    index = jnp.clip(jnp.floor((times - low) / (high - low) * slices), 0, slices - 1)
    index = index.astype(jnp.int32)
    mask = jnp.ones_like(residual) if entry.mask is None else entry.mask
    counts = jax.ops.segment_sum(mask, index, num_segments=slices)
    sums = jax.ops.segment_sum(mask * residual ** 2, index, num_segments=slices)
    losses = sums / jnp.maximum(counts, 1)
    filled = jnp.maximum(jnp.sum(counts > 0), 1)
    per_slice = slice_weights(losses, causal.epsilon) / (filled * jnp.maximum(counts, 1))
    return mask * per_slice[index]
