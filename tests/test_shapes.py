"""Balls, polygons, combinations and products: interiors, boundaries with normals, measures,
predicates."""
from __future__ import annotations

import math
import time

import numpy as np
import pytest
import sympy
from matplotlib.path import Path

from pinnc.compiler import ir
from pinnc.runtime import geometry
from pinnc.runtime.geometry.sampling import SAMPLERS

from conditions import condition

X, Y, T = ir.coordinate_symbols(("x", "y", "t"))
XY = ("x", "y")
EPS = 1e-6


def on(shape, predicate: sympy.Basic) -> geometry.Condition:
    """``predicate`` as a condition on the points of ``shape``."""
    return condition(predicate, shape.coords)


def rng(seed: int = 7) -> np.random.Generator:
    return np.random.default_rng(seed)


def box(x: tuple[float, float], y: tuple[float, float]) -> ir.Box:
    return ir.Box(XY, (x, y))


def disk(center=(0.0, 0.0), radius=1.0) -> ir.Ball:
    return ir.Ball(XY, center, radius)


TIME = ir.Box(("t",), ((0.0, 1.0),))
L_SHAPE = ir.Combination("difference", box((0, 2), (0, 2)), box((1, 2), (1, 2)))
L_EDGES = [((0, 0), (2, 0)), ((2, 0), (2, 1)), ((2, 1), (1, 1)), ((1, 1), (1, 2)),
           ((1, 2), (0, 2)), ((0, 2), (0, 0))]
NOTCHED = ir.Polygon(XY, ((0, 0), (4, 0), (4, 3), (2, 1), (0, 3)))  # a reflex corner at (2, 1)
NOTCHED_EDGES = [((0, 0), (4, 0)), ((4, 0), (4, 3)), ((4, 3), (2, 1)), ((2, 1), (0, 3)),
                 ((0, 3), (0, 0))]
CLOCKWISE_TRIANGLE = ir.Polygon(XY, ((0, 0), (0, 1), (1, 0)))
TWO_DISKS = (disk((0.0, 0.0)), disk((1.0, 0.0)))
PLATE_WITH_HOLE = ir.Combination("difference", box((-1, 1), (-1, 1)), disk(radius=0.5))
CYLINDER = ir.Product(disk(), TIME)

DOMAINS = {
    "disk": disk((1.0, -2.0), 0.5),
    "ball3": ir.Ball(("x", "y", "z"), (0.0, 0.0, 0.0), 2.0),
    "ball1": ir.Ball(("x",), (1.0,), 2.0),
    "triangle": CLOCKWISE_TRIANGLE,
    "notched": NOTCHED,
    "lshape": L_SHAPE,
    "union": ir.Combination("union", *TWO_DISKS),
    "intersection": ir.Combination("intersection", *TWO_DISKS),
    "plate": PLATE_WITH_HOLE,
    "cylinder": CYLINDER,
    "plate_in_time": ir.Product(PLATE_WITH_HOLE, TIME),
    "nested": ir.Combination("union", L_SHAPE, ir.Polygon(XY, ((1.5, 1.5), (3, 1.5), (3, 3)))),
}


def distance_to_segments(points: np.ndarray, segments) -> np.ndarray:
    """Distance (N,) from each of ``points`` (N, 2) to the nearest of ``segments``."""
    nearest = np.full(len(points), np.inf)
    for a, b in np.asarray(segments, dtype=float):
        t = np.clip((points - a) @ (b - a) / np.sum((b - a) ** 2), 0, 1)
        nearest = np.minimum(nearest, np.linalg.norm(points - a - t[:, None] * (b - a), axis=1))
    return nearest


def assert_outward(shape, points: np.ndarray, normals: np.ndarray) -> None:
    """Normals are unit vectors; a short step along one leaves the shape, a step back enters."""
    assert np.allclose(np.linalg.norm(normals, axis=1), 1.0)
    assert not np.any(shape.contains(points + EPS * normals))
    assert np.all(shape.contains(points - EPS * normals))


