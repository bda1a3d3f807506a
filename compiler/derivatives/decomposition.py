"""A constant-coefficient sum of k-th partials as a weighted sum of k-th directional
derivatives (a Waring decomposition of the operator's symbol), for collapsed Taylor mode."""
from __future__ import annotations

import itertools
import math

import numpy as np

from .names import MultiIndex


def waring(coefficients: dict[MultiIndex, float], along: list[str], order: int
           ) -> tuple[list[tuple[float, ...]], list[float]] | None:
    """Directions v_i (components along ``along``) and weights w_i with
    ``sum_i w_i (v_i . grad)**order = sum_m coefficients[m] D^m`` to rounding, or None.

    In two coordinates: the fewest m = 1, ..., order + 1 directions at angles j pi / m (order
    + 1 such directions always do: their powers are then independent). In more: the
    coordinate axes with the diagonals (e_i ± e_j)/sqrt 2 (for the 3-D biharmonic the
    identity 6 (x² + y² + z²)² = 6 sum x_i⁴ ... , 9 directions), else the axes with order + 1
    equally spaced directions in every coordinate plane; None where neither gives it (a
    monomial in three or more coordinates may need other directions). Directions of zero
    weight are dropped: each costs a share of the pass."""
    n = len(along)
    monomials = list(itertools.combinations_with_replacement(range(n), order))
    target = np.array([coefficients.get(tuple(along[i] for i in m), 0.0) for m in monomials])
    fit = lambda candidates: _fit(candidates, monomials, target, order)

    def in_plane(i, j, angle):
        v = np.zeros(n)
        v[i], v[j] = np.cos(angle), np.sin(angle)
        return v

    if n == 2:
        for m in range(1, order + 2):
            found = fit([in_plane(0, 1, np.pi * k / m) for k in range(m)])
            if found is not None:
                return found
        raise AssertionError("order + 1 directions always decompose the operator")
    axes = list(np.eye(n))
    pairs = list(itertools.combinations(range(n), 2))
    diagonals = [in_plane(i, j, a) for i, j in pairs for a in (np.pi / 4, 3 * np.pi / 4)]
    planes = [in_plane(i, j, np.pi * k / (order + 1)) for i, j in pairs
              for k in range(1, order + 1)]  # k = 0 would repeat an axis
    return fit(axes + diagonals) or fit(axes + planes)


def _fit(candidates: list[np.ndarray], monomials: list[tuple[int, ...]], target: np.ndarray,
         order: int) -> tuple[list[tuple[float, ...]], list[float]] | None:
    """The weights of ``candidates`` whose powers give ``target`` exactly (least squares, then
    checked), the directions of zero weight dropped; None where no weights do."""
    # the coefficient of D^m in (v . grad)**order: order! / prod(counts!) * prod v_i**count
    powers = np.array([[math.factorial(order)
                        / math.prod(math.factorial(m.count(i)) for i in set(m))
                        * math.prod(v[i] for i in m) for v in candidates]
                       for m in monomials])
    weights, *_ = np.linalg.lstsq(powers, target, rcond=None)
    if np.linalg.norm(powers @ weights - target) > 1e-12 * np.linalg.norm(target):
        return None
    kept = np.abs(weights) > 1e-12 * np.abs(weights).max()
    exact = lambda c: 0.0 if abs(c) < 1e-15 else float(c)  # cos(pi/2) is 6e-17
    return ([tuple(exact(c) for c in v) for v, k in zip(candidates, kept) if k],
            [float(w) for w in weights[kept]])
