"""Domains as point sets: sampling interiors, boundaries and regions, measures and normals.

`build` turns an IR domain into a geometry object. Each IR domain type has one class here with
the methods of `Geometry`; only the box exists so far. Region predicates (SymPy booleans over the
coordinate symbols) are evaluated on numpy arrays by `evaluate_predicate`: one table from SymPy
node types to numpy functions and one walk, never ``lambdify``/``eval``.

A predicate narrows a boundary in two ways. Written as a disjunction, a clause that is, or is an
``And`` containing, ``Eq(coord, value)`` with ``value`` a bound of ``coord`` *selects* that face:
points are drawn exactly on it. When every clause selects a face, only those faces are drawn;
otherwise the whole boundary is. Either way the drawn points are then filtered by the predicate.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, Protocol

import numpy as np
import sympy
from sympy.logic.boolalg import BooleanAtom, to_dnf

from ..compiler import ir
from .sampling import unit_points


class EmptyRegionError(ValueError):
    """A region has too few points to sample: it is empty (``x > 2`` in ``[0, 1]``), or has no
    volume where volume is needed (``==`` in an interior)."""


# --- predicates ----------------------------------------------------------------------------------

def _close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # Face points carry their bound exactly; the tolerance only forgives rounding elsewhere.
    return np.isclose(a, b, rtol=1e-9, atol=1e-12)


def _fold(function: Callable[[Any, Any], Any]) -> Callable[..., Any]:
    return lambda *args: functools.reduce(function, args)


_NUMPY_OF_SYMPY: dict[type, Callable[..., Any]] = {
    sympy.Add: _fold(np.add), sympy.Mul: _fold(np.multiply), sympy.Pow: np.power,
    sympy.Abs: np.abs, sympy.sign: np.sign, sympy.Min: _fold(np.minimum),
    sympy.Max: _fold(np.maximum), sympy.exp: np.exp, sympy.log: np.log,
    sympy.sin: np.sin, sympy.cos: np.cos, sympy.tan: np.tan, sympy.asin: np.arcsin,
    sympy.acos: np.arccos, sympy.atan: np.arctan, sympy.atan2: np.arctan2,
    sympy.sinh: np.sinh, sympy.cosh: np.cosh, sympy.tanh: np.tanh,
    sympy.Eq: _close, sympy.Ne: lambda a, b: ~_close(a, b),
    sympy.Lt: np.less, sympy.Le: np.less_equal, sympy.Gt: np.greater, sympy.Ge: np.greater_equal,
    sympy.And: _fold(np.logical_and), sympy.Or: _fold(np.logical_or),
    sympy.Xor: _fold(np.logical_xor), sympy.Not: np.logical_not,
}


def evaluate_predicate(predicate: sympy.Basic, coords: tuple[str, ...],
                       points: np.ndarray) -> np.ndarray:
    """Truth of ``predicate`` at each of ``points`` (N, len(coords)): an (N,) bool array.

    Coordinate symbols are matched by name, so assumptions on them do not matter.
    """
    columns = {name: points[:, i] for i, name in enumerate(coords)}
    value = _evaluate(predicate, columns)
    return np.broadcast_to(np.asarray(value, dtype=bool), (len(points),)).copy()


def _evaluate(expr: sympy.Basic, columns: dict[str, np.ndarray]) -> Any:
    if isinstance(expr, BooleanAtom):
        return bool(expr)
    if isinstance(expr, sympy.Symbol):
        if expr.name not in columns:
            raise ValueError(f"region predicate uses {expr.name!r}, not a coordinate here")
        return columns[expr.name]
    if expr.is_number:
        return float(expr)
    function = _NUMPY_OF_SYMPY.get(type(expr))
    if function is None:
        raise ValueError(f"cannot evaluate {type(expr).__name__} in region predicate {expr}")
    return function(*(_evaluate(arg, columns) for arg in expr.args))


def _clauses(predicate: sympy.Basic) -> tuple[sympy.Basic, ...]:
    """The disjuncts of ``predicate`` in disjunctive normal form."""
    normal = to_dnf(predicate)
    return normal.args if isinstance(normal, sympy.Or) else (normal,)


def _equalities(clause: sympy.Basic) -> list[tuple[str, float]]:
    """``(coord, value)`` for each ``Eq`` in ``clause`` that fixes one coordinate to a number."""
    atoms = clause.args if isinstance(clause, sympy.And) else (clause,)
    fixed = []
    for atom in atoms:
        if not isinstance(atom, sympy.Eq):
            continue
        difference = atom.lhs - atom.rhs
        if len(difference.free_symbols) != 1:
            continue
        (symbol,) = difference.free_symbols
        polynomial = difference.as_poly(symbol)
        if polynomial is not None and polynomial.degree() == 1:
            slope, offset = polynomial.all_coeffs()
            fixed.append((symbol.name, float(-offset / slope)))
    return fixed


def _has_no_volume(predicate: sympy.Basic) -> bool:
    """Whether every clause pins a coordinate with ``==``, so the region has zero volume."""
    return all(_equalities(clause) for clause in _clauses(predicate))


# --- accept-reject sampling ----------------------------------------------------------------------

_MAX_ROUNDS = 8
_MAX_BATCH = 2 ** 21
_FRACTION_POINTS = 2 ** 14


def _draw_accepted(draw: Callable[[int], np.ndarray], accept: Callable[[np.ndarray], np.ndarray],
                   n: int, rng: np.random.Generator, description: str) -> np.ndarray:
    """``n`` points from ``draw(k) -> (k, dim)`` for which ``accept`` holds, (n, dim).

    Batches grow with the observed acceptance rate, for at most `_MAX_ROUNDS` rounds. Each batch
    is shuffled so cutting the last one short does not favour the faces drawn first.
    """
    kept, drawn, accepted, batch = [], 0, 0, max(2 * n, 256)
    for _ in range(_MAX_ROUNDS):
        points = draw(batch)
        good = points[accept(points)]
        kept.append(good[rng.permutation(len(good))])
        drawn, accepted = drawn + batch, accepted + len(good)
        if accepted >= n:
            return np.concatenate(kept)[:n]
        wanted = 1.25 * (n - accepted) * drawn / accepted if accepted else 16 * batch
        batch = int(min(max(wanted, 256), _MAX_BATCH))
    raise EmptyRegionError(
        f"{description} is empty or too small to sample: {accepted} of {drawn} points drawn "
        f"fell in it, {n} were needed")


def _accepted_fraction(draw: Callable[[int, np.random.Generator], np.ndarray],
                       predicate: sympy.Basic, coords: tuple[str, ...]) -> float:
    # A fixed seed so that a region's measure is the same number every time it is asked for.
    points = draw(_FRACTION_POINTS, np.random.default_rng(0))
    return float(np.mean(evaluate_predicate(predicate, coords, points)))


# --- geometries ----------------------------------------------------------------------------------

class Geometry(Protocol):
    """What the runtime asks of a domain; every geometry class provides these methods."""
    coords: tuple[str, ...]

    @property
    def dim(self) -> int: ...
    def sample_interior(self, n: int, rng: np.random.Generator,
                        sampler: str = "sobol") -> np.ndarray: ...
    def sample_boundary(self, n: int, rng: np.random.Generator, sampler: str = "sobol",
                        predicate: sympy.Basic | None = None) -> np.ndarray: ...
    def sample_region(self, n: int, rng: np.random.Generator, sampler: str, on_boundary: bool,
                      predicate: sympy.Basic | None = None) -> np.ndarray: ...
    def interior_measure(self, predicate: sympy.Basic | None = None) -> float: ...
    def boundary_measure(self, predicate: sympy.Basic | None = None) -> float: ...
    def bounding_box(self) -> tuple[np.ndarray, np.ndarray]: ...
    def contains(self, points: np.ndarray) -> np.ndarray: ...
    def outward_normals(self, points: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class Face:
    """The side of a box where coordinate ``axis`` sits at its high bound (or low, if not)."""
    axis: int
    high: bool


@dataclass(frozen=True)
class BoxGeometry:
    """An axis-aligned box ``lows[i] <= coords[i] <= highs[i]``; an interval when dim is 1."""
    coords: tuple[str, ...]
    lows: tuple[float, ...]
    highs: tuple[float, ...]

    @classmethod
    def from_ir(cls, box: ir.Box) -> BoxGeometry:
        lows, highs = zip(*box.bounds) if box.bounds else ((), ())
        assert all(low < high for low, high in zip(lows, highs)), box
        return cls(box.coords, tuple(map(float, lows)), tuple(map(float, highs)))

    @property
    def dim(self) -> int:
        return len(self.coords)

    def bounding_box(self) -> tuple[np.ndarray, np.ndarray]:
        """``(lows, highs)``, each (dim,)."""
        return np.array(self.lows, dtype=float), np.array(self.highs, dtype=float)

    def faces(self) -> tuple[Face, ...]:
        return tuple(Face(axis, high) for axis in range(self.dim) for high in (False, True))

    def face_measure(self, face: Face) -> float:
        """The (dim-1)-volume of ``face``; an interval's end points count 1 each."""
        lows, highs = self.bounding_box()
        return float(np.prod(np.delete(highs - lows, face.axis)))

    def interior_measure(self, predicate: sympy.Basic | None = None) -> float:
        """Volume (length, area) of the box, or of the part where ``predicate`` holds.

        With a predicate this is an estimate, volume times the fraction of a fixed Sobol sample
        that satisfies it; it is 0.0 for a predicate that pins a coordinate with ``==``.
        """
        lows, highs = self.bounding_box()
        volume = float(np.prod(highs - lows))
        if predicate is None:
            return volume
        if _has_no_volume(predicate):
            return 0.0
        return volume * _accepted_fraction(
            lambda k, rng: self.sample_interior(k, rng), predicate, self.coords)

    def boundary_measure(self, predicate: sympy.Basic | None = None) -> float:
        """Total measure of the faces, or of the part of the boundary where ``predicate`` holds.

        Faces selected by ``==`` count whole; any further condition scales the faces' measure by
        the fraction of a fixed Sobol sample on them that satisfies it (exactly 1.0 when there is
        none), so such measures are estimates.
        """
        faces = self._faces_for(predicate)
        total = sum(self.face_measure(face) for face in faces)
        if predicate is None or self._only_selects_faces(predicate):
            return total
        return total * _accepted_fraction(
            lambda k, rng: self._sample_faces(faces, k, rng, "sobol"), predicate, self.coords)

    def sample_interior(self, n: int, rng: np.random.Generator,
                        sampler: str = "sobol") -> np.ndarray:
        """``n`` points inside the box, (n, dim) float64."""
        lows, highs = self.bounding_box()
        return lows + unit_points(sampler, n, self.dim, rng) * (highs - lows)

    def sample_boundary(self, n: int, rng: np.random.Generator, sampler: str = "sobol",
                        predicate: sympy.Basic | None = None) -> np.ndarray:
        """``n`` points on the faces (those ``predicate`` selects), (n, dim) float64.

        Each face gets a share of n proportional to its measure; see the module docstring for
        how ``predicate`` selects faces and filters points.
        """
        faces = self._faces_for(predicate)
        if predicate is None or self._only_selects_faces(predicate):
            return self._sample_faces(faces, n, rng, sampler)
        return _draw_accepted(
            lambda k: self._sample_faces(faces, k, rng, sampler),
            lambda points: evaluate_predicate(predicate, self.coords, points),
            n, rng, f"the region {predicate} of the boundary of {self._describe()}")

    def sample_region(self, n: int, rng: np.random.Generator, sampler: str, on_boundary: bool,
                      predicate: sympy.Basic | None = None) -> np.ndarray:
        """``n`` points of the boundary or the interior narrowed by ``predicate``, (n, dim)."""
        if on_boundary:
            return self.sample_boundary(n, rng, sampler, predicate)
        if predicate is None:
            return self.sample_interior(n, rng, sampler)
        where = f"the region {predicate} of the interior of {self._describe()}"
        if _has_no_volume(predicate):
            raise EmptyRegionError(f"{where} has no volume: an `==` condition belongs on the "
                                   "boundary")
        return _draw_accepted(
            lambda k: self.sample_interior(k, rng, sampler),
            lambda points: evaluate_predicate(predicate, self.coords, points), n, rng, where)

    def contains(self, points: np.ndarray) -> np.ndarray:
        """Whether each of ``points`` (N, dim) lies in the closed box: (N,) bool."""
        lows, highs = self.bounding_box()
        slack = 1e-9 * (highs - lows)  # boundary points computed with rounding still count
        inside = (points >= lows - slack) & (points <= highs + slack)
        return np.all(inside, axis=1)

    def outward_normals(self, points: np.ndarray) -> np.ndarray:
        """Unit outward normal (N, dim) of the face nearest each of ``points`` (N, dim).

        At a corner, where several faces are equally near, the first in `faces` order wins.
        """
        lows, highs = self.bounding_box()
        distances = np.concatenate([np.abs(points - lows), np.abs(points - highs)], axis=1)
        nearest = np.argmin(distances, axis=1)
        normals = np.zeros((len(points), self.dim))
        normals[np.arange(len(points)), nearest % self.dim] = np.where(nearest < self.dim,
                                                                       -1.0, 1.0)
        return normals

    def _faces_for(self, predicate: sympy.Basic | None) -> tuple[Face, ...]:
        """The faces ``predicate`` selects with ``==`` if every clause selects one, else all."""
        if predicate is None:
            return self.faces()
        selected = [self._selected_face(clause) for clause in _clauses(predicate)]
        if any(face is None for face in selected):
            return self.faces()
        return tuple(dict.fromkeys(selected))  # drop repeats, keep order

    def _only_selects_faces(self, predicate: sympy.Basic) -> bool:
        """Whether ``predicate`` is a disjunction of bare face equalities, with nothing to filter."""
        return all(isinstance(clause, sympy.Eq) and self._selected_face(clause) is not None
                   for clause in _clauses(predicate))

    def _selected_face(self, clause: sympy.Basic) -> Face | None:
        for name, value in _equalities(clause):
            if name not in self.coords:
                continue
            axis = self.coords.index(name)
            for high, bound in ((False, self.lows[axis]), (True, self.highs[axis])):
                if _close(value, bound):
                    return Face(axis, high)
        return None

    def _sample_faces(self, faces: tuple[Face, ...], n: int, rng: np.random.Generator,
                      sampler: str) -> np.ndarray:
        """``n`` points over ``faces``, shared in proportion to face measure: (n, dim)."""
        counts = _shares(n, np.array([self.face_measure(face) for face in faces]), rng)
        lows, highs = self.bounding_box()
        parts = [np.zeros((0, self.dim))]
        for face, count in zip(faces, counts):
            free = [axis for axis in range(self.dim) if axis != face.axis]
            points = np.empty((count, self.dim))
            points[:, free] = lows[free] + (unit_points(sampler, count, self.dim - 1, rng)
                                            * (highs[free] - lows[free]))
            points[:, face.axis] = highs[face.axis] if face.high else lows[face.axis]
            parts.append(points)
        return np.concatenate(parts)

    def _describe(self) -> str:
        sides = ", ".join(f"{c} in [{lo:g}, {hi:g}]"
                          for c, lo, hi in zip(self.coords, self.lows, self.highs))
        return f"the box {sides}"