def monte_carlo_volume(shape, n: int = 200_000) -> float:
    lows, highs = shape.bounding_box()
    points = lows + rng(1).random((n, len(lows))) * (highs - lows)
    return float(np.prod(highs - lows) * np.mean(shape.contains(points)))


# --- every domain --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", DOMAINS)
def test_interior_has_exactly_n_points_all_inside(name):
    shape = geometry.build(DOMAINS[name])
    points = shape.sample_interior(777, rng(), "sobol")
    assert points.shape == (777, shape.dim) and np.all(shape.contains(points))
    assert len(np.unique(points, axis=0)) == 777


@pytest.mark.parametrize("name", DOMAINS)
def test_boundary_points_are_on_the_boundary_with_outward_normals(name):
    shape = geometry.build(DOMAINS[name])
    points, normals = shape.sample_boundary(500, rng(), "sobol")
    assert points.shape == normals.shape == (500, shape.dim)
    assert np.all(shape.contains(points)) and not np.any(shape.contains(points, strict=True))
    assert_outward(shape, points, normals)


@pytest.mark.parametrize("name", DOMAINS)
def test_volume_agrees_with_monte_carlo(name):
    shape = geometry.build(DOMAINS[name])
    assert shape.interior_measure() == pytest.approx(monte_carlo_volume(shape), rel=0.02)


@pytest.mark.parametrize("sampler", SAMPLERS)
@pytest.mark.parametrize("name", ["disk", "notched", "lshape", "cylinder"])
def test_every_sampler_fills_every_kind_of_shape(name, sampler):
    shape = geometry.build(DOMAINS[name])
    points = shape.sample_interior(300, rng(), sampler)
    assert points.shape == (300, shape.dim) and np.all(shape.contains(points))
    boundary, normals = shape.sample_boundary(100, rng(), sampler)
    assert boundary.shape == (100, shape.dim)
    assert_outward(shape, boundary, normals)


# --- balls ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("dim, volume", [(2, math.pi), (3, 4 / 3 * math.pi),
                                         (5, 8 * math.pi ** 2 / 15)])
def test_ball_volume_and_surface_follow_the_formulas(dim, volume):
    shape = geometry.build(ir.Ball(tuple(f"x{i}" for i in range(dim)), (0.5,) * dim, 1.5))
    assert shape.interior_measure() == pytest.approx(volume * 1.5 ** dim, rel=1e-12)
    assert shape.boundary_measure() == pytest.approx(dim * volume * 1.5 ** (dim - 1), rel=1e-12)
    assert monte_carlo_volume(shape) == pytest.approx(shape.interior_measure(), rel=0.02)


def test_circle_points_and_radial_normals():
    shape = geometry.build(disk((1.0, -2.0), 0.5))
    points, normals = shape.sample_boundary(400, rng(), "halton")
    offsets = points - [1.0, -2.0]
    assert np.allclose(np.linalg.norm(offsets, axis=1), 0.5, rtol=1e-12)
    assert np.allclose(normals, offsets / 0.5)
    angles = np.arctan2(offsets[:, 1], offsets[:, 0])
    assert np.histogram(angles, bins=8, range=(-np.pi, np.pi))[0].min() > 40  # 50 expected


def test_ball_interior_is_uniform_in_radius():
    points = geometry.build(ir.Ball(("x", "y", "z"), (0.0, 0.0, 0.0), 1.0)).sample_interior(
        4000, rng(), "sobol")
    assert np.mean(np.linalg.norm(points, axis=1) < 0.5) == pytest.approx(1 / 8, abs=0.02)


def test_twenty_dimensional_ball_is_fast_and_inside():
    shape = geometry.build(ir.Ball(tuple(f"x{i}" for i in range(20)), (0.0,) * 20, 2.0))
    start = time.perf_counter()
    points = shape.sample_interior(10_000, rng(), "sobol")
    assert time.perf_counter() - start < 1.0
    assert points.shape == (10_000, 20) and np.all(np.linalg.norm(points, axis=1) <= 2.0)
    # nearly all the volume of a 20-D ball lies near its surface
    assert np.median(np.linalg.norm(points, axis=1)) == pytest.approx(2 * 0.5 ** (1 / 20),
                                                                       rel=0.01)


