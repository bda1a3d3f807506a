"""`pinnc export DIR --vtk`: each field on a grid of its domain, as a VTK file that reads back
with meshio and holds, at its points, the values the run's problem computes there.

The run folders are written from a program's initial parameters (`TrainResult.save`): what is
exported does not depend on training, and no training keeps these tests small.
"""
from __future__ import annotations

from pathlib import Path

import jax
import meshio
import numpy as np
import pytest

import pinnc
from pinnc.cli import main
from pinnc.runtime.training import TrainResult

DISK = ("let exact_u = sin(pi*x)*cos(pi*y)\n"
        "domain Disk = ball((x, y), center=[0, 0], radius=1)\n"
        "field u(x, y): mlp(hidden=[8])\n"
        "pde lap(u) = -2*pi^2*exact_u in Disk\n"
        "bc u = exact_u on boundary(Disk)\n"
        "exact u = sin(pi*x)*cos(pi*y)\n")
ROD = ("domain Rod = interval(x in [0, 2]) * interval(t in [0, 1])\n"
       "field T(x, t): mlp(hidden=[8])\n"
       "pde D(T, t) = D(T, x, x) in Rod\n")
LINE = ("domain I = box(x in [-1, 3])\nfield u(x): mlp(hidden=[8])\n"
        "pde D(u, x, x) = 1 in I\nbc u = 0 on boundary(I)\n")
CUBE = ("domain C = box(x in [0, 1], y in [0, 2], z in [-1, 1])\nfield u(x, y, z): mlp(hidden=[8])\n"
        "field v(x, y, z): mlp(hidden=[8])\npde lap(u) + v = 0 in C\npde v = u in C\n")
FOUR = ("domain H = box(a in [0, 1], b in [0, 1], c in [0, 1], d in [0, 1])\n"
        "field u(a, b, c, d): mlp(hidden=[8])\npde lap(u) = 0 in H\n")


def saved_run(text: str, name: str, folder: Path) -> Path:
    """A run folder of ``text`` with its initial parameters, as `pinnc.load_run` reads it."""
    problem = pinnc.compile_source(text, name, points=16, boundary_points=8)
    params = problem.init(jax.random.key(1))
    history = {"step": [0], "loss": [1.0], **{t.label: [1.0] for t in problem.ir.terms}}
    metrics = {"status": "ok", "steps": 0, "fields": {}, "params": {}}
    TrainResult(problem, params, metrics, history).save(folder)
    return folder


def export(argv: list, capsys) -> tuple[int, str, str]:
    status = main(["export", *map(str, argv)])
    out, err = capsys.readouterr()
    return status, out, err


def values_at(run: Path, name: str, points: np.ndarray) -> np.ndarray:
    """Field ``name`` of the run folder at ``points`` (N, d), computed by the loaded run."""
    result = pinnc.load_run(run)
    return np.asarray(result.field(name)(points.astype(np.float64)), np.float64)


