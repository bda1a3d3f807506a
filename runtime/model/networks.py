"""Networks that represent fields, over one point: multilayer perceptrons, gated ("modified")
MLPs and PirateNets, optionally on random Fourier features and with factorized weights.

A plain mlp's parameters are a list of layers ``{"w": (fan_in, fan_out), "b": (fan_out,)}``;
a factorized layer holds ``{"s": (fan_out,), "v": (fan_in, fan_out), "b"}`` instead.
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
    """The width of the network's inputs: one per coordinate, but 2 per harmonic (a cosine
    and a sine) for a coordinate the field is periodic in."""
    return len(field.coords) + sum(2 * p.harmonics - 1 for p in field.periodic)


def embedding(model: ir.Model, in_dim: int, seed: int, index: int, dtype) -> jax.Array | None:
    """The matrix B (in_dim, M) of a model's Fourier features cos(zB), sin(zB), drawn from
    N(0, sigma²) by the program's ``seed`` and the field's ``index``; None without them.
    It is a constant of the network, never trained: `Problem.field_functions` closes over it."""
    if not model.fourier:
        return None
    rng = np.random.default_rng((seed, index))
    return jnp.asarray(rng.normal(0.0, model.sigma, (in_dim, model.fourier)), dtype)


def init(key: jax.Array, model: ir.Model, in_dim: int, dtype) -> list[dict] | dict:
    """A network's start parameters: Glorot-normal weights and zero biases (`ir.Model`'s
    forms: `apply` says how each uses them). A plain mlp's are the list of its layers."""
    width = 2 * model.fourier if model.fourier else in_dim
    return _INITS[model.form](key, model, width, dtype)


def apply(layers, model: ir.Model, lows, highs, point: jax.Array,
          periodic: tuple[tuple[int, ir.Periodic], ...] = (),
          fourier: jax.Array | None = None) -> jax.Array:
    """The network's value (a scalar) at one point of shape ``(d,)``.

    Inputs are first mapped from the box ``[lows, highs]`` to ``[-1, 1]``, so that networks see
    the same scale whatever the units of the domain. A coordinate in ``periodic`` ((index in
    the point, `ir.Periodic`)) enters as cos(2 pi k x / L) and sin(2 pi k x / L) instead, k = 1
    .. its harmonics: the network, and every derivative of it, is then periodic in it. With
    ``fourier`` (`embedding`'s B) the inputs z then become [cos(zB), sin(zB)].
    """
    lows = jnp.asarray(lows, point.dtype)
    highs = jnp.asarray(highs, point.dtype)
    z = 2 * (point - lows) / (highs - lows) - 1
    if periodic:
        z = _periodic_inputs(z, point, periodic)
    if fourier is not None:
        z = jnp.concatenate([jnp.cos(z @ fourier), jnp.sin(z @ fourier)])
    z = _FORMS[model.form](layers, ACTIVATIONS[model.activation], z)
    return ACTIVATIONS[model.output](z[0])


def _mlp(layers: list[dict], activation: Callable, z: jax.Array) -> jax.Array:
    for layer in layers[:-1]:
        z = activation(_dense(layer, z))
    return _dense(layers[-1], z)


def _gated(net: dict, activation: Callable, z: jax.Array) -> jax.Array:
    """The modified MLP (Wang, Teng & Perdikaris 2021): encoders U, V of the inputs, and
    every hidden layer's output g mixes them, g U + (1 - g) V."""
    u, v = (activation(_dense(layer, z)) for layer in net["encoders"])
    h = z
    for layer in net["layers"][:-1]:
        h = _mix(activation(_dense(layer, h)), u, v)
    return _dense(net["layers"][-1], h)


def _pirate(net: dict, activation: Callable, z: jax.Array) -> jax.Array:
    """PirateNet (Wang, Sankaran, Wang & Perdikaris 2024): residual blocks of three dense
    layers, the first two gated between encoders U, V, each block x -> a f(x) + (1 - a) x
    with a trained a that starts at 0: the network starts linear in its inputs."""
    u, v = (activation(_dense(layer, z)) for layer in net["encoders"])
    x = z
    for block in net["blocks"]:
        first, second, third = block["layers"]
        h = _mix(activation(_dense(first, x)), u, v)
        h = _mix(activation(_dense(second, h)), u, v)
        h = activation(_dense(third, h))
        x = block["alpha"] * h + (1 - block["alpha"]) * x
    return _dense(net["output"], x)


def _mix(g: jax.Array, u: jax.Array, v: jax.Array) -> jax.Array:
    return g * u + (1 - g) * v


def _dense(layer: dict, z: jax.Array) -> jax.Array:
    """z W + b, W a layer's ``w`` or, factorized, its ``v`` scaled by exp(``s``) per column."""
    w = layer["v"] * jnp.exp(layer["s"]) if "s" in layer else layer["w"]
    return z @ w + layer["b"]


def _layers(key: jax.Array, widths: tuple[int, ...], model: ir.Model, dtype) -> list[dict]:
    """Dense layers between consecutive ``widths``, factorized where the model says."""
    keys = jax.random.split(key, len(widths) - 1)
    layers = []
    for k, fan_in, fan_out in zip(keys, widths[:-1], widths[1:]):
        scale = float(np.sqrt(2.0 / (fan_in + fan_out)))  # a Python float keeps ``dtype``
        layer = {"w": scale * jax.random.normal(k, (fan_in, fan_out), dtype),
                 "b": jnp.zeros((fan_out,), dtype)}
        layers.append(_factorized(k, layer, model.factorized))
    return layers


def _factorized(key: jax.Array, layer: dict, rwf: ir.Factorization | None) -> dict:
    """``layer`` as W = V exp(s) (random weight factorization): s ~ N(mean, std²) per output
    unit and V = W / exp(s), so the network starts as the unfactorized one."""
    if rwf is None:
        return layer
    key = jax.random.fold_in(key, 1)  # not the key the weights were drawn with
    s = rwf.mean + rwf.std * jax.random.normal(key, layer["b"].shape, layer["b"].dtype)
    return {"s": s, "v": layer["w"] / jnp.exp(s), "b": layer["b"]}


def _init_mlp(key: jax.Array, model: ir.Model, width: int, dtype) -> list[dict]:
    return _layers(key, (width, *model.hidden, 1), model, dtype)


def _init_gated(key: jax.Array, model: ir.Model, width: int, dtype) -> dict:
    first, second, rest = jax.random.split(key, 3)
    encoders = [_layers(k, (width, model.hidden[0]), model, dtype)[0] for k in (first, second)]
    return {"encoders": encoders, "layers": _layers(rest, (width, *model.hidden, 1), model, dtype)}


def _init_pirate(key: jax.Array, model: ir.Model, width: int, dtype) -> dict:
    keys = jax.random.split(key, len(model.hidden) + 3)
    hidden = model.hidden[0]
    encoders = [_layers(k, (width, hidden), model, dtype)[0] for k in keys[:2]]
    blocks = [{"layers": _layers(k, (width, hidden, hidden, width), model, dtype),
               "alpha": jnp.zeros((), dtype)} for k in keys[3:]]
    output = _layers(keys[2], (width, 1), model, dtype)[0]
    return {"encoders": encoders, "blocks": blocks, "output": output}


_INITS = {"mlp": _init_mlp, "gated": _init_gated, "pirate": _init_pirate}
_FORMS = {"mlp": _mlp, "gated": _gated, "pirate": _pirate}


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