def test_one_dimensional_ball_is_an_interval():
    shape = geometry.build(DOMAINS["ball1"])
    assert shape.interior_measure() == pytest.approx(4.0)
    assert shape.boundary_measure() == pytest.approx(2.0)
    points, normals = shape.sample_boundary(10, rng(), "sobol")
    assert set(points[:, 0]) == {-1.0, 3.0} and np.array_equal(normals[:, 0],
                                                              np.sign(points[:, 0] - 1))
    points, normals = shape.sample_boundary(5, rng(), "sobol", on(shape, sympy.Eq(X, 3)))
    assert np.all(points == 3.0) and np.all(normals == 1.0)


# --- polygons ------------------------------------------------------------------------------------

def test_clockwise_triangle_measures_and_outward_normals():
    shape = geometry.build(CLOCKWISE_TRIANGLE)
    assert shape.interior_measure() == pytest.approx(0.5)
    assert shape.boundary_measure() == pytest.approx(2 + math.sqrt(2))
    points, normals = shape.sample_boundary(300, rng(), "sobol")
    on_hypotenuse = np.isclose(points.sum(axis=1), 1.0)
    assert np.allclose(normals[on_hypotenuse], [2 ** -0.5, 2 ** -0.5])
    assert np.mean(on_hypotenuse) == pytest.approx(math.sqrt(2) / (2 + math.sqrt(2)), abs=0.01)
    assert np.allclose(normals[points[:, 0] == 0.0], [-1.0, 0.0])


def test_non_convex_polygon_interior_avoids_the_notch_and_is_uniform():
    shape = geometry.build(NOTCHED)
    assert shape.interior_measure() == pytest.approx(8.0)
    assert shape.boundary_measure() == pytest.approx(10 + 4 * math.sqrt(2))
    points = shape.sample_interior(2000, rng(), "sobol")
    x, y = points.T
    assert np.all(y <= 1 + np.abs(x - 2) + 1e-12)  # below the notch
    assert np.mean(y > 1) == pytest.approx(0.5, abs=0.02)  # area 4 of 8 lies above y = 1
    boundary, normals = shape.sample_boundary(500, rng(), "sobol")
    assert np.all(distance_to_segments(boundary, NOTCHED_EDGES) < 1e-12)
    in_notch = np.isclose(boundary[:, 1], 1 + np.abs(boundary[:, 0] - 2)) & (boundary[:, 1] > 1)
    assert np.allclose(np.abs(normals[in_notch]), 2 ** -0.5) and np.all(normals[in_notch, 1] > 0)


@pytest.mark.parametrize("seed", range(5))
def test_random_star_shaped_polygons_match_an_independent_point_test(seed):
    generator = rng(seed)
    angles = np.sort(generator.uniform(0, 2 * np.pi, 9))
    radii = generator.uniform(0.2, 1.0, 9)
    corners = np.stack([radii * np.cos(angles), radii * np.sin(angles)], axis=1)
    shape = geometry.build(ir.Polygon(XY, tuple(map(tuple, corners[::-1]))))  # clockwise
    path = Path(corners)
    points = shape.sample_interior(1000, rng(), "halton")
    assert np.all(path.contains_points(points, radius=1e-9) | path.contains_points(points,
                                                                                  radius=-1e-9))
    probes = generator.uniform(-1, 1, (2000, 2))
    strictly_in = path.contains_points(probes)
    assert np.array_equal(shape.contains(probes), strictly_in)  # none lies within 1e-9 of an edge
    triangles, areas = shape._triangles
    assert areas.sum() == pytest.approx(shape.interior_measure(), rel=1e-12)


def test_polygon_edge_in_a_plane_is_selected_by_equality():
    shape = geometry.build(NOTCHED)
    points, normals = shape.sample_boundary(50, rng(), "sobol", on(shape, sympy.Eq(Y, 0)))
    assert np.all(points[:, 1] == 0.0) and np.all(normals == [0.0, -1.0])
    assert shape.boundary_measure(on(shape, sympy.Eq(X, 4))) == pytest.approx(3.0)


