"""What every geometry shares: its regions, the interior or boundary narrowed by a `where`
condition, sampled and measured from a few primitives that each shape defines.

A condition (`predicates.Condition`) narrows a boundary in two ways. Written as a disjunction, a
clause that is, or is an ``And`` containing, ``Eq(coord, value)`` *selects* the flat part of the
boundary lying in the plane ``coord == value`` (a box's face, a polygon's edge, the bottom
``t == 0`` of a disk times an interval) when there is one: points are drawn exactly on it. When
every clause selects a flat piece, only those pieces are drawn (if no clause finds one, the
region is empty: EmptyRegionError); otherwise the whole boundary is. Either way the drawn points
are then filtered by the condition, unless it is only a disjunction of the selecting equalities.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .predicates import Condition
from .sampling import EmptyRegionError, accepted_fraction, draw_accepted, shares

PointsAndNormals = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Plane:
    """The hyperplane ``coords[axis] == value`` of a shape's coordinates."""
    axis: int
    value: float

    def shifted(self, offset: int) -> Plane:
        """The same plane with its axis counted ``offset`` columns later (or earlier)."""
        return Plane(self.axis + offset, self.value)


class Shape(ABC):
    """Base of the geometry classes: regions, measures and boundary sampling with conditions.

    A subclass has ``coords`` and defines `bounding_box`, `contains`, `sample_interior` and
    `describe` (the methods of `geometry.Geometry`), and three primitives:

    - ``_volume() -> float``: the measure of the interior (exact, or a fixed-seed estimate);
    - ``_piece_measure(plane) -> float``: the measure of the whole boundary (``plane`` None), or
      of its flat part lying in ``plane`` (0.0 when none does);
    - ``_draw_piece(plane, n, rng, sampler) -> (points, normals)``: n points (n, dim) spread
      uniformly over that part, with their outward unit normals (n, dim).
    """
    coords: tuple[str, ...]

    @property
    def dim(self) -> int:
        return len(self.coords)

    def interior_measure(self, condition: Condition | None = None) -> float:
        """Volume (length, area) of the interior, or of the part where ``condition`` holds.

        With a condition this is the volume times the fraction of a fixed Sobol sample that
        satisfies it; 0.0 for a condition that pins a coordinate with ``==``.
        """
        volume = self._volume()
        if condition is None:
            return volume
        if condition.where.no_volume:
            return 0.0
        return volume * accepted_fraction(lambda k, rng: (self.sample_interior(k, rng),),
                                          self._holds(condition))

    def boundary_measure(self, condition: Condition | None = None) -> float:
        """Measure of the boundary, or of the part where ``condition`` holds.

        Flat pieces selected by ``==`` count whole; a further condition scales their measure by
        the fraction of a fixed Sobol sample on them that satisfies it, an estimate. An ``==``
        on a plane holding no flat piece gives 0.0.
        """
        try:
            planes = self._planes(condition)
        except EmptyRegionError:
            return 0.0
        total = self._pieces_measure(planes)
        if condition is None or (planes is not None and condition.where.only_equalities):
            return total
        return total * accepted_fraction(
            lambda k, rng: self._draw_pieces(planes, k, rng, "sobol"), self._holds(condition))

    def sample_boundary(self, n: int, rng: np.random.Generator, sampler: str = "sobol",
                        condition: Condition | None = None) -> PointsAndNormals:
        """``n`` points of the boundary (the part where ``condition`` holds) and their outward
        unit normals: ``(points, normals)``, each (n, dim) float64.

        See the module docstring for how ``condition`` selects flat pieces and filters points.
        """
        planes = self._planes(condition)
        if condition is None or (planes is not None and condition.where.only_equalities):
            return self._draw_pieces(planes, n, rng, sampler)
        return draw_accepted(
            lambda k: self._draw_pieces(planes, k, rng, sampler), self._holds(condition), n, rng,
            f"the region {condition.text} of the boundary of {self.describe()}")

    def sample_region(self, n: int, rng: np.random.Generator, sampler: str, on_boundary: bool,
                      condition: Condition | None = None
                      ) -> tuple[np.ndarray, np.ndarray | None]:
        """``n`` points (n, dim) of the boundary or the interior narrowed by ``condition``, and
        the outward unit normals (n, dim) at boundary points, None for interior points."""
        if on_boundary:
            return self.sample_boundary(n, rng, sampler, condition)
        if condition is None:
            return self.sample_interior(n, rng, sampler), None
        where = f"the region {condition.text} of the interior of {self.describe()}"
        if condition.where.no_volume:
            raise EmptyRegionError(f"{where} has no volume: an `==` condition belongs on the "
                                   "boundary")
        (points,) = draw_accepted(lambda k: (self.sample_interior(k, rng, sampler),),
                                  self._holds(condition), n, rng, where)
        return points, None

    def _holds(self, condition: Condition) -> Callable[..., np.ndarray]:
        return lambda points, *normals: condition.truth(points)

    def _planes(self, condition: Condition | None) -> tuple[Plane, ...] | None:
        """The planes whose flat pieces ``condition`` selects, or None for the whole boundary.

        A clause without ``==`` on a coordinate of this shape needs the whole boundary; a clause
        whose ``==`` planes hold no flat piece meets the boundary in a null set and is dropped.
        """
        if condition is None:
            return None
        chosen = []
        for clause in condition.where.clauses:
            candidates = [Plane(self.coords.index(name), value)
                          for name, value in clause.equalities if name in self.coords]
            if not candidates:
                return None
            flat = [plane for plane in candidates if self._piece_measure(plane) > 0]
            if flat:
                chosen.append(flat[0])
        if not chosen:
            raise EmptyRegionError(
                f"the region {condition.text} of the boundary of {self.describe()} is empty: no "
                "flat piece of that boundary lies in the plane an `==` names, so the condition "
                "holds at no more than a few points")
        return tuple(dict.fromkeys(chosen))  # drop repeats, keep order

    def _pieces_measure(self, planes: tuple[Plane, ...] | None) -> float:
        if planes is None:
            return self._piece_measure(None)
        return float(sum(self._piece_measure(plane) for plane in planes))

    def _draw_pieces(self, planes: tuple[Plane, ...] | None, n: int, rng: np.random.Generator,
                     sampler: str) -> PointsAndNormals:
        """``n`` points and normals over the flat pieces in ``planes`` (None: the whole
        boundary), shared in proportion to their measures."""
        if planes is None:
            return self._draw_piece(None, n, rng, sampler)
        counts = shares(n, np.array([self._piece_measure(plane) for plane in planes]), rng)
        parts = [self._draw_piece(plane, count, rng, sampler)
                 for plane, count in zip(planes, counts)]
        return tuple(np.concatenate(columns) for columns in zip(*parts))

    # what each subclass defines
    @abstractmethod
    def _volume(self) -> float: ...

    @abstractmethod
    def _piece_measure(self, plane: Plane | None) -> float: ...

    @abstractmethod
    def _draw_piece(self, plane: Plane | None, n: int, rng: np.random.Generator,
                    sampler: str) -> PointsAndNormals: ...

    @abstractmethod
    def sample_interior(self, n: int, rng: np.random.Generator,
                        sampler: str = "sobol") -> np.ndarray: ...

    @abstractmethod
    def contains(self, points: np.ndarray, strict: bool = False) -> np.ndarray: ...

    @abstractmethod
    def bounding_box(self) -> tuple[np.ndarray, np.ndarray]: ...

    @abstractmethod
    def describe(self) -> str: ...
