"""Sampling, measures and normals of domains, and the plots of a run."""
from __future__ import annotations

import numpy as np
import pytest
import sympy

from pinnc.compiler import ir
from pinnc.runtime import geometry
from pinnc.runtime.geometry.sampling import SAMPLERS, unit_points
from pinnc.runtime.runs import plots

from conditions import condition

X, Y, T = ir.coordinate_symbols(("x", "y", "t"))
XT, XY = ("x", "t"), ("x", "y")


def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def space_time() -> geometry.BoxGeometry:
    return geometry.build(ir.Box(("x", "t"), ((-1.0, 1.0), (0.0, 1.0))))


def rectangle() -> geometry.BoxGeometry:
    return geometry.build(ir.Box(("x", "y"), ((0.0, 2.0), (0.0, 3.0))))


def interval() -> geometry.BoxGeometry:
    return geometry.build(ir.Box(("x",), ((0.0, 2.0),)))


def on_some_face(box: geometry.BoxGeometry, points: np.ndarray) -> np.ndarray:
    lows, highs = box.bounding_box()
    return np.any((points == lows) | (points == highs), axis=1)


# --- unit-cube samplers --------------------------------------------------------------------------

@pytest.mark.parametrize("sampler", SAMPLERS)
@pytest.mark.parametrize("n, dim", [(100, 2), (37, 3), (1, 1), (10, 1), (64, 2)])
def test_unit_points_have_shape_and_lie_in_unit_cube(sampler, n, dim):
    points = unit_points(sampler, n, dim, rng())
    assert points.shape == (n, dim) and points.dtype == np.float64
    assert np.all((points >= 0) & (points < 1))
    assert len(np.unique(points, axis=0)) == n  # no repeated points


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_unit_points_of_dimension_zero_are_empty_rows(sampler):
    assert unit_points(sampler, 5, 0, rng()).shape == (5, 0)


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_unit_points_spread_over_the_cube(sampler):
    points = unit_points(sampler, 1000, 2, rng())
    counts, _, _ = np.histogram2d(points[:, 0], points[:, 1], bins=4, range=[[0, 1], [0, 1]])
    assert counts.min() > 30  # 62.5 expected per cell


def test_grid_is_regular_cell_centres_for_a_perfect_square():
    points = unit_points("grid", 16, 2, rng())
    assert sorted(set(points[:, 0])) == [0.125, 0.375, 0.625, 0.875]


def test_same_seed_gives_same_points_and_unknown_sampler_fails():
    assert np.array_equal(unit_points("sobol", 50, 2, rng()), unit_points("sobol", 50, 2, rng()))
    with pytest.raises(ValueError, match="unknown sampler"):
        unit_points("random", 5, 2, rng())


# --- box interior and boundary -------------------------------------------------------------------

@pytest.mark.parametrize("sampler", SAMPLERS)
def test_interior_points_lie_in_the_box(sampler):
    box = rectangle()
    points = box.sample_interior(500, rng(), sampler)
    assert points.shape == (500, 2)
    assert np.all(box.contains(points))
    assert points[:, 1].max() > 2.5  # the points cover the long side, not only the unit square


def test_boundary_points_lie_on_faces_in_proportion_to_length():
    box = rectangle()
    points, normals = box.sample_boundary(1000, rng(), "sobol")
    assert points.shape == normals.shape == (1000, 2)
    assert np.all(on_some_face(box, points)) and np.all(box.contains(points))
    assert np.array_equal(normals, box.outward_normals(points))
    on_vertical_sides = np.sum((points[:, 0] == 0) | (points[:, 0] == 2))
    assert on_vertical_sides == 600  # sides of length 3 and 3 out of a perimeter of 10


def test_initial_time_predicate_samples_the_face_t_equals_zero():
    points, normals = space_time().sample_boundary(200, rng(), "sobol",
                                                 condition(sympy.Eq(T, 0), XT))
    assert points.shape == (200, 2)
    assert np.all(points[:, 1] == 0.0)
    assert np.all(normals == [0.0, -1.0])
    assert points[:, 0].min() < -0.9 and points[:, 0].max() > 0.9
    assert np.sum(points[:, 0] < 0) == pytest.approx(100, abs=10)


