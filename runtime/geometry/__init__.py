"""Domains as point sets (numpy only, no SymPy): shapes, compound domains, regions, sampling,
`where` conditions, and `build` / `region_points` / `region_measure` for an IR domain or region."""
from .domains import (BallGeometry, BoxGeometry, CombinationGeometry, Condition, EmptyRegionError,
                      Geometry, PolygonGeometry, ProductGeometry, build, region_measure,
                      region_points)

__all__ = ["Geometry", "build", "region_points", "region_measure", "EmptyRegionError",
           "Condition", "BoxGeometry", "BallGeometry", "PolygonGeometry",
           "CombinationGeometry", "ProductGeometry"]
