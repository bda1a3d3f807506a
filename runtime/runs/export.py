"""A run's fields on a grid, written for ParaView and VisIt as VTK unstructured grids (`.vtu`,
through meshio): one file per field, ``<field>.vtu``.

Each field is sampled on a regular grid of its domain's bounding box in its own coordinates (the
first three as VTK's x, y, z; a time coordinate is one of them), keeping the points inside the
domain and the cells (lines, quads, hexahedra) whose corners all are. Each file holds the
predicted field as point data named after it and, where the program has an ``exact`` for it,
``<field>_exact`` and ``<field>_error`` (prediction minus exact).
"""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import meshio
import numpy as np

from ...compiler.errors import FileError
from ..model import Params, Problem
from .extent import FieldExtent, field_extent, on_host
from .folder import write_atomically

# Points per axis where none is asked for, by the number of coordinates.
DEFAULT_GRID = {1: 1001, 2: 201, 3: 51}
MAX_GRID_POINTS = 16_777_216  # 256^3: the grid's size bounds the memory export takes
_BATCH = 65_536               # points evaluated at once
_CELLS = {1: "line", 2: "quad", 3: "hexahedron"}
# A cell's corners as offsets along each axis, in VTK's order for its type.
_CORNERS = {1: [(0,), (1,)],
            2: [(0, 0), (1, 0), (1, 1), (0, 1)],
            3: [(0, 0, 0), (1, 0, 0), (1, 1, 0), (0, 1, 0),
                (0, 0, 1), (1, 0, 1), (1, 1, 1), (0, 1, 1)]}


class Exported(NamedTuple):
    """Field ``name``: the file written, or None and the ``reason`` it was not."""
    name: str
    path: Path | None
    reason: str = ""


def grid_size(dimension: int, grid: int | None) -> int:
    """Points per axis of a field of ``dimension`` coordinates (``grid`` where given)."""
    return grid or DEFAULT_GRID[dimension]


def export_vtk(problem: Problem, params: Params, folder, grid: int | None = None,
               fields: list[str] | None = None) -> list[Exported]:
    """Write ``folder/<field>.vtu`` for each field of ``fields`` (default: every field and
    reported quantity) with ``grid`` points per axis (default `DEFAULT_GRID`). A field of more
    than three coordinates is not written (VTK's points have three); its entry says so."""
    folder = Path(folder)
    written = []
    for name in fields or [q.name for q in problem.ir.quantities]:
        extent = field_extent(problem, name)
        if len(extent.coords) > 3:
            written.append(Exported(name, None, f"{len(extent.coords)} coordinates; VTK "
                                    "files hold points of at most three"))
            continue
        n = grid_size(len(extent.coords), grid)
        if n < 2 or n ** len(extent.coords) > MAX_GRID_POINTS:
            raise ValueError(f"a grid of {n} points per axis for {name}: at least 2, and at "
                             f"most {MAX_GRID_POINTS:,} points in all")
        mesh = field_mesh(problem, params, extent, n)
        path = folder / f"{name}.vtu"
        _write_mesh(path, mesh)
        written.append(Exported(name, path))
    return written


def field_mesh(problem: Problem, params: Params, extent: FieldExtent, n: int) -> meshio.Mesh:
    """The mesh of one field: an ``n``-per-axis grid of its box, cut to its domain."""
    dimension = len(extent.coords)
    points = grid_points(extent, n)
    inside = (np.ones(len(points), bool) if extent.contains is None
              else np.asarray(extent.contains(points), bool))
    renumbered = np.cumsum(inside) - 1  # a kept point's index among the kept ones
    cells = _grid_cells(n, dimension)
    cells = renumbered[cells[np.all(inside[cells], axis=1)]]
    kept = points[inside]
    data = {extent.name: _evaluate(on_host(problem.field(extent.name, params), problem), kept)}
    exact = problem.exact(extent.name)
    if exact is not None:
        expected = _evaluate(on_host(exact, problem), kept)
        data[f"{extent.name}_exact"] = expected
        data[f"{extent.name}_error"] = data[extent.name] - expected
    xyz = np.zeros((len(kept), 3))
    xyz[:, :dimension] = kept
    return meshio.Mesh(xyz, [(_CELLS[dimension], cells.astype(np.int64))], point_data=data)


def grid_points(extent: FieldExtent, n: int) -> np.ndarray:
    """The (n^d, d) points of an ``n``-per-axis grid of the box, the last coordinate varying
    fastest."""
    axes = [np.linspace(low, high, n) for low, high in zip(extent.lows, extent.highs)]
    return np.stack([a.ravel() for a in np.meshgrid(*axes, indexing="ij")], axis=1)


def _grid_cells(n: int, dimension: int) -> np.ndarray:
    """(cells, corners) indices into `grid_points`' order: every cell of the grid."""
    starts = np.stack([a.ravel() for a in np.meshgrid(*[np.arange(n - 1)] * dimension,
                                                      indexing="ij")], axis=1)
    strides = n ** np.arange(dimension - 1, -1, -1)
    return np.stack([(starts + np.asarray(offset)) @ strides for offset in _CORNERS[dimension]],
                    axis=1)


def _evaluate(function, points: np.ndarray) -> np.ndarray:
    if len(points) == 0:
        return np.zeros(0)
    return np.concatenate([function(points[i:i + _BATCH]).reshape(-1)
                           for i in range(0, len(points), _BATCH)])


def _write_mesh(path: Path, mesh: meshio.Mesh) -> None:
    """``path`` written whole or not at all (`folder.write_atomically`)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise FileError(path.parent, f"cannot create the folder: "
                        f"{(error.strerror or str(error)).lower()}") from None
    # meshio's VTU writer opens the file by name: it writes the temporary file
    # `write_atomically` holds open (and then syncs and renames).
    write_atomically(path, lambda handle: meshio.write(handle.name, mesh, file_format="vtu"))
