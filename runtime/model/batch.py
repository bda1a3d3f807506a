"""The batch: the points every term is evaluated at, as typed pytrees.

A batch is a dict from a term's label (the user's name for it) to its `Entry`. Terms that share
points (`ir.Problem.point_sets`) map to the same entry. What an entry holds beyond its points
and measure is stated by the IR (`ir.Problem.entry_layout`): normals on a boundary, observed
values for a data term, one entry per integral the term holds, and a mask where training moves
points. A member an entry does not hold is None, an empty pytree, so jit, vmap, `lax.cond` and
checkpoints take entries as they are. Generated modules read the members by attribute.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

import jax

Array = jax.Array


class Entry(NamedTuple):
    """One set of points and what a term needs at them (build it with keywords).

    measure: () the measure of the region the points are drawn from (1 for measured data).
    points: (N, d) coordinates, columns in the order of the term's coordinates.
    normals: (N, d) outward unit normals at boundary points; None inside a domain.
    observed: (N,) the measured values of a data term's field; None elsewhere.
    mask: (N,) 1 where a row counts, 0 for slots reserved for points that refinement adds
      later; None where every row counts.
    integrals: one entry per integral the term holds, in the order of ``ir.Term.integrals``.
    """
    measure: Array
    points: Array
    normals: Optional[Array] = None
    observed: Optional[Array] = None
    mask: Optional[Array] = None
    integrals: tuple["Entry", ...] = ()

    def __getitem__(self, key):
        """``entry["points"]``: the mapping view of an entry the Python API has always given
        (``batch[label]["points"]``); an index or slice reads the tuple."""
        if not isinstance(key, str):
            return tuple.__getitem__(self, key)
        value = getattr(self, key, None) if key in self._fields else None
        if value is None or key == "integrals":
            raise KeyError(key)
        return value

    def rows(self) -> "Rows":
        """The members with one row per point."""
        return Rows(self.points, self.normals, self.observed, self.mask)

    def with_rows(self, rows: "Rows") -> "Entry":
        """This entry with its per-point members replaced by ``rows``."""
        return self._replace(**rows._asdict())


class Rows(NamedTuple):
    """An entry's members with one row per point (`Entry.rows`), which vmap maps over."""
    points: Array
    normals: Optional[Array]
    observed: Optional[Array]
    mask: Optional[Array]


Batch = dict  # {term label: Entry}