def test_a_disk_is_exported_on_its_grid_cut_to_the_disk(tmp_path, capsys):
    run = saved_run(DISK, "disk", tmp_path / "run")
    status, out, err = export([run, "--vtk", "--grid", 21], capsys)
    assert status == 0, err
    path = run / "vtk" / "u.vtu"
    assert out.splitlines() == [str(path)]
    mesh = meshio.read(path)
    xy = mesh.points[:, :2]
    assert np.all(mesh.points[:, 2] == 0)
    # points of the 21 x 21 grid of [-1, 1]^2 inside the unit disk, and only those
    ticks = np.linspace(-1, 1, 21)
    grid = np.stack(np.meshgrid(ticks, ticks, indexing="ij"), -1).reshape(-1, 2)
    inside = grid[np.sum(grid ** 2, axis=1) <= 1 + 1e-12]
    assert len(xy) == len(inside) < 21 * 21
    assert {tuple(p) for p in np.round(xy, 12)} == {tuple(p) for p in np.round(inside, 12)}
    # the values are the run's at those points; the exact solution and the error beside them
    u = mesh.point_data["u"]
    np.testing.assert_allclose(u, values_at(run, "u", xy), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(mesh.point_data["u_exact"],
                               np.sin(np.pi * xy[:, 0]) * np.cos(np.pi * xy[:, 1]), atol=1e-12)
    np.testing.assert_allclose(mesh.point_data["u_error"], u - mesh.point_data["u_exact"],
                               atol=1e-12)
    # quadrilaterals whose four corners are in the disk
    (cells,) = mesh.cells
    assert cells.type == "quad" and len(cells.data) > 0
    assert cells.data.max() < len(xy)
    corners = xy[cells.data]  # (cells, 4, 2)
    sides = np.linalg.norm(np.roll(corners, -1, axis=1) - corners, axis=2)
    np.testing.assert_allclose(sides, 0.1, rtol=1e-9)


def test_a_space_time_field_a_line_and_a_cube(tmp_path, capsys):
    rod = saved_run(ROD, "rod", tmp_path / "rod")
    status, _, err = export([rod, "--grid", 5, "-o", tmp_path / "out"], capsys)
    assert status == 0, err
    mesh = meshio.read(tmp_path / "out" / "T.vtu")
    assert len(mesh.points) == 25 and mesh.cells[0].type == "quad" and len(mesh.cells[0].data) == 16
    assert mesh.points[:, 0].max() == 2 and mesh.points[:, 1].max() == 1  # x, then t
    np.testing.assert_allclose(mesh.point_data["T"], values_at(rod, "T", mesh.points[:, :2]),
                               rtol=1e-12, atol=1e-14)
    assert set(mesh.point_data) == {"T"}  # no exact solution

    line = saved_run(LINE, "line", tmp_path / "line")
    assert export([line], capsys)[0] == 0
    mesh = meshio.read(line / "vtk" / "u.vtu")
    assert len(mesh.points) == 1001 and mesh.cells[0].type == "line"
    assert len(mesh.cells[0].data) == 1000
    np.testing.assert_allclose(mesh.points[[0, -1], 0], [-1, 3])
    np.testing.assert_allclose(mesh.point_data["u"], values_at(line, "u", mesh.points[:, :1]),
                               rtol=1e-12, atol=1e-14)

    cube = saved_run(CUBE, "cube", tmp_path / "cube")
    status, out, err = export([cube, "--grid", 4, "--field", "v"], capsys)
    assert status == 0, err
    assert out.splitlines() == [str(cube / "vtk" / "v.vtu")]
    mesh = meshio.read(cube / "vtk" / "v.vtu")
    assert len(mesh.points) == 64 and mesh.cells[0].type == "hexahedron"
    assert len(mesh.cells[0].data) == 27
    np.testing.assert_allclose(mesh.points.max(axis=0), [1, 2, 1])
    np.testing.assert_allclose(mesh.point_data["v"], values_at(cube, "v", mesh.points),
                               rtol=1e-12, atol=1e-14)
    # each hexahedron's corners in VTK's order: the bottom face counter-clockwise, then the top
    first = mesh.points[mesh.cells[0].data[0]]
    np.testing.assert_allclose(first - first[0], [[0, 0, 0], [1 / 3, 0, 0], [1 / 3, 2 / 3, 0],
                                                  [0, 2 / 3, 0], [0, 0, 2 / 3], [1 / 3, 0, 2 / 3],
                                                  [1 / 3, 2 / 3, 2 / 3], [0, 2 / 3, 2 / 3]],
                               atol=1e-12)


def test_refusals(tmp_path, capsys):
    four = saved_run(FOUR, "four", tmp_path / "four")
    status, out, err = export([four, "--grid", 3], capsys)
    assert status == 0 and out == ""
    assert "note: u is not exported: 4 coordinates" in err
    cube = saved_run(CUBE, "cube", tmp_path / "cube")
    status, _, err = export([cube, "--field", "w"], capsys)
    assert status == 2 and "no field 'w'" in err and "u, v" in err
    status, _, err = export([cube, "--grid", 1000], capsys)
    assert status == 2 and "--grid 1000" in err
    status, _, err = export([cube, "--grid", 1], capsys)
    assert status == 2
    status, out, err = export([tmp_path / "nowhere"], capsys)
    assert status == 1 and err.startswith(f"{tmp_path / 'nowhere'}: error: no such run folder")
    blocked = tmp_path / "file"
    blocked.write_text("")
    status, _, err = export([cube, "-o", blocked], capsys)
    assert status == 1 and err.startswith(f"{blocked}: error: ") and "Traceback" not in err


def test_a_new_training_removes_the_previous_runs_export(tmp_path, capsys):
    cube = saved_run(CUBE, "cube", tmp_path / "cube")
    assert export([cube, "--grid", 3], capsys)[0] == 0
    assert sorted(p.name for p in (cube / "vtk").iterdir()) == ["u.vtu", "v.vtu"]
    from pinnc.runtime.runs import folder

    folder.start(pinnc.compile_source(LINE, "line"), cube)
    assert list((cube / "vtk").iterdir()) == []


def test_the_help_and_docs_give_the_grid_defaults_export_uses(capsys):
    from pinnc.runtime.runs.export import DEFAULT_GRID, MAX_GRID_POINTS

    with pytest.raises(SystemExit):
        main(["export", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    doc = (Path(__file__).resolve().parent.parent / "docs" / "cli.md").read_text()
    for dimension, n in DEFAULT_GRID.items():
        words = {1: "one", 2: "two", 3: "three"}[dimension]
        assert f"{n} for {words}" in text and f"{n} for {words}" in doc
    assert f"{MAX_GRID_POINTS:,} points in all" in doc