def test_either_end_predicate_samples_both_faces_and_nothing_else():
    predicate = condition(sympy.Or(sympy.Eq(X, -1), sympy.Eq(X, 1)), XT)
    points, normals = space_time().sample_boundary(200, rng(), "sobol", predicate)
    assert set(np.unique(points[:, 0])) == {-1.0, 1.0}
    assert np.array_equal(normals[:, 0], points[:, 0]) and np.all(normals[:, 1] == 0)
    assert np.sum(points[:, 0] == -1.0) == 100
    assert np.all((points[:, 1] >= 0) & (points[:, 1] <= 1))


def test_face_with_a_further_condition_is_filtered_on_that_face():
    predicate = condition(sympy.And(sympy.Eq(T, 0), X > 0.5), XT)
    points, _ = space_time().sample_boundary(50, rng(), "halton", predicate)
    assert points.shape == (50, 2)
    assert np.all(points[:, 1] == 0.0) and np.all(points[:, 0] > 0.5)


def test_filtering_predicate_delivers_exactly_n_boundary_points():
    box = space_time()
    points, normals = box.sample_boundary(301, rng(), "sobol", condition(X > 0, XT))
    assert points.shape == normals.shape == (301, 2)
    assert np.array_equal(normals, box.outward_normals(points))  # filtered row for row
    assert np.all(points[:, 0] > 0) and np.all(on_some_face(box, points))
    assert np.any(points[:, 0] == 1.0) and np.any(points[:, 1] == 0.0)  # several faces


def test_interior_region_is_filtered_and_equality_in_interior_is_an_error():
    box = space_time()
    points, normals = box.sample_region(100, rng(), "lhs", False,
                                        condition(sympy.And(X < 0, T > 0.5), XT))
    assert normals is None
    assert points.shape == (100, 2) and np.all(points[:, 0] < 0) and np.all(points[:, 1] > 0.5)
    with pytest.raises(geometry.EmptyRegionError, match="no volume"):
        box.sample_region(10, rng(), "sobol", False, condition(sympy.Eq(T, 0), XT))


def test_impossible_predicate_raises_empty_region_error():
    with pytest.raises(geometry.EmptyRegionError, match="empty or too small"):
        space_time().sample_boundary(10, rng(), "sobol", condition(X > 5, XT))
    with pytest.raises(geometry.EmptyRegionError):
        space_time().sample_region(10, rng(), "sobol", False,
                                   condition(sympy.And(X > 0.5, X < 0.2), XT))


def test_interval_boundary_is_its_two_end_points():
    points, normals = interval().sample_boundary(11, rng(), "sobol")
    assert points.shape == (11, 1)
    assert set(points[:, 0]) == {0.0, 2.0}
    assert np.array_equal(normals[:, 0], np.where(points[:, 0] == 0.0, -1.0, 1.0))
    assert abs(np.sum(points[:, 0] == 0.0) - np.sum(points[:, 0] == 2.0)) == 1


# --- measures, normals ---------------------------------------------------------------------------

def test_box_measures():
    box = rectangle()
    assert box.interior_measure() == pytest.approx(6.0)
    assert box.boundary_measure() == pytest.approx(10.0)
    assert box.boundary_measure(condition(sympy.Eq(X, 0), XY)) == pytest.approx(3.0)
    either = condition(sympy.Or(sympy.Eq(Y, 0), sympy.Eq(Y, 3)), XY)
    assert box.boundary_measure(either) == pytest.approx(4.0)
    assert box.boundary_measure(condition(Y > 1.5, XY)) == pytest.approx(5.0, rel=0.02)  # estimated
    assert box.interior_measure(condition(X < 1, XY)) == pytest.approx(3.0, rel=0.02)


def test_interval_measures():
    assert interval().interior_measure() == pytest.approx(2.0)
    assert interval().boundary_measure() == pytest.approx(2.0)
    assert interval().boundary_measure(condition(sympy.Eq(X, 2), ("x",))) == pytest.approx(1.0)


def test_region_functions_read_the_ir_region():
    box = ir.Box(("x", "t"), ((-1.0, 1.0), (0.0, 1.0)))
    at_start = condition(sympy.Eq(T, 0), XT)
    initial = ir.Region("Omega", box, on_boundary=True, where=at_start.where)
    assert geometry.region_measure(initial, at_start) == pytest.approx(2.0)
    points, normals = geometry.region_points(initial, 20, rng(), "sobol", at_start)
    assert np.all(points[:, 1] == 0.0) and np.all(normals == [0.0, -1.0])
    interior = ir.Region("Omega", box, on_boundary=False)
    assert geometry.region_measure(interior) == pytest.approx(2)
    points, normals = geometry.region_points(interior, 20, rng(), "sobol")
    assert points.shape == (20, 2) and normals is None


