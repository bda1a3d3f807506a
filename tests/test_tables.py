"""Tables: ``let a = table("a.csv")``, a function given on a rectilinear grid and interpolated
multilinearly. The kernel is exact where it must be, every derivative engine gives the
interpolant's derivatives, compiled programs evaluate it at their points, mistakes are refused
at the table's line and column, and a coefficient given as a table trains."""
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pinnc
from pinnc import SpecError
from pinnc.cli import main
from pinnc.compiler.pipeline import compile_text
from pinnc.runtime.kernels import laplacian, taylor
from pinnc.runtime.kernels.interpolate import interpolate

jax.config.update("jax_enable_x64", True)

AXES = (np.array([0.0, 0.2, 0.5, 0.6, 1.0]), np.array([-1.0, 0.0, 0.25, 2.0]))


def bilinear(x, y):
    return 1.5 - 2.0 * x + 0.75 * y + 3.0 * x * y


def grid_values(function, axes=AXES):
    return function(*np.meshgrid(*axes, indexing="ij"))


def write_csv(path, header, rows):
    lines = [",".join(header)] + [",".join(repr(float(v)) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")


def table_rows(function, axes=AXES, shuffle=True):
    rows = [(*point, float(function(*point))) for point in itertools.product(*axes)]
    if shuffle:  # any order of rows describes the same grid
        rows = [rows[k] for k in np.random.default_rng(0).permutation(len(rows))]
    return rows


# --- the kernel ----------------------------------------------------------------------------------

def test_the_interpolant_is_exact_at_the_nodes():
    values = np.random.default_rng(1).normal(size=(5, 4, 3))
    axes = (*AXES, np.array([0.0, 1.0, 3.0]))
    f = jax.jit(jax.vmap(lambda p: interpolate(axes, jnp.asarray(values), p)))
    nodes = np.array(list(itertools.product(*axes)))
    np.testing.assert_allclose(f(nodes), values.reshape(-1), rtol=1e-13, atol=1e-13)


def test_the_interpolant_is_exact_for_a_function_linear_in_each_coordinate():
    f = jax.jit(jax.vmap(lambda p: interpolate(AXES, jnp.asarray(grid_values(bilinear)), p)))
    points = np.random.default_rng(2).uniform([0, -1], [1, 2], size=(50, 2))
    np.testing.assert_allclose(f(points), bilinear(points[:, 0], points[:, 1]), rtol=1e-12)


def test_outside_the_grid_a_coordinate_is_clamped_to_the_edge():
    f = jax.jit(jax.vmap(lambda p: interpolate(AXES, jnp.asarray(grid_values(bilinear)), p)))
    outside = np.array([[-3.0, 0.5], [2.0, 0.5], [0.3, -5.0], [7.0, 9.0]])
    expected = bilinear(np.array([0.0, 1.0, 0.3, 1.0]), np.array([0.5, 0.5, -1.0, 2.0]))
    np.testing.assert_allclose(f(outside), expected, rtol=1e-12)
    slope = jax.jit(jax.grad(lambda p: interpolate(AXES, jnp.asarray(grid_values(bilinear)), p)))
    np.testing.assert_allclose(slope(jnp.array([-3.0, 0.5])), [0.0, 0.75 + 3.0 * 0.0])


def _cell_slopes(x, y):
    """The exact partials of the interpolant of a quadratic in x: the slope of x's cell."""
    cell = np.clip(np.searchsorted(AXES[0], x, side="right") - 1, 0, len(AXES[0]) - 2)
    low, high = AXES[0][cell], AXES[0][cell + 1]
    return (high ** 2 - low ** 2) / (high - low) + 2.0 * y, 2.0 * x


def test_every_derivative_engine_gives_the_interpolants_derivatives():
    """Of x^2 + 2xy: along x the slope of the cell (the quadratic is not reproduced), second
    derivatives along one axis 0, the mixed one 2."""
    values = jnp.asarray(grid_values(lambda x, y: x ** 2 + 2 * x * y))
    f = lambda p: interpolate(AXES, values, p)
    points = np.array([[0.1, 0.3], [0.55, -0.5], [0.8, 1.7]])
    slopes = np.stack(_cell_slopes(points[:, 0], points[:, 1]), axis=1)
    directions = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])

    @jax.jit
    def engines(q):
        """Reverse mode, Taylor mode along x, y and x + y, the forward Laplacian."""
        at_point = jax.vmap(lambda p: (jax.grad(f)(p), jax.hessian(f)(p),
                                       taylor.directional_derivatives(f, p, directions, 2)))
        return (*at_point(q), *laplacian.forward_laplacian(f, q, (0, 1))[1:])

    gradients, hessians, series, gradient, lap = engines(points)
    np.testing.assert_allclose(gradients, slopes, rtol=1e-12)
    np.testing.assert_allclose(hessians, np.broadcast_to([[0, 2], [2, 0]], (3, 2, 2)), atol=1e-12)
    np.testing.assert_allclose(series[:, :2, 1], slopes, rtol=1e-12)
    np.testing.assert_allclose(series[:, :2, 2], 0.0, atol=1e-12)
    np.testing.assert_allclose(series[:, 2, 2], 4.0, rtol=1e-12)  # 2 * the mixed partial
    np.testing.assert_allclose(gradient, slopes, rtol=1e-12)
    np.testing.assert_allclose(lap, 0.0, atol=1e-12)


