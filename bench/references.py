"""Reference solutions computed independently of pinnc, for the accuracy benchmarks.

`burgers(x, t, nu)`: viscous Burgers ``u_t + u u_x = nu u_xx`` on [-1, 1] with
``u(x, 0) = -sin(pi x)`` and ``u(+-1, t) = 0``, by the Cole–Hopf transformation (Basdevant et
al., Computers & Fluids 14, 1986):

    u(x, t) = - int sin(pi (x - e)) f(x - e) G(e) de / int f(x - e) G(e) de,
    f(y) = exp(-cos(pi y) / (2 pi nu)),  G(e) = exp(-e^2 / (4 nu t)),

each integral by the trapezoid rule in ``z = e / sqrt(4 nu t)`` on [-Z, Z] (the integrands are
smooth and decay like exp(-z^2), where the rule converges geometrically), with the exponents
shifted by their maximum so that exp(1/(2 pi nu)) ~ e^50 never overflows.
"""
from __future__ import annotations

import numpy as np

Z, NODES = 10.0, 4001


def burgers(x: np.ndarray, t: np.ndarray, nu: float = 0.01 / np.pi,
            chunk: int = 2048) -> np.ndarray:
    x, t = np.broadcast_arrays(np.asarray(x, float), np.asarray(t, float))
    shape = x.shape
    x, t = x.ravel(), t.ravel()
    z = np.linspace(-Z, Z, NODES)
    out = np.empty_like(x)
    for start in range(0, x.size, chunk):
        xs, ts = x[start:start + chunk, None], t[start:start + chunk, None]
        sigma = np.sqrt(4 * nu * np.maximum(ts, 1e-300))
        y = xs - sigma * z[None, :]
        exponent = -np.cos(np.pi * y) / (2 * np.pi * nu) - z[None, :] ** 2
        weight = np.exp(exponent - exponent.max(axis=1, keepdims=True))
        value = -np.trapezoid(np.sin(np.pi * y) * weight, z, axis=1) / np.trapezoid(weight, z, axis=1)
        out[start:start + chunk] = np.where(ts[:, 0] > 0, value, -np.sin(np.pi * xs[:, 0]))
    return out.reshape(shape)


def burgers_grid(nx: int = 201, nt: int = 101, nu: float = 0.01 / np.pi):
    """Points (nx*nt, 2) in the columns (x, t) and the reference u there."""
    X, T = np.meshgrid(np.linspace(-1, 1, nx), np.linspace(0, 1, nt))
    points = np.stack([X.ravel(), T.ravel()], axis=1)
    return points, burgers(points[:, 0], points[:, 1], nu)
