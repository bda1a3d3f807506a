"""`where` conditions at run time: the structure the compiler found (`ir.Where`: the clauses of
its disjunctive normal form, their ``coord == value`` atoms) bound to the function that it
printed into the generated module (``WHERE``), and `close`, how ``==`` compares on points.
Geometry reads the structure to select flat pieces of a boundary and calls the function to
filter points; it never evaluates a symbolic expression itself."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ...compiler import ir


def close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Elementwise ``a == b`` up to rounding: how ``Eq`` is evaluated on points (the
    compiler's printer writes the same tolerance into the generated ``WHERE`` functions)."""
    # Face points carry their bound exactly; the tolerance only forgives rounding elsewhere.
    return np.isclose(a, b, rtol=1e-9, atol=1e-12)


@dataclass(frozen=True)
class Condition:
    """A `where` condition on points of ``where.coords``: ``holds(points)`` with points
    (N, dim) gives its truth, (N,) booleans (or one, for a condition without coordinates)."""
    where: ir.Where
    holds: Callable[[np.ndarray], Any]

    @property
    def text(self) -> str:
        return self.where.text

    def truth(self, points: np.ndarray) -> np.ndarray:
        """The condition at each of ``points`` (N, dim): an (N,) bool array."""
        value = self.holds(points)
        return np.broadcast_to(np.asarray(value, dtype=bool), (len(points),)).copy()