# --- programs ------------------------------------------------------------------------------------

HEAD = "domain O = box(x in [0, 1], y in [-1, 2])\nfield u(x, y)\n"


def compiled(tmp_path, text, **options):
    program = tmp_path / "case.pde"
    program.write_text(text)
    return pinnc.compile_file(str(program), model="mlp(hidden=[8], activation=tanh)",
                              points=40, boundary_points=20, **options)


def test_a_let_table_and_its_derivatives_at_a_terms_points(tmp_path):
    write_csv(tmp_path / "k.csv", ("x", "y", "k"), table_rows(bilinear))
    problem = compiled(tmp_path, 'let k = table("k.csv")\n' + HEAD
                       + "pde u = k + Dx(k) + Dxy(k) + Dyy(k) in O\n")
    (table,) = problem.ir.tables
    assert (table.name, table.coords) == ("k", ("x", "y"))
    np.testing.assert_array_equal(table.axes[1], AXES[1])
    np.testing.assert_allclose(table.values, grid_values(bilinear), rtol=1e-15)
    params = problem.init(jax.random.key(0))
    batch = problem.sample(jax.random.key(1))
    points = np.asarray(batch["pde1"].points)
    u = jax.vmap(problem.field_functions(params)["u"])(points)
    x, y = points[:, 0], points[:, 1]
    expected = u - (bilinear(x, y) + (-2.0 + 3.0 * y) + 3.0)
    residuals = jax.jit(problem.residuals)(params, batch)
    np.testing.assert_allclose(residuals["pde1"], expected, rtol=1e-10, atol=1e-10)


def test_a_table_in_a_term_takes_the_coordinates_its_header_names(tmp_path):
    """A table inline in an initial condition of a space-time problem, named table1; the
    header's order (t before x) need not be the domain's."""
    write_csv(tmp_path / "u0.csv", ("t", "x", "value"),
              table_rows(lambda t, x: 2.0 * x + t, (np.array([0.0, 1.0]), np.linspace(0, 1, 3))))
    problem = compiled(tmp_path, "domain O = box(x in [0, 1], t in [0, 1])\nfield u(x, t)\n"
                       "pde Dt(u) = Dxx(u) in O\n"
                       'ic u = table("u0.csv") on boundary(O) where t == 0\n')
    assert [(t.name, t.coords) for t in problem.ir.tables] == [("table1", ("t", "x"))]
    params = problem.init(jax.random.key(0))
    batch = problem.sample(jax.random.key(1))
    points = np.asarray(batch["ic1"].points)
    u = jax.vmap(problem.field_functions(params)["u"])(points)
    np.testing.assert_allclose(jax.jit(problem.residuals)(params, batch)["ic1"],
                               u - (2.0 * points[:, 0] + points[:, 1]), rtol=1e-10, atol=1e-12)


