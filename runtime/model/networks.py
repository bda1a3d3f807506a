"""Networks that represent fields: multilayer perceptrons over one point.

A network's parameters are a list of layers ``{"w": (fan_in, fan_out), "b": (fan_out,)}``.
`apply` evaluates at a single point (shape ``(d,)``) and returns a scalar; batches go through
`jax.vmap`, so derivatives with respect to the point are plain `jax.jvp`s.
"""
from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from ...compiler import ir

ACTIVATIONS: dict[str, Callable] = {
    "tanh": jnp.tanh,
    "sigmoid": jax.nn.sigmoid,
    "sin": jnp.sin,
    "gelu": jax.nn.gelu,
    "softplus": jax.nn.softplus,
    "relu": jax.nn.relu,
    "identity": lambda z: z,
}


def input_width(field: ir.Field) -> int:
    """The width of the network's first layer: one input per coordinate, but 2 per harmonic
    (a cosine and a sine) for a coordinate the field is periodic in."""
    return len(field.coords) + sum(2 * p.harmonics - 1 for p in field.periodic)


def init(key: jax.Array, model: ir.Model, in_dim: int, dtype) -> list[dict]:
    """Glorot-normal weights and zero biases for an MLP from ``in_dim`` inputs to one output."""
    widths = (in_dim, *model.hidden, 1)
    keys = jax.random.split(key, len(widths) - 1)
    layers = []
    for k, fan_in, fan_out in zip(keys, widths[:-1], widths[1:]):
        scale = float(np.sqrt(2.0 / (fan_in + fan_out)))  # a Python float keeps ``dtype``
        layers.append({"w": scale * jax.random.normal(k, (fan_in, fan_out), dtype),
                       "b": jnp.zeros((fan_out,), dtype)})
    return layers


def apply(layers: list[dict], model: ir.Model, lows, highs, point: jax.Array,
          periodic: tuple[tuple[int, ir.Periodic], ...] = ()) -> jax.Array:
    """The network's value (a scalar) at one point of shape ``(d,)``.

    Inputs are first mapped from the box ``[lows, highs]`` to ``[-1, 1]``, so that networks see
    the same scale whatever the units of the domain. A coordinate in ``periodic`` ((index in
    the point, `ir.Periodic`)) enters as cos(2 pi k x / L) and sin(2 pi k x / L) instead, k = 1
    .. its harmonics: the network, and every derivative of it, is then periodic in it.
    """
    lows = jnp.asarray(lows, point.dtype)
    highs = jnp.asarray(highs, point.dtype)
    z = 2 * (point - lows) / (highs - lows) - 1
    if periodic:
        z = _periodic_inputs(z, point, periodic)
    activation = ACTIVATIONS[model.activation]
    for layer in layers[:-1]:
        z = activation(z @ layer["w"] + layer["b"])
    z = z @ layers[-1]["w"] + layers[-1]["b"]
    return ACTIVATIONS[model.output](z[0])


def _periodic_inputs(z: jax.Array, point: jax.Array,
                     periodic: tuple[tuple[int, ir.Periodic], ...]) -> jax.Array:
    """``z`` with each periodic coordinate's entry replaced by its harmonics (cosines, then
    sines), in the order `input_width` counts them."""
    kept = [i for i in range(point.shape[0]) if i not in {index for index, _ in periodic}]
    parts = [z[np.asarray(kept)]] if kept else []
    for index, p in periodic:
        angle = (2 * np.pi / p.period) * point[index] * jnp.arange(1, p.harmonics + 1,
                                                                    dtype=point.dtype)
        parts += [jnp.cos(angle), jnp.sin(angle)]
    return jnp.concatenate(parts)
