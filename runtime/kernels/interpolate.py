"""Multilinear interpolation of values given on a rectilinear grid: a table of the language.

Written with plain `jnp` operations (a comparison count for the cell, a dynamic slice of its
2^d corners, products and sums for the weights) so that `jax.jvp`, Taylor mode (`taylor`) and
the forward Laplacian (`laplacian`) differentiate the interpolant as it is: the cell's index
and corners do not move with the point, the weights are linear in each coordinate. Along one
axis the first derivative is the slope of the cell and the second is zero; mixed second
derivatives of a 2-D table are the cell's twist. Outside the grid a coordinate is clamped to
the grid's edge: the edge value, and no slope across it.
"""
from __future__ import annotations

from typing import Sequence

import jax
import jax.numpy as jnp
from jax import lax


def interpolate(axes: Sequence[jax.Array], values: jax.Array, point: jax.Array) -> jax.Array:
    """The interpolant at one point: a scalar.

    axes: d arrays (n_i,), each increasing, n_i >= 2: the grid's coordinates.
    values: (n_0, ..., n_{d-1}) the values at the grid's nodes.
    point: (d,) the coordinates, in the order of ``axes``.
    """
    cells, weights = [], []
    for i, axis in enumerate(axes):
        axis, x = jnp.asarray(axis, point.dtype), point[i]
        # `where`, not `clip`: at the edge itself the slope is the edge cell's, not half of it
        x = jnp.where(x < axis[0], axis[0], jnp.where(x > axis[-1], axis[-1], x))
        cell = jnp.clip(jnp.sum(axis[1:-1] <= x), 0, axis.shape[0] - 2)
        low, high = axis[cell], axis[cell + 1]
        cells.append(cell)
        weights.append((x - low) / (high - low))
    corners = lax.dynamic_slice(jnp.asarray(values, point.dtype), cells, (2,) * len(axes))
    for t in weights:  # contract the leading axis: (1 - t) * lower + t * upper
        corners = corners[0] + t * (corners[1] - corners[0])
    return corners