def test_check_lists_a_table_with_its_grid(tmp_path, capsys):
    write_csv(tmp_path / "k.csv", ("x", "y", "k"), table_rows(bilinear))
    (tmp_path / "case.pde").write_text('let k = table("k.csv")\n' + HEAD + "pde u = k in O\n")
    assert main(["check", str(tmp_path / "case.pde")]) == 0
    assert ("table k(x, y) from k.csv: 5 x 4 nodes over x in [0, 1], y in [-1, 2]"
            in capsys.readouterr().out)


@pytest.mark.parametrize("csv, program, line, column, fragment", [
    (None, 'let k = table("k.csv")', 1, 9, "k.csv: no such file"),
    ("x,yy,k\n0,0,1\n", 'let k = table("k.csv")', 1, 9,
     "column 'yy' names no coordinate of the program (x, y) (did you mean 'y'?)"),
    ("x,y,k\n0,0,1\n1,0,1\n0,1,1\n", 'let k = table("k.csv")', 1, 9,
     "not a rectilinear grid: the combination x=1, y=1 has no row"),
    ("x,y,k\n0,0,1\n1,0,1\n0,1,1\n1,1,2\n1,0,3\n", 'let k = table("k.csv")', 1, 9,
     "the combination x=1, y=0 appears 2 times"),
    ("x,y,k\n0,0,1\n1,0,one\n", 'let k = table("k.csv")', 1, 9,
     "k.csv:3: the value in column 'k' is not a number"),
    ("x,y,k\n0,0,1\n0,1,1\n", 'let k = table("k.csv")', 1, 9,
     "column 'x' holds one value (0); a table needs at least 2 values along each coordinate"),
    ("k\n1\n", 'let k = table("k.csv")', 1, 9, "a column per coordinate, then one of values"),
    ("x,y,k\n0,0,1\n1,0,1\n0,1,1\n1,1,2\n", "let k = table(x)", 1, 15,
     "table takes the name of a CSV file in quotes"),
    ("x,y,k\n0,0,1\n1,0,1\n0,1,1\n1,1,2\n", 'let k = sin("k.csv")', 1, 13,
     "a quoted file name is no value"),
    ("x,y,k\n0,0,1\n1,0,1\n0,1,1\n1,1,2\n", 'let k = 1\nbc u = 3*table("k.csv") on boundary(L)',
     2, 10, "table 'table1' is a function of 'y', which the points of the term on line 2 lack"),
])
def test_mistakes_are_refused_at_the_table(tmp_path, csv, program, line, column, fragment):
    if csv is not None:
        (tmp_path / "k.csv").write_text(csv)
    text = (program + "\ndomain O = box(x in [0, 1], y in [0, 1])\n"
            "domain L = interval(x in [0, 1])\nfield u(x)\nfield v(x, y)\n"
            "pde Dxx(u) = 0 in L\npde lap(v) = k in O\n")
    with pytest.raises(SpecError) as caught:
        compile_text(text, str(tmp_path / "case.pde"))
    assert (caught.value.line, caught.value.column) == (line, column), str(caught.value)
    assert fragment in caught.value.reason, caught.value.reason


@pytest.mark.slow
def test_a_conductivity_given_as_a_table_trains(tmp_path):
    """-(k u')' = f on [0, 1], k = 1 + x sampled on 6 nodes (exact: k is linear), u = sin(pi x)."""
    write_csv(tmp_path / "k.csv", ("x", "k"),
              [(x, 1.0 + x) for x in np.linspace(0, 1, 6)])
    program = tmp_path / "case.pde"
    program.write_text(
        'let k = table("k.csv")\ndomain L = interval(x in [0, 1])\nfield u(x)\n'
        "pde -Dx(k*Dx(u)) = -pi*cos(pi*x) + (1 + x)*pi^2*sin(pi*x) in L\n"
        "bc u = 0 on boundary(L)\nexact u = sin(pi*x)\n")
    problem = pinnc.compile_file(str(program), model="mlp(hidden=[12], activation=tanh)",
                                 points=60, boundary_points=2, optimizer="engd(steps=40)",
                                 precision="float64")
    result = problem.train(progress=False)
    assert result.metrics["status"] == "ok"
    assert result.metrics["fields"]["u"]["rel_l2"] < 1e-2, result.metrics["fields"]
