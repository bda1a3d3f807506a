"""Domains as point sets (numpy): shapes, compound domains, regions, sampling, `where`
predicates, and `build` / `region_points` / `region_measure` for an IR domain or region."""
from .domains import (BallGeometry, BoxGeometry, CombinationGeometry, EmptyRegionError, Geometry,
                      PolygonGeometry, ProductGeometry, build, evaluate_predicate, region_measure,
                      region_points)

__all__ = ["Geometry", "build", "region_points", "region_measure", "EmptyRegionError",
           "evaluate_predicate", "BoxGeometry", "BallGeometry", "PolygonGeometry",
           "CombinationGeometry", "ProductGeometry"]