# --- combinations --------------------------------------------------------------------------------

def test_l_shape_interior_boundary_and_measures():
    shape = geometry.build(L_SHAPE)
    points = shape.sample_interior(2000, rng(), "sobol")
    assert not np.any((points[:, 0] > 1) & (points[:, 1] > 1))
    boundary, normals = shape.sample_boundary(2000, rng(), "sobol")
    assert np.all(distance_to_segments(boundary, L_EDGES) < 1e-12)
    assert_outward(shape, boundary, normals)
    # every edge gets points in proportion to its length: 2 + 1 + 1 + 1 + 1 + 2 = 8
    inner = (boundary[:, 0] == 1.0) & (boundary[:, 1] > 1)
    assert np.all(normals[inner] == [1.0, 0.0]) and np.mean(inner) == pytest.approx(1 / 8, abs=0.02)
    assert shape.interior_measure() == pytest.approx(3.0, rel=0.01)
    assert shape.boundary_measure() == pytest.approx(8.0, rel=0.01)
    assert shape.boundary_measure(on(shape, Y > 1.5)) == pytest.approx(2.0, rel=0.02)


def test_boxes_glued_side_by_side_lose_their_common_edge():
    shape = geometry.build(ir.Combination("union", box((0, 1), (0, 1)), box((1, 2), (0, 1))))
    boundary, normals = shape.sample_boundary(1000, rng(), "sobol")
    assert not np.any(np.isclose(boundary[:, 0], 1.0) & (boundary[:, 1] > 0) & (boundary[:, 1] < 1))
    assert shape.boundary_measure() == pytest.approx(6.0, rel=0.01)
    assert_outward(shape, boundary, normals)


def test_shared_edge_of_overlapping_boxes_is_counted_once():
    shape = geometry.build(ir.Combination("union", box((0, 2), (0, 1)), box((1, 3), (0, 1))))
    assert shape.boundary_measure() == pytest.approx(8.0, rel=0.01)  # not 10
    boundary, _ = shape.sample_boundary(800, rng(), "sobol")
    assert np.mean(boundary[:, 1] == 0.0) == pytest.approx(3 / 8, abs=0.02)


def test_box_touching_from_outside_leaves_a_difference_whole():
    shape = geometry.build(ir.Combination("difference", box((0, 1), (0, 1)), box((1, 2), (0, 1))))
    assert shape.boundary_measure() == pytest.approx(4.0, rel=0.01)
    assert shape.interior_measure() == pytest.approx(1.0, rel=0.01)


def test_union_of_overlapping_disks():
    shape = geometry.build(ir.Combination("union", *TWO_DISKS))
    lens = 2 * math.pi / 3 - math.sqrt(3) / 2
    assert shape.interior_measure() == pytest.approx(2 * math.pi - lens, rel=0.01)
    assert shape.boundary_measure() == pytest.approx(8 * math.pi / 3, rel=0.01)
    points, normals = shape.sample_boundary(1000, rng(), "sobol")
    to_first, to_second = (np.linalg.norm(points - c, axis=1) for c in ([0, 0], [1, 0]))
    assert np.all(to_first >= 1 - 1e-9) and np.all(to_second >= 1 - 1e-9)  # never inside either
    on_first = np.isclose(to_first, 1.0)
    assert np.allclose(normals[on_first], points[on_first])
    assert np.allclose(normals[~on_first], points[~on_first] - [1, 0])
    assert np.mean(on_first) == pytest.approx(0.5, abs=0.02)


def test_intersection_of_overlapping_disks_is_a_lens():
    shape = geometry.build(ir.Combination("intersection", *TWO_DISKS))
    assert shape.interior_measure() == pytest.approx(2 * math.pi / 3 - math.sqrt(3) / 2, rel=0.01)
    assert shape.boundary_measure() == pytest.approx(4 * math.pi / 3, rel=0.01)
    points = shape.sample_interior(1000, rng(), "sobol")
    assert np.all(np.linalg.norm(points - [1, 0], axis=1) <= 1 + 1e-9)
    assert np.all(np.linalg.norm(points, axis=1) <= 1 + 1e-9)
    boundary, normals = shape.sample_boundary(500, rng(), "sobol")
    on_first = np.isclose(np.linalg.norm(boundary, axis=1), 1.0)
    assert np.all(boundary[on_first, 0] >= 0.5 - 1e-9) and np.all(boundary[~on_first, 0] <= 0.5)
    assert np.allclose(normals[on_first], boundary[on_first])


