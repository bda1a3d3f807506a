"""The primitive domains as point sets: boxes (and intervals), balls, polygons.

Each class maps points of the unit cube (`sampling.unit_points`) onto its interior and its
boundary, so every spec sampler works for every shape and no point is ever thrown away. Boundary
points come with their outward unit normals. Membership (`contains`) is for the closed set,
forgiving rounding of about 1e-9 of the shape's size; ``strict=True`` asks for the open set, less
that same margin, which is what combinations of shapes need to tell the sides of a shared edge.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from ...compiler import ir
from .predicates import close
from .regions import Plane, PointsAndNormals, Shape
from .sampling import shares, unit_points

_SLACK = 1e-9  # of a shape's size: how far off its boundary a rounded point may still count on it


# --- boxes ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Face:
    """The side of a box where coordinate ``axis`` sits at its high bound (or low, if not)."""
    axis: int
    high: bool


@dataclass(frozen=True)
class BoxGeometry(Shape):
    """An axis-aligned box ``lows[i] <= coords[i] <= highs[i]``; an interval when dim is 1."""
    coords: tuple[str, ...]
    lows: tuple[float, ...]
    highs: tuple[float, ...]

    @classmethod
    def from_ir(cls, box: ir.Box) -> BoxGeometry:
        lows, highs = zip(*box.bounds) if box.bounds else ((), ())
        assert all(low < high for low, high in zip(lows, highs)), box
        return cls(box.coords, tuple(map(float, lows)), tuple(map(float, highs)))

    def bounding_box(self) -> tuple[np.ndarray, np.ndarray]:
        """``(lows, highs)``, each (dim,)."""
        return np.array(self.lows, dtype=float), np.array(self.highs, dtype=float)

    def faces(self) -> tuple[Face, ...]:
        return tuple(Face(axis, high) for axis in range(self.dim) for high in (False, True))

    def face_measure(self, face: Face) -> float:
        """The (dim-1)-volume of ``face``; an interval's end points count 1 each."""
        lows, highs = self.bounding_box()
        return float(np.prod(np.delete(highs - lows, face.axis)))

    def sample_interior(self, n: int, rng: np.random.Generator,
                        sampler: str = "sobol") -> np.ndarray:
        """``n`` points inside the box, (n, dim) float64."""
        lows, highs = self.bounding_box()
        return lows + unit_points(sampler, n, self.dim, rng) * (highs - lows)

    def contains(self, points: np.ndarray, strict: bool = False) -> np.ndarray:
        """Whether each of ``points`` (N, dim) lies in the closed box (open, if ``strict``):
        (N,) bool."""
        lows, highs = self.bounding_box()
        slack = _SLACK * (highs - lows)  # boundary points computed with rounding still count
        if strict:
            return np.all((points > lows + slack) & (points < highs - slack), axis=1)
        return np.all((points >= lows - slack) & (points <= highs + slack), axis=1)

    def outward_normals(self, points: np.ndarray) -> np.ndarray:
        """Unit outward normal (N, dim) of the face nearest each of ``points`` (N, dim).

        At a corner, where several faces are equally near, the first in `faces` order wins.
        Sampled boundary points carry their normals already; this is for points from elsewhere.
        """
        lows, highs = self.bounding_box()
        distances = np.concatenate([np.abs(points - lows), np.abs(points - highs)], axis=1)
        nearest = np.argmin(distances, axis=1)
        normals = np.zeros((len(points), self.dim))
        normals[np.arange(len(points)), nearest % self.dim] = np.where(nearest < self.dim,
                                                                       -1.0, 1.0)
        return normals

    def describe(self) -> str:
        sides = ", ".join(f"{c} in [{lo:g}, {hi:g}]"
                          for c, lo, hi in zip(self.coords, self.lows, self.highs))
        return f"the box {sides}"

    def _volume(self) -> float:
        lows, highs = self.bounding_box()
        return float(np.prod(highs - lows))

    def _piece_measure(self, plane: Plane | None) -> float:
        return float(sum(self.face_measure(face) for face in self._faces_in(plane)))

    def _draw_piece(self, plane: Plane | None, n: int, rng: np.random.Generator,
                    sampler: str) -> PointsAndNormals:
        """``n`` points over the faces (in ``plane``), shared in proportion to face measure."""
        faces = self._faces_in(plane)
        counts = shares(n, np.array([self.face_measure(face) for face in faces]), rng)
        lows, highs = self.bounding_box()
        points, normals = np.empty((n, self.dim)), np.zeros((n, self.dim))
        for face, start, count in zip(faces, np.cumsum(counts) - counts, counts):
            rows = slice(start, start + count)
            free = [axis for axis in range(self.dim) if axis != face.axis]
            points[rows, free] = lows[free] + (unit_points(sampler, count, self.dim - 1, rng)
                                               * (highs[free] - lows[free]))
            points[rows, face.axis] = highs[face.axis] if face.high else lows[face.axis]
            normals[rows, face.axis] = 1.0 if face.high else -1.0
        return points, normals

    def _faces_in(self, plane: Plane | None) -> tuple[Face, ...]:
        if plane is None:
            return self.faces()
        bounds = ((False, self.lows[plane.axis]), (True, self.highs[plane.axis]))
        return tuple(Face(plane.axis, high) for high, bound in bounds if close(plane.value, bound))


