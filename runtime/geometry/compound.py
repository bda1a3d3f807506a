"""Domains made of other domains: set combinations (``A | B``, ``A & B``, ``A - B``) and
products (``A * B``).

A combination is sampled from its operands by rejection, so its points never leave it. Its
boundary is made of operand boundary pieces, each drawn from the operand's boundary and filtered:

- union ``A | B``: the part of ∂A on the boundary of the union, and ∂B outside the closed A;
- intersection ``A & B``: the part of ∂A on the boundary, and ∂B inside the open A;
- difference ``A - B``: the part of ∂A on the boundary, and ∂B inside the open A, whose normals
  are turned round (they point into B).

Whether a point of ∂A lies on the combination's boundary is decided by stepping a short way
along its normal each way: just inside it must be in the combination, just outside not. This
also settles boundaries the operands share: the common edge of two boxes glued side by side is
inside their union, the top of a box cut from a box of the same height is not on the
difference, and a point on both boundaries is counted once, from A. Pieces share n in
proportion to their measures, estimated with a fixed seed (`sampling.accepted_fraction`); so
are the volumes of combinations. Products need no estimate: measures multiply.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .regions import Plane, PointsAndNormals, Shape
from .sampling import EmptyRegionError, accepted_fraction, draw_accepted, shares

_PROBE = 1e-6  # of the operand's size: the step off a boundary point, far above rounding slack

_SYMBOL = {"union": "|", "intersection": "&", "difference": "-"}


@dataclass(frozen=True)
class Piece:
    """Part of an operand's boundary: its points where ``keep(points, normals)`` holds, with
    normals multiplied by ``sign``."""
    operand: Shape
    keep: Callable[[np.ndarray, np.ndarray], np.ndarray]
    sign: float


@dataclass(frozen=True)
class CombinationGeometry(Shape):
    """``left | right``, ``left & right`` or ``left - right`` (op "union", "intersection",
    "difference") of geometries with the same coordinates in the same order."""
    op: str
    left: Shape
    right: Shape

    def __post_init__(self) -> None:
        assert self.op in _SYMBOL and self.left.coords == self.right.coords, self

    @property
    def coords(self) -> tuple[str, ...]:
        return self.left.coords

    def bounding_box(self) -> tuple[np.ndarray, np.ndarray]:
        """``(lows, highs)``, each (dim,): a box holding the combination (not always tightly)."""
        (left_lows, left_highs), (right_lows, right_highs) = (self.left.bounding_box(),
                                                              self.right.bounding_box())
        if self.op == "union":
            return np.minimum(left_lows, right_lows), np.maximum(left_highs, right_highs)
        if self.op == "intersection":
            return np.maximum(left_lows, right_lows), np.minimum(left_highs, right_highs)
        return left_lows, left_highs

    def contains(self, points: np.ndarray, strict: bool = False) -> np.ndarray:
        """Whether each of ``points`` (N, dim) lies in the closed set (open, if ``strict``)."""
        left = self.left.contains(points, strict)
        if self.op == "difference":  # the open set leaves out the closed right, and vice versa
            return left & ~self.right.contains(points, not strict)
        right = self.right.contains(points, strict)
        return left | right if self.op == "union" else left & right

    def sample_interior(self, n: int, rng: np.random.Generator,
                        sampler: str = "sobol") -> np.ndarray:
        """``n`` points of the combination, (n, dim): points of ``left`` kept if in (outside)
        ``right`` for an intersection (difference); for a union, points of ``left`` and points of
        ``right`` outside ``left``, in proportion to the measures of those parts."""
        def draw(operand: Shape) -> Callable[[int], tuple[np.ndarray]]:
            return lambda k: (operand.sample_interior(k, rng, sampler),)
        where = f"the interior of {self.describe()}"
        if self.op == "intersection":
            return draw_accepted(draw(self.left), self.right.contains, n, rng, where)[0]
        if self.op == "difference":
            return draw_accepted(draw(self.left), self._outside(self.right), n, rng, where)[0]
        in_left, in_right = shares(n, np.array(self._union_parts), rng)
        (only_right,) = draw_accepted(draw(self.right), self._outside(self.left), in_right, rng,
                                      where)
        points = np.concatenate([self.left.sample_interior(in_left, rng, sampler), only_right])
        return points[rng.permutation(n)]

    def describe(self) -> str:
        return f"({self.left.describe()} {_SYMBOL[self.op]} {self.right.describe()})"

    def _volume(self) -> float:
        return float(sum(self._union_parts)) if self.op == "union" else self._kept_volume

    @functools.cached_property
    def _union_parts(self) -> tuple[float, float]:
        """Volumes of ``left`` and of the part of ``right`` outside it."""
        outside = accepted_fraction(lambda k, rng: (self.right.sample_interior(k, rng),),
                                    self._outside(self.left))
        return self.left.interior_measure(), self.right.interior_measure() * outside

    @functools.cached_property
    def _kept_volume(self) -> float:
        """Volume of an intersection or difference: of ``left``, times the part kept."""
        keep = self.right.contains if self.op == "intersection" else self._outside(self.right)
        return self.left.interior_measure() * accepted_fraction(
            lambda k, rng: (self.left.sample_interior(k, rng),), keep)

    def _pieces(self) -> tuple[Piece, Piece]:
        inside_left = functools.partial(self.left.contains, strict=True)
        second = {"union": Piece(self.right, lambda p, n: self._outside(self.left)(p), 1.0),
                  "intersection": Piece(self.right, lambda p, n: inside_left(p), 1.0),
                  "difference": Piece(self.right, lambda p, n: inside_left(p), -1.0)}[self.op]
        return Piece(self.left, self._on_boundary, 1.0), second

    def _on_boundary(self, points: np.ndarray, normals: np.ndarray) -> np.ndarray:
        """Whether points of ``left``'s boundary, with its normals, bound the combination."""
        lows, highs = self.left.bounding_box()
        step = _PROBE * float(np.max(highs - lows)) * normals
        return self.contains(points - step) & ~self.contains(points + step)

    @staticmethod
    def _outside(operand: Shape) -> Callable[[np.ndarray], np.ndarray]:
        return lambda points: ~operand.contains(points)

    @functools.lru_cache(maxsize=64)  # asked at every resampling; the answer never changes
    def _piece_measures(self, plane: Plane | None) -> tuple[float, ...]:
        """Estimated measure of each piece of the boundary (in ``plane``): the operand's
        boundary measure there times the fraction of a fixed sample of it that is kept."""
        measures = []
        for piece in self._pieces():
            whole = piece.operand._piece_measure(plane)
            if whole > 0:
                whole *= accepted_fraction(
                    lambda k, rng: piece.operand._draw_piece(plane, k, rng, "sobol"), piece.keep)
            measures.append(whole)
        return tuple(measures)

    def _piece_measure(self, plane: Plane | None) -> float:
        return float(sum(self._piece_measures(plane)))

    def _draw_piece(self, plane: Plane | None, n: int, rng: np.random.Generator,
                    sampler: str) -> PointsAndNormals:
        measures = np.array(self._piece_measures(plane))
        if not measures.sum() > 0:
            raise EmptyRegionError(f"the boundary of {self.describe()} is empty")
        parts = [(np.zeros((0, self.dim)), np.zeros((0, self.dim)))]
        for piece, count in zip(self._pieces(), shares(n, measures, rng)):
            if count:  # never for a piece of measure 0, which may not be drawable at all
                points, normals = draw_accepted(
                    lambda k: piece.operand._draw_piece(plane, k, rng, sampler), piece.keep,
                    count, rng, f"the boundary of {self.describe()}")
                parts.append((points, piece.sign * normals))
        return tuple(np.concatenate(columns) for columns in zip(*parts))