def test_hole_normals_point_into_the_hole():
    shape = geometry.build(PLATE_WITH_HOLE)
    assert shape.interior_measure() == pytest.approx(4 - math.pi / 4, rel=0.01)
    assert shape.boundary_measure() == pytest.approx(8 + math.pi, rel=0.01)
    points, normals = shape.sample_boundary(1000, rng(), "sobol")
    on_hole = np.isclose(np.linalg.norm(points, axis=1), 0.5)
    assert np.allclose(normals[on_hole], -points[on_hole] / 0.5)
    assert np.mean(on_hole) == pytest.approx(math.pi / (8 + math.pi), abs=0.02)


def test_combination_measures_are_deterministic():
    first = geometry.build(DOMAINS["nested"])
    again = geometry.CombinationGeometry(first.op, first.left, first.right)
    assert first.interior_measure() == again.interior_measure()
    assert first.boundary_measure() == again.boundary_measure()


# --- products ------------------------------------------------------------------------------------

def test_cylinder_boundary_has_lids_with_time_normals_and_a_radial_side():
    shape = geometry.build(CYLINDER)
    assert shape.interior_measure() == pytest.approx(math.pi)
    assert shape.boundary_measure() == pytest.approx(4 * math.pi)  # two lids and the side
    points, normals = shape.sample_boundary(1000, rng(), "sobol")
    bottom, top = points[:, 2] == 0.0, points[:, 2] == 1.0
    side = ~bottom & ~top
    assert np.all(normals[bottom] == [0, 0, -1]) and np.all(normals[top] == [0, 0, 1])
    assert np.allclose(np.linalg.norm(points[side, :2], axis=1), 1.0)
    assert np.allclose(normals[side, :2], points[side, :2]) and np.all(normals[side, 2] == 0)
    assert (bottom.sum(), top.sum()) == pytest.approx((250, 250), abs=3)


def test_initial_time_on_a_cylinder_samples_the_bottom_disk():
    at_start = on(geometry.build(CYLINDER), sympy.Eq(T, 0))
    region = ir.Region("D", CYLINDER, on_boundary=True, where=at_start.where)
    points, normals = geometry.region_points(region, 300, rng(), "sobol", at_start)
    assert points.shape == (300, 3) and np.all(points[:, 2] == 0.0)
    assert np.all(np.linalg.norm(points[:, :2], axis=1) <= 1) and np.all(normals == [0, 0, -1])
    assert np.mean(np.linalg.norm(points[:, :2], axis=1) < 0.5) == pytest.approx(0.25, abs=0.03)
    assert geometry.region_measure(region, at_start) == pytest.approx(math.pi)


def test_equality_on_a_face_of_a_combination_samples_only_that_face():
    shape = geometry.build(L_SHAPE)
    points, normals = shape.sample_boundary(200, rng(), "sobol", on(shape, sympy.Eq(X, 0)))
    assert np.all(points[:, 0] == 0.0) and np.all(normals == [-1.0, 0.0])
    assert points[:, 1].min() < 0.1 and points[:, 1].max() > 1.9
    assert shape.boundary_measure(on(shape, sympy.Eq(X, 0))) == pytest.approx(2.0)
    points, normals = shape.sample_boundary(100, rng(), "sobol",
                                            on(shape, sympy.Or(sympy.Eq(X, 1), sympy.Eq(Y, 2))))
    inner = points[:, 0] == 1.0
    assert np.all(points[inner, 1] >= 1) and np.all(normals[inner] == [1.0, 0.0])
    assert np.all(points[~inner, 1] == 2.0) and np.all(points[~inner, 0] <= 1)
    points, _ = shape.sample_boundary(50, rng(), "sobol",
                                      on(shape, sympy.And(sympy.Eq(X, 0), Y < 1)))
    assert np.all(points[:, 0] == 0.0) and np.all(points[:, 1] < 1)


