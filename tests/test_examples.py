"""Every example checks, compiles and loads; small versions of several train to their exact
solutions (the full-size figures are bench/accuracy.py's)."""
from pathlib import Path

import jax
import numpy as np
import pytest

import pinnc
from pinnc.cli import main
from pinnc.runtime.model import load_module

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ALL = sorted(EXAMPLES.rglob("*.pde"))  # v2/ holds those of the language's version 2


@pytest.mark.parametrize("path", ALL, ids=lambda p: str(p.relative_to(EXAMPLES).with_suffix("")))
def test_example_checks_compiles_and_samples(path, capsys):
    assert main(["check", str(path)]) == 0
    assert f"{path.name}: ok" in capsys.readouterr().out
    problem = pinnc.compile_file(path, points=64, boundary_points=32)
    load_module(problem.source, path.stem)
    params = problem.init(jax.random.key(0))
    batch = problem.sample(jax.random.key(1))
    assert set(batch) == {t.label for t in problem.ir.terms}
    assert np.isfinite(float(problem.loss(params, batch)))


SMALL = "mlp(hidden=[16, 16], activation=tanh)"


slow = pytest.mark.slow


@pytest.mark.parametrize("name, bound, points, steps", [
    ("disk_poisson", 2e-2, 300, 40),                   # a ball
    ("neumann", 2e-2, 300, 40),                        # dn on two faces
    ("integro", 1e-2, 300, 40),                        # an integral inside the equation
    ("heat", 2e-2, 300, 40),                           # space-time, ic and bc faces
    ("v2/piecewise_poisson", 1e-2, 300, 30),           # a coefficient that jumps (ifelse)
    ("v2/advection_periodic", 5e-3, 300, 30),          # periodic in x: no bc on its faces
    ("v2/neumann_point", 1e-2, 300, 30),               # a condition at a point (at [[0, 0]])
    # values at given points: u(0, t); tests/test_values_at_points.py trains one quickly
    pytest.param("v2/heat_nonlocal", 1e-2, 300, 40, marks=slow),
    pytest.param("v2/heat_table", 2e-2, 300, 30, marks=slow),  # a conductivity as a table
    pytest.param("lshape", 5e-2, 1000, 100, marks=slow),   # a difference of boxes
    pytest.param("system", 5e-2, 300, 40, marks=slow),     # two fields
])
def test_small_versions_train_with_engd(name, bound, points, steps):
    problem = pinnc.compile_file(EXAMPLES / f"{name}.pde", points=points, boundary_points=120,
                                 model=SMALL, optimizer=f"engd(steps={steps})")
    result = problem.train(progress=False)
    assert result.metrics["status"] == "ok"
    for field, errors in result.metrics["fields"].items():
        assert errors["rel_l2"] < bound, (field, errors)


def test_deep_ritz_energy_with_its_boundary_penalty_in_one_minimize():
    """One functional over two regions trains as one term per region, each on its own points;
    without the boundary part the energy has no minimum, so the error bound tests both."""
    problem = pinnc.compile_file(EXAMPLES / "deep_ritz.pde", points=256, boundary_points=128,
                                 optimizer="engd(steps=60)")
    regions = {t.label: (t.region.on_boundary, problem.options.points_in(t.region, t.points))
               for t in problem.ir.terms}
    assert regions == {"minimize1_Omega": (False, 256), "minimize1_boundary_Omega": (True, 128)}
    result = problem.train(progress=False)
    assert result.metrics["status"] == "ok"
    assert result.metrics["fields"]["u"]["rel_l2"] < 5e-2


DISK_NAMED_D = """\
domain D = ball((x, y), center=[0, 0], radius=1)
field u(x, y)
pde D(u, x, x) + D(u, y, y) = -4      in D
bc  u = 0                             on boundary(D)
exact u = 1 - x^2 - y^2
"""


def test_a_domain_named_D_beside_the_derivative_D():
    problem = pinnc.compile_source(DISK_NAMED_D, name="disk", points=300, boundary_points=120,
                                   model=SMALL, optimizer="engd(steps=40)")
    assert [t.region.domain_name for t in problem.ir.terms] == ["D", "D"]
    result = problem.train(progress=False)
    assert result.metrics["fields"]["u"]["rel_l2"] < 2e-2