# --- balls ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BallGeometry(Shape):
    """The closed ball ``|p - center| <= radius``: a disk in 2-D, an interval in 1-D."""
    coords: tuple[str, ...]
    center: tuple[float, ...]
    radius: float

    @classmethod
    def from_ir(cls, ball: ir.Ball) -> BallGeometry:
        assert ball.radius > 0 and len(ball.center) == len(ball.coords), ball
        return cls(ball.coords, tuple(map(float, ball.center)), float(ball.radius))

    def bounding_box(self) -> tuple[np.ndarray, np.ndarray]:
        center = np.array(self.center, dtype=float)
        return center - self.radius, center + self.radius

    def sample_interior(self, n: int, rng: np.random.Generator,
                        sampler: str = "sobol") -> np.ndarray:
        """``n`` points inside the ball, (n, dim) float64.

        One unit coordinate u gives the radius ``radius * u**(1/dim)`` (the volume inside radius
        s grows as s**dim), the other dim give a direction; no point is rejected, so this costs
        the same in 20 dimensions as in 2.
        """
        unit = unit_points(sampler, n, self.dim + 1, rng)
        radii = self.radius * unit[:, :1] ** (1.0 / self.dim)
        return np.array(self.center) + radii * _directions(unit[:, 1:])

    def contains(self, points: np.ndarray, strict: bool = False) -> np.ndarray:
        """Whether each of ``points`` (N, dim) lies in the closed ball (open, if ``strict``)."""
        distance = np.linalg.norm(points - np.array(self.center), axis=1)
        if strict:
            return distance < self.radius * (1 - _SLACK)
        return distance <= self.radius * (1 + _SLACK)

    def describe(self) -> str:
        center = ", ".join(f"{c:g}" for c in self.center)
        return f"the ball ({', '.join(self.coords)}) with center [{center}], radius {self.radius:g}"

    def _volume(self) -> float:
        """``pi**(d/2) / Gamma(d/2 + 1) * radius**d``, through logarithms so large d is fine."""
        d = self.dim
        return math.exp(d / 2 * math.log(math.pi) - math.lgamma(d / 2 + 1)
                        + d * math.log(self.radius))

    def _piece_measure(self, plane: Plane | None) -> float:
        if plane is None:
            return self.dim * self._volume() / self.radius  # 2 end points when dim is 1
        return float(len(self._ends_in(plane)))  # a sphere of dim >= 2 has no flat piece

    def _draw_piece(self, plane: Plane | None, n: int, rng: np.random.Generator,
                    sampler: str) -> PointsAndNormals:
        """``n`` points spread uniformly over the sphere, whose normals are the directions."""
        if plane is None:
            normals = _directions(unit_points(sampler, n, self.dim, rng))
        else:  # an end of a one-dimensional ball
            (side,) = self._ends_in(plane)
            normals = np.full((n, 1), side)
        return np.array(self.center) + self.radius * normals, normals

    def _ends_in(self, plane: Plane) -> list[float]:
        """The directions (+1.0, -1.0) of the ends of a 1-D ball in ``plane``."""
        if self.dim != 1:
            return []
        return [side for side in (-1.0, 1.0)
                if close(plane.value, self.center[0] + side * self.radius)]


