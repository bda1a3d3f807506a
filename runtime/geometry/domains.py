"""Domains as point sets: what the runtime asks of them, and the IR domain each is built from.

`build` turns an IR domain into a geometry: `shapes` holds the primitives (box, ball, polygon),
`compound` the domains made of others (union, intersection, difference, product), `regions` what
they share (regions narrowed by conditions, measures), `predicates` the ``where`` conditions
(the compiler's structure with the function it printed). `region_points` and `region_measure`
answer for an IR region.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Protocol

import numpy as np

from ...compiler import ir
from .compound import CombinationGeometry, ProductGeometry
from .predicates import Condition
from .sampling import EmptyRegionError
from .shapes import BallGeometry, BoxGeometry, PolygonGeometry

__all__ = ["Geometry", "build", "region_points", "region_measure", "EmptyRegionError",
           "Condition", "BoxGeometry", "BallGeometry", "PolygonGeometry",
           "CombinationGeometry", "ProductGeometry"]


class Geometry(Protocol):
    """What the runtime asks of a domain; every geometry class provides these methods.

    Points are (N, dim) float64 arrays whose columns follow ``coords``; normals are outward
    unit vectors (N, dim), row for row with the boundary points they belong to.
    """
    coords: tuple[str, ...]

    @property
    def dim(self) -> int: ...
    def sample_interior(self, n: int, rng: np.random.Generator,
                        sampler: str = "sobol") -> np.ndarray: ...
    def sample_boundary(self, n: int, rng: np.random.Generator, sampler: str = "sobol",
                        condition: Condition | None = None
                        ) -> tuple[np.ndarray, np.ndarray]: ...
    def sample_region(self, n: int, rng: np.random.Generator, sampler: str, on_boundary: bool,
                      condition: Condition | None = None
                      ) -> tuple[np.ndarray, np.ndarray | None]: ...
    def interior_measure(self, condition: Condition | None = None) -> float: ...
    def boundary_measure(self, condition: Condition | None = None) -> float: ...
    def bounding_box(self) -> tuple[np.ndarray, np.ndarray]: ...
    def contains(self, points: np.ndarray, strict: bool = False) -> np.ndarray: ...
    def describe(self) -> str: ...


_GEOMETRY_OF_DOMAIN: dict[type, Callable[[Any], Geometry]] = {
    ir.Box: BoxGeometry.from_ir,
    ir.Ball: BallGeometry.from_ir,
    ir.Polygon: PolygonGeometry.from_ir,
    ir.Combination: lambda d: CombinationGeometry(d.op, build(d.left), build(d.right)),
    ir.Product: lambda d: ProductGeometry(build(d.left), build(d.right)),
}


@functools.lru_cache(maxsize=256)  # keeps a geometry's estimated measures between resamplings
def build(domain: ir.Domain) -> Geometry:
    """The geometry of an IR domain."""
    return _GEOMETRY_OF_DOMAIN[type(domain)](domain)


def region_points(region: ir.Region, n: int, rng: np.random.Generator, sampler: str = "sobol",
                  condition: Condition | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """``n`` points of ``region``, (n, dim) float64 in the order of ``region.coords``, and on a
    boundary their outward unit normals (n, dim); None for an interior region. ``condition``:
    the region's `where` condition (None where it has none)."""
    assert (condition is None) == (region.where is None), "a where condition needs its function"
    if region.points is not None:  # an `at` region: its points, repeated to n rows
        return np.resize(np.asarray(region.points, np.float64), (n, len(region.coords))), None
    return build(region.domain).sample_region(n, rng, sampler, region.on_boundary, condition)


@functools.lru_cache(maxsize=256)  # asked again at every resampling; the answer never changes
def region_measure(region: ir.Region, condition: Condition | None = None) -> float:
    """The measure of ``region``: volume of an interior part, surface of a boundary part;
    ``condition`` as in `region_points`."""
    assert (condition is None) == (region.where is None), "a where condition needs its function"
    if region.points is not None:  # a finite set of points: counted
        return float(len(region.points))
    geometry = build(region.domain)
    if region.on_boundary:
        return geometry.boundary_measure(condition)
    return geometry.interior_measure(condition)