@dataclass(frozen=True)
class ProductGeometry(Shape):
    """``left * right``: the Cartesian product of geometries with disjoint coordinates; points
    have ``left``'s columns, then ``right``'s."""
    left: Shape
    right: Shape

    def __post_init__(self) -> None:
        assert not set(self.left.coords) & set(self.right.coords), self

    @property
    def coords(self) -> tuple[str, ...]:
        return self.left.coords + self.right.coords

    def bounding_box(self) -> tuple[np.ndarray, np.ndarray]:
        (left_lows, left_highs), (right_lows, right_highs) = (self.left.bounding_box(),
                                                              self.right.bounding_box())
        return np.concatenate([left_lows, right_lows]), np.concatenate([left_highs, right_highs])

    def contains(self, points: np.ndarray, strict: bool = False) -> np.ndarray:
        """Whether each of ``points`` (N, dim) lies in the closed set (open, if ``strict``)."""
        split = self.left.dim
        return (self.left.contains(points[:, :split], strict)
                & self.right.contains(points[:, split:], strict))

    def sample_interior(self, n: int, rng: np.random.Generator,
                        sampler: str = "sobol") -> np.ndarray:
        """``n`` points (n, dim): points of ``left`` beside points of ``right``."""
        return np.hstack([self.left.sample_interior(n, rng, sampler),
                          _shuffled(self.right.sample_interior(n, rng, sampler), rng)])

    def describe(self) -> str:
        return f"({self.left.describe()} * {self.right.describe()})"

    def _volume(self) -> float:
        return self.left.interior_measure() * self.right.interior_measure()

    def _sides(self, plane: Plane | None) -> list[tuple[bool, Plane | None, float]]:
        """The boundary pieces (in ``plane``): ``(on left's boundary, the plane in that
        operand's own columns, measure)``; ∂left × right and left × ∂right."""
        split = self.left.dim
        sides = []
        if plane is None or plane.axis < split:
            sides.append((True, plane,
                          self.left._piece_measure(plane) * self.right.interior_measure()))
        if plane is None or plane.axis >= split:
            right_plane = None if plane is None else plane.shifted(-split)
            sides.append((False, right_plane,
                          self.left.interior_measure() * self.right._piece_measure(right_plane)))
        return sides

    def _piece_measure(self, plane: Plane | None) -> float:
        return float(sum(measure for _, _, measure in self._sides(plane)))

    def _draw_piece(self, plane: Plane | None, n: int, rng: np.random.Generator,
                    sampler: str) -> PointsAndNormals:
        """Points of ∂left beside points of right, with left's normals padded with zeros (and
        the other way round), shared in proportion to the two measures."""
        sides = self._sides(plane)
        counts = shares(n, np.array([measure for _, _, measure in sides]), rng)
        parts = [(np.zeros((0, self.dim)), np.zeros((0, self.dim)))]
        for (on_left, own_plane, _), count in zip(sides, counts):
            if not count:  # never for a side of measure 0, which may not be drawable at all
                continue
            boundary, interior = (self.left, self.right) if on_left else (self.right, self.left)
            points, normals = boundary._draw_piece(own_plane, count, rng, sampler)
            others = _shuffled(interior.sample_interior(count, rng, sampler), rng)
            padding = np.zeros_like(others)
            if on_left:
                parts.append((np.hstack([points, others]), np.hstack([normals, padding])))
            else:
                parts.append((np.hstack([others, points]), np.hstack([padding, normals])))
        return tuple(np.concatenate(columns) for columns in zip(*parts))


def _shuffled(points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``points`` in random row order, to be set beside another sample: two quasi-random sets
    drawn apart have lined-up structure, which pairing row i with row i would keep."""
    return points[rng.permutation(len(points))]