def _directions(unit: np.ndarray) -> np.ndarray:
    """Unit vectors (N, d) spread uniformly over the sphere, from points (N, d) of the unit
    cube: normal quantiles of each coordinate (an isotropic Gaussian) scaled to length 1."""
    tiny = np.finfo(float).eps
    gaussian = ndtri(np.clip(unit, tiny, 1 - tiny))
    lengths = np.linalg.norm(gaussian, axis=1, keepdims=True)
    degenerate = lengths[:, 0] == 0  # the centre of the cube, which a grid may hold
    gaussian[degenerate, 0], lengths[degenerate] = 1.0, 1.0
    return gaussian / lengths


# --- polygons ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PolygonGeometry(Shape):
    """A simple polygon; ``vertices`` go round it counter-clockwise, without repeats."""
    coords: tuple[str, str]
    vertices: tuple[tuple[float, float], ...]

    @classmethod
    def from_ir(cls, polygon: ir.Polygon) -> PolygonGeometry:
        corners = [tuple(map(float, v)) for v in polygon.vertices]
        corners = [v for i, v in enumerate(corners) if v != corners[i - 1]]  # repeats, closing
        assert len(corners) >= 3, polygon
        if _signed_area(np.array(corners)) < 0:
            corners.reverse()
        return cls(polygon.coords, tuple(corners))

    def bounding_box(self) -> tuple[np.ndarray, np.ndarray]:
        corners = np.array(self.vertices)
        return corners.min(axis=0), corners.max(axis=0)

    def sample_interior(self, n: int, rng: np.random.Generator,
                        sampler: str = "sobol") -> np.ndarray:
        """``n`` points inside the polygon, (n, 2) float64.

        The polygon is cut into triangles (ear clipping). The first unit coordinate picks a
        triangle, each owning a slice of [0, 1) as long as its share of the area, and, rescaled
        within that slice, goes on with the second to a point of the triangle.
        """
        unit = unit_points(sampler, n, 2, rng)
        triangles, areas = self._triangles
        ends = np.cumsum(areas) / areas.sum()
        which = np.minimum(np.searchsorted(ends, unit[:, 0], side="right"), len(areas) - 1)
        starts = ends[which] - areas[which] / areas.sum()
        along = np.clip((unit[:, 0] - starts) * areas.sum() / areas[which], 0.0, 1.0)
        a, b, c = (triangles[which, i] for i in range(3))
        # sqrt(along) spreads points evenly in the triangle: the area below a level grows as
        # its square.
        root, across = np.sqrt(along)[:, None], unit[:, 1:]
        return (1 - root) * a + root * (1 - across) * b + root * across * c

    def contains(self, points: np.ndarray, strict: bool = False) -> np.ndarray:
        """Whether each of ``points`` (N, 2) lies in the closed polygon (open, if ``strict``).

        Crossings of a ray towards +x decide inside from outside; points within the slack of
        an edge count as on it. One pass over the edges, vectorized over the points.
        """
        lows, highs = self.bounding_box()
        slack = _SLACK * float(np.max(highs - lows))
        x, y = points[:, 0], points[:, 1]
        inside = np.zeros(len(points), dtype=bool)
        near_edge = np.zeros(len(points), dtype=bool)
        starts, ends, lengths, _ = self._edges
        for (x1, y1), (x2, y2), length in zip(starts, ends, lengths):
            straddles = (y1 > y) != (y2 > y)
            crossing_x = x1 + (y - y1) * (x2 - x1) / np.where(straddles, y2 - y1, 1.0)
            inside ^= straddles & (x < crossing_x)
            t = np.clip(((x - x1) * (x2 - x1) + (y - y1) * (y2 - y1)) / length ** 2, 0, 1)
            near_edge |= np.hypot(x - x1 - t * (x2 - x1), y - y1 - t * (y2 - y1)) <= slack
        return inside & ~near_edge if strict else inside | near_edge

    def describe(self) -> str:
        corners = ", ".join(f"[{x:g}, {y:g}]" for x, y in self.vertices)
        return f"the polygon ({', '.join(self.coords)}) with vertices {corners}"

    def _volume(self) -> float:
        return _signed_area(np.array(self.vertices))

    def _piece_measure(self, plane: Plane | None) -> float:
        return float(np.sum(self._edges[2][self._edges_in(plane)]))

    def _draw_piece(self, plane: Plane | None, n: int, rng: np.random.Generator,
                    sampler: str) -> PointsAndNormals:
        """``n`` points over the edges (in ``plane``): one unit coordinate runs along their
        total length, so each edge gets points in proportion to its length."""
        starts, ends, lengths, normals = (part[self._edges_in(plane)] for part in self._edges)
        position = unit_points(sampler, n, 1, rng)[:, 0] * lengths.sum()
        stops = np.cumsum(lengths)
        which = np.minimum(np.searchsorted(stops, position, side="right"), len(lengths) - 1)
        along = np.clip((position - (stops - lengths)[which]) / lengths[which], 0.0, 1.0)
        points = starts[which] + along[:, None] * (ends[which] - starts[which])
        return points, normals[which]

    def _edges_in(self, plane: Plane | None) -> np.ndarray:
        """Which edges (E,) lie in ``plane``, or all of them for None."""
        starts, ends, _, _ = self._edges
        if plane is None:
            return np.ones(len(starts), dtype=bool)
        return close(starts[:, plane.axis], plane.value) & close(ends[:, plane.axis], plane.value)

    @functools.cached_property
    def _edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Starts (E, 2), ends (E, 2), lengths (E,), outward unit normals (E, 2) of the edges."""
        starts = np.array(self.vertices)
        ends = np.roll(starts, -1, axis=0)
        steps = ends - starts
        lengths = np.linalg.norm(steps, axis=1)
        # counter-clockwise: the interior is on the left, so (dy, -dx) points out
        normals = np.stack([steps[:, 1], -steps[:, 0]], axis=1) / lengths[:, None]
        return starts, ends, lengths, normals

    @functools.cached_property
    def _triangles(self) -> tuple[np.ndarray, np.ndarray]:
        """Corners (T, 3, 2) and areas (T,) of a triangulation by ear clipping."""
        corners = np.array(self.vertices)
        triangles = corners[np.array(_ear_clipping(corners))]
        areas = np.array([_signed_area(triangle) for triangle in triangles])
        return triangles[areas > 0], areas[areas > 0]  # flat ones could never be drawn


def _signed_area(corners: np.ndarray) -> float:
    """Shoelace formula: positive when ``corners`` (V, 2) go counter-clockwise."""
    x, y = corners[:, 0], corners[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def _ear_clipping(corners: np.ndarray) -> list[tuple[int, int, int]]:
    """Triangles (index triples) covering the simple counter-clockwise polygon ``corners``.

    An ear is a convex corner whose triangle holds no other corner; cutting it off leaves a
    simple polygon, which always has another. Corners on a straight line are dropped.
    """
    remaining = list(range(len(corners)))
    triangles = []
    while len(remaining) > 3:
        for k, current in enumerate(remaining):
            before, after = remaining[k - 1], remaining[(k + 1) % len(remaining)]
            a, b, c = corners[before], corners[current], corners[after]
            turn = _cross(b - a, c - b)
            if abs(turn) <= 1e-12 * (np.sum((c - a) ** 2) + 1e-300):
                del remaining[k]  # collinear: no triangle, nothing lost
                break
            others = [corners[i] for i in remaining if i not in (before, current, after)]
            if turn > 0 and not any(_in_triangle(p, a, b, c) for p in others):
                triangles.append((before, current, after))
                del remaining[k]
                break
        else:
            raise ValueError("polygon is not simple: ear clipping found no ear")
    triangles.append(tuple(remaining))
    return triangles


def _cross(u: np.ndarray, v: np.ndarray) -> float:
    return float(u[0] * v[1] - u[1] * v[0])


def _in_triangle(p: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> bool:
    """Whether ``p`` lies in the closed counter-clockwise triangle ``a, b, c``."""
    return _cross(b - a, p - a) >= 0 and _cross(c - b, p - b) >= 0 and _cross(a - c, p - c) >= 0
