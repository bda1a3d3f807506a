"""Where a field lives, for the files that show it on a grid (plots, VTK export): the bounding
box of its domain in its own coordinates, and the domain's test of which points are inside."""
from __future__ import annotations

from typing import Callable, NamedTuple

import jax.numpy as jnp
import numpy as np

from .. import geometry
from ..model import Problem


class FieldExtent(NamedTuple):
    """Field ``name`` of ``coords`` over the box ``lows``..``highs`` (each (len(coords),));
    ``contains`` maps (N, len(coords)) points to an (N,) bool array (None: the whole box)."""
    name: str
    coords: tuple[str, ...]
    lows: np.ndarray
    highs: np.ndarray
    contains: Callable[[np.ndarray], np.ndarray] | None


def field_extent(problem: Problem, name: str) -> FieldExtent:
    """The extent of field (or reported quantity) ``name`` of ``problem``. A field of some of
    its domain's coordinates only is shown over its whole box: the domain's test needs them
    all."""
    f = problem.ir.reported(name)
    domain = problem.field_domain(name)
    shape = geometry.build(domain)
    columns = [domain.coords.index(c) for c in f.coords]
    lows, highs = (np.asarray(b, np.float64)[columns] for b in shape.bounding_box())
    contains = shape.contains if tuple(f.coords) == domain.coords else None
    return FieldExtent(name, tuple(f.coords), lows, highs, contains)


def on_host(function: Callable, problem: Problem) -> Callable[[np.ndarray], np.ndarray]:
    """``function`` (a field, an exact solution) of host arrays: (N, d) numbers -> (N,)
    float64, computed in the problem's precision."""
    return lambda X: np.asarray(function(jnp.asarray(X, problem.dtype)), np.float64)