@pytest.mark.parametrize("domain, predicate", [
    (L_SHAPE, sympy.Eq(X, 0.5)),       # crosses the L, holds none of its edges
    (CYLINDER, sympy.Eq(X, 0)),        # cuts the side along two lines only
    (CYLINDER, sympy.Eq(T, 2)),        # misses the cylinder
    (disk(), sympy.Eq(X, 1)),          # touches the circle at one point
])
def test_equality_without_a_flat_piece_raises(domain, predicate):
    shape = geometry.build(domain)
    with pytest.raises(geometry.EmptyRegionError, match="no flat piece"):
        shape.sample_boundary(10, rng(), "sobol", on(shape, predicate))
    assert shape.boundary_measure(on(shape, predicate)) == 0.0


def test_interior_predicates_filter_every_shape():
    shape = geometry.build(disk())
    points, normals = shape.sample_region(200, rng(), "sobol", False, on(shape, X > 0))
    assert normals is None and np.all(points[:, 0] > 0) and np.all(shape.contains(points))
    assert shape.interior_measure(on(shape, X > 0)) == pytest.approx(math.pi / 2, rel=0.01)
    cylinder = geometry.build(CYLINDER)
    with pytest.raises(geometry.EmptyRegionError, match="no volume"):
        cylinder.sample_region(10, rng(), "sobol", False, on(cylinder, sympy.Eq(T, 0)))


@pytest.mark.parametrize("sampler", ["sobol", "halton"])
def test_product_points_are_independent_across_the_factors(sampler):
    # Quasi-random samples of the two factors drawn apart share their digit structure; pairing
    # them row by row would put the low half of one beside the low half of the other.
    points = geometry.build(CYLINDER).sample_interior(4096, rng(), sampler)
    low_radius, early = np.linalg.norm(points[:, :2], axis=1) < 0.5 ** 0.5, points[:, 2] < 0.5
    assert np.mean(low_radius & early) == pytest.approx(0.25, abs=0.02)
    boundary, normals = geometry.build(CYLINDER).sample_boundary(4096, rng(), sampler)
    side = normals[:, 2] == 0
    angle = np.arctan2(boundary[side, 1], boundary[side, 0])
    assert np.mean((angle < 0) & (boundary[side, 2] < 0.5)) == pytest.approx(0.25, abs=0.02)


def test_equalities_reach_through_a_product_into_a_combination():
    shape = geometry.build(DOMAINS["plate_in_time"])
    points, normals = shape.sample_boundary(200, rng(), "sobol", on(shape, sympy.Eq(X, -1)))
    assert np.all(points[:, 0] == -1.0) and np.all(normals == [-1, 0, 0])
    assert shape.boundary_measure(on(shape, sympy.Eq(X, -1))) == pytest.approx(2.0)
    points, normals = shape.sample_boundary(200, rng(), "sobol", on(shape, sympy.Eq(T, 1)))
    assert np.all(points[:, 2] == 1.0) and np.all(normals == [0, 0, 1])
    assert np.all(np.linalg.norm(points[:, :2], axis=1) >= 0.5)  # not in the hole
    assert shape.boundary_measure(on(shape, sympy.Eq(T, 1))) == pytest.approx(4 - math.pi / 4,
                                                                            rel=0.01)


def test_filter_that_empties_a_combination_boundary_fails_quickly():
    shape = geometry.build(L_SHAPE)
    with pytest.raises(geometry.EmptyRegionError, match="empty or too small"):
        shape.sample_boundary(100, rng(), "sobol", on(shape, sympy.And(sympy.Eq(X, 0), Y > 5)))
    with pytest.raises(geometry.EmptyRegionError, match="empty or too small"):
        geometry.build(ir.Combination("difference", box((0, 1), (0, 1)),
                                      box((-1, 2), (-1, 2)))).sample_interior(10, rng())