def test_outward_normals_of_a_box():
    points = np.array([[0.0, 1.0], [2.0, 1.5], [1.0, 0.0], [0.5, 3.0]])
    expected = np.array([[-1.0, 0.0], [1.0, 0.0], [0.0, -1.0], [0.0, 1.0]])
    assert np.array_equal(rectangle().outward_normals(points), expected)
    normals = rectangle().outward_normals(rectangle().sample_boundary(100, rng(), "sobol")[0])
    assert np.allclose(np.linalg.norm(normals, axis=1), 1.0)


def test_contains_and_bounding_box():
    lows, highs = rectangle().bounding_box()
    assert np.array_equal(lows, [0.0, 0.0]) and np.array_equal(highs, [2.0, 3.0])
    points = np.array([[1.0, 1.0], [2.0, 3.0], [2.1, 1.0], [1.0, -0.1]])
    assert rectangle().contains(points).tolist() == [True, True, False, False]
    assert rectangle().contains(points, strict=True).tolist() == [True, False, False, False]


def test_a_printed_condition_handles_arithmetic_and_logic():
    points = np.array([[0.5, 0.5], [-0.5, 0.1], [0.9, 0.9]])
    predicate = sympy.And(X**2 + T**2 < 0.6, sympy.Not(sympy.sin(sympy.pi * X) < 0))
    assert condition(predicate, XT).truth(points).tolist() == [True, False, False]
    assert condition(sympy.true, XT).truth(points).tolist() == [True, True, True]


def test_a_condition_s_structure_comes_from_the_compiler():
    where = condition(sympy.Or(sympy.Eq(2 * T - 1, 0), sympy.And(sympy.Eq(X, 1), T > 0.2)),
                      XT).where
    assert {c.equalities for c in where.clauses} == {(("t", 0.5),), (("x", 1.0),)}
    assert where.no_volume and not where.only_equalities
    assert not condition(sympy.Or(sympy.Eq(X, 1), X > 0.5), XT).where.no_volume
    assert condition(sympy.Or(sympy.Eq(X, 1), sympy.Eq(T, 0)), XT).where.only_equalities


# --- plots ---------------------------------------------------------------------------------------

def is_png(path) -> bool:
    return path.exists() and path.stat().st_size > 1000 and path.read_bytes()[:4] == b"\x89PNG"


def test_history_plot_is_written(tmp_path):
    history = {"step": [0, 10, 20], "loss": [1.0, 0.1, 0.01], "pde": [0.9, 0.05, 0.005],
               "energy": [-1.0, 0.0, -2.0]}
    assert is_png(plots.plot_history(tmp_path / "history.png", history))


def test_field_plot_of_an_interval(tmp_path):
    paths = plots.plot_field(tmp_path, "u", ("x",), [0.0], [1.0],
                             lambda p: np.sin(np.pi * p[:, 0]),
                             exact=lambda p: np.sin(np.pi * p[:, 0]) + 1e-3)
    assert [p.name for p in paths] == ["field_u.png"] and all(map(is_png, paths))


def test_field_plot_of_a_rectangle_masks_outside_points(tmp_path):
    def inside_disc(p):
        return np.sum(p**2, axis=1) <= 1.0
    paths = plots.plot_field(tmp_path, "v", ("x", "y"), [-1, -1], [1, 1],
                             lambda p: p[:, 0] * p[:, 1], contains=inside_disc)
    assert [p.name for p in paths] == ["field_v.png"] and all(map(is_png, paths))


def test_field_plot_in_space_time_adds_slices(tmp_path):
    def exact(p):
        return np.exp(-p[:, 1]) * np.sin(np.pi * p[:, 0])
    paths = plots.plot_field(tmp_path, "u", ("x", "t"), [-1, 0], [1, 1],
                             lambda p: exact(p)[:, None] * 1.01, exact=exact)
    assert sorted(p.name for p in paths) == ["field_u.png", "slices_u.png"]
    assert all(map(is_png, paths))


def test_field_plot_in_three_dimensions_writes_nothing(tmp_path):
    assert plots.plot_field(tmp_path, "w", ("x", "y", "z"), [0] * 3, [1] * 3,
                            lambda p: p[:, 0]) == []
    assert list(tmp_path.iterdir()) == []
