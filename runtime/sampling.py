"""Point sets in the unit cube ``[0, 1)^dim``, from which geometry maps points onto domains.

Every generator takes its randomness from the caller's ``numpy.random.Generator``, so one seed
fixes every point of a run. The names in `SAMPLERS` are those a spec may give as ``sampler``.
"""
from __future__ import annotations

import inspect
import math
from typing import Callable

import numpy as np
from scipy.stats import qmc

SAMPLERS = ("sobol", "halton", "lhs", "uniform", "grid")

# SciPy 1.15 renamed the qmc engines' `seed` argument to `rng`; the project supports older SciPy,
# and the old name is headed for deprecation in the new ones, so use whichever this SciPy has.
_RNG_KEYWORD = "rng" if "rng" in inspect.signature(qmc.Sobol.__init__).parameters else "seed"


def unit_points(sampler: str, n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points of ``sampler`` in ``[0, 1)^dim``, shape (n, dim), float64.

    ``dim == 0`` gives an (n, 0) array: the points of a zero-dimensional face (the end of an
    interval), which have no free coordinate. An unknown ``sampler`` is an internal error, since
    the analyzer checks the name against `SAMPLERS` first; it raises ValueError.
    """
    if sampler not in _GENERATORS:
        raise ValueError(f"unknown sampler {sampler!r}; expected one of {', '.join(SAMPLERS)}")
    if n == 0 or dim == 0:
        return np.zeros((n, dim))
    points = _GENERATORS[sampler](n, dim, rng)
    assert points.shape == (n, dim)
    return np.asarray(points, dtype=np.float64)


def _sobol(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    # Sobol points are balanced only in blocks of 2**m; drawing the enclosing power of two and
    # keeping the first n avoids SciPy's balance warning and keeps the prefix low-discrepancy.
    engine = qmc.Sobol(dim, scramble=True, **{_RNG_KEYWORD: rng})
    return engine.random_base2(math.ceil(math.log2(n)))[:n]


def _halton(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    return qmc.Halton(dim, scramble=True, **{_RNG_KEYWORD: rng}).random(n)


def _latin_hypercube(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    return qmc.LatinHypercube(dim, **{_RNG_KEYWORD: rng}).random(n)


def _uniform(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    return rng.random((n, dim))


def _grid(n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
    """Cell centres of the regular grid with ``m = ceil(n ** (1/dim))`` cells per axis.

    When ``m**dim > n`` (n is not a perfect power) a subset of n centres is chosen with ``rng``,
    without repeats, and returned in grid order; so a grid is exactly regular only when n is.
    """
    per_axis = max(1, round(n ** (1.0 / dim)))
    while per_axis ** dim < n:  # round() may undershoot where the float root is just below m
        per_axis += 1
    total = per_axis ** dim
    chosen = np.arange(n) if total == n else np.sort(rng.choice(total, size=n, replace=False))
    cells = np.stack(np.unravel_index(chosen, (per_axis,) * dim), axis=1)
    return (cells + 0.5) / per_axis


_GENERATORS: dict[str, Callable[[int, int, np.random.Generator], np.ndarray]] = {
    "sobol": _sobol,
    "halton": _halton,
    "lhs": _latin_hypercube,
    "uniform": _uniform,
    "grid": _grid,
}
assert tuple(_GENERATORS) == SAMPLERS