def _shares(n: int, measures: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Split ``n`` into integer counts proportional to ``measures`` (largest remainder).

    Ties for the leftover points are broken at random, so that over many draws an odd n does not
    always favour the same face (say, the low end of an interval).
    """
    exact = n * measures / measures.sum()
    counts = np.floor(exact).astype(int)
    order = np.lexsort((rng.random(len(measures)), -(exact - counts)))
    counts[order[: n - counts.sum()]] += 1
    return counts


# --- from the IR ---------------------------------------------------------------------------------

_GEOMETRY_OF_DOMAIN: dict[type, Callable[[Any], Geometry]] = {
    ir.Box: BoxGeometry.from_ir,
}


def build(domain: ir.Domain) -> Geometry:
    """The geometry of an IR domain."""
    return _GEOMETRY_OF_DOMAIN[type(domain)](domain)


def region_points(region: ir.Region, n: int, rng: np.random.Generator,
                  sampler: str = "sobol") -> np.ndarray:
    """``n`` points of ``region``, (n, dim) float64, in the order of ``region.coords``."""
    return build(region.domain).sample_region(n, rng, sampler, region.on_boundary,
                                              region.predicate)


@functools.lru_cache(maxsize=256)  # asked again at every resampling; the answer never changes
def region_measure(region: ir.Region) -> float:
    """The measure of ``region``: volume of an interior part, surface of a boundary part."""
    geometry = build(region.domain)
    if region.on_boundary:
        return geometry.boundary_measure(region.predicate)
    return geometry.interior_measure(region.predicate)
