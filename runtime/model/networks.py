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


def apply(layers: list[dict], model: ir.Model, lows, highs, point: jax.Array) -> jax.Array:
    """The network's value (a scalar) at one point of shape ``(d,)``.

    Inputs are first mapped from the box ``[lows, highs]`` to ``[-1, 1]``, so that networks see
    the same scale whatever the units of the domain.
    """
    lows = jnp.asarray(lows, point.dtype)
    highs = jnp.asarray(highs, point.dtype)
    z = 2 * (point - lows) / (highs - lows) - 1
    activation = ACTIVATIONS[model.activation]
    for layer in layers[:-1]:
        z = activation(z @ layer["w"] + layer["b"])
    z = z @ layers[-1]["w"] + layers[-1]["b"]
    return ACTIVATIONS[model.output](z[0])
