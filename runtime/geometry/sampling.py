"""Point sets in the unit cube ``[0, 1)^dim``, from which geometry maps points onto domains, and
the generic steps of sampling a shape: accept-reject drawing, splitting n over pieces, and
fixed-seed Monte Carlo fractions for measures.

Every generator takes its randomness from the caller's ``numpy.random.Generator``, so one seed
fixes every point of a run. The names in `SAMPLERS` are those a spec may give as ``sampler``.
"""
from __future__ import annotations

import inspect
import math
from typing import Callable

import numpy as np
from scipy.stats import qmc

from ...compiler.errors import SpecError

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


# --- sampling shapes from pieces and proposals ---------------------------------------------------

class EmptyRegionError(SpecError):
    """A region has too few points to sample: it is empty (``x > 2`` in ``[0, 1]``), or has no
    volume where volume is needed (``==`` in an interior, or in a plane holding no flat piece of
    a boundary). A mistake in the program: `Problem.sample` places it at the term's line."""


Arrays = tuple[np.ndarray, ...]  # row-aligned arrays: points, or points and their normals

_MAX_ROUNDS = 8
_MAX_BATCH = 2 ** 21
_GIVE_UP_EMPTY = 2 ** 17  # draws that hit nothing at all: the region is empty, or far too small
ESTIMATE_POINTS = 2 ** 16  # points of every fixed-seed Monte Carlo estimate of a measure


def draw_accepted(draw: Callable[[int], Arrays], accept: Callable[..., np.ndarray], n: int,
                  rng: np.random.Generator, description: str) -> Arrays:
    """The first ``n`` rows of ``draw(k)`` (row-aligned arrays, e.g. points and normals) for
    which ``accept(*arrays)`` (an (k,) bool array) holds.

    Batches grow with the observed acceptance rate, for at most `_MAX_ROUNDS` rounds, or until
    `_GIVE_UP_EMPTY` draws have found nothing; then EmptyRegionError names ``description``. Each
    batch is shuffled so that cutting the last one short does not favour the pieces drawn first.
    """
    kept, drawn, accepted, batch = [], 0, 0, max(2 * n, 256)
    for _ in range(_MAX_ROUNDS):
        arrays = draw(batch)
        good = accept(*arrays)
        order = rng.permutation(int(good.sum()))
        kept.append(tuple(array[good][order] for array in arrays))
        drawn, accepted = drawn + batch, accepted + len(order)
        if accepted >= n:
            return tuple(np.concatenate(columns)[:n] for columns in zip(*kept))
        if not accepted and drawn >= _GIVE_UP_EMPTY:
            break
        wanted = 1.25 * (n - accepted) * drawn / accepted if accepted else 16 * batch
        batch = int(min(max(wanted, 256), _MAX_BATCH))
    raise EmptyRegionError(
        f"{description} is empty or too small to sample: {accepted} of {drawn} points drawn "
        f"fell in it, {n} were needed")


def accepted_fraction(draw: Callable[[int, np.random.Generator], Arrays],
                      accept: Callable[..., np.ndarray]) -> float:
    """The fraction of `ESTIMATE_POINTS` rows of ``draw(k, rng)`` that ``accept`` keeps.

    Sobol-quality draws make this accurate to about 1e-3; the seed is fixed so that a measure is
    the same number every time it is asked for.
    """
    arrays = draw(ESTIMATE_POINTS, np.random.default_rng(0))
    return float(np.mean(accept(*arrays)))


def shares(n: int, measures: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Split ``n`` into integer counts proportional to ``measures`` (largest remainder).

    Ties for the leftover points are broken at random, so that over many draws an odd n does not
    always favour the same piece (say, the low end of an interval).
    """
    measures = np.asarray(measures, dtype=float)
    exact = n * measures / measures.sum()
    counts = np.floor(exact).astype(int)
    order = np.lexsort((rng.random(len(measures)), -(exact - counts)))
    counts[order[: n - counts.sum()]] += 1
    return counts
