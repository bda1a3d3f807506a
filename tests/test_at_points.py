"""Conditions at points: ``bc u = 1 at [[0, 0]]`` holds at exactly the listed points, whatever the
sampler and through resampling; mistakes are refused at their line and column."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pinnc
from pinnc import SpecError
from pinnc.compiler.pipeline import compile_text

jax.config.update("jax_enable_x64", True)

HEAD = ("domain O = box(x in [0, 1], y in [-1, 1])\nfield u(x, y)\n"
        "pde lap(u) = 0 in O\n")  # a case's own text starts on line 4


@pytest.mark.parametrize("sampler", ["sobol", "grid"])
def test_the_term_holds_at_the_listed_points(sampler):
    problem = pinnc.compile_source(HEAD + "bc pin: u = 2*x at [[0, 0], [1, -1], [0.5, pi/4]]\n",
                                   name="case", sampler=sampler,
                                   model="mlp(hidden=[8], activation=tanh)")
    listed = [[0, 0], [1, -1], [0.5, np.pi / 4]]
    assert problem.ir.terms[1].region.points == tuple(map(tuple, listed))
    params = problem.init(jax.random.key(0))
    for key in range(2):
        batch = problem.sample(jax.random.key(key))
        np.testing.assert_array_equal(batch["pin"].points, listed)
        u = problem.field_functions(params)["u"]
        expected = [u(jnp.array(p, jnp.float64)) - 2 * p[0] for p in listed]
        np.testing.assert_allclose(problem.residuals(params, batch)["pin"], expected, rtol=1e-12)


def test_a_point_condition_fixes_the_constant_of_a_neumann_problem_while_points_move():
    source = HEAD.replace("pde lap(u) = 0", "pde lap(u) = -pi^2*cos(pi*x)") + (
        "bc dn(u) = 0 on boundary(O)\nbc u = 1 at [[0, 0]]\nexact u = cos(pi*x)\n")
    problem = pinnc.compile_source(source, name="case", points=200, boundary_points=80,
                                   resample_every=10, optimizer="engd(steps=30)",
                                   model="mlp(hidden=[16], activation=tanh)")
    result = problem.train(progress=False)
    assert result.metrics["status"] == "ok"
    assert result.metrics["fields"]["u"]["rel_l2"] < 2e-2


@pytest.mark.parametrize("text, column, fragment", [
    ("pde u = 0 at [[0, 0]]", 11, "a pde holds in a domain"),
    ("bc u = 0 at [0, 0]", 13, "'at' takes a list of points"),
    ("bc u = 0 at [[0, 0], [1]]", 13, "different numbers of coordinates (1, 2)"),
    ("bc u = 0 at [[0, 0, 0]]", 13, "no domain of the program has 3 coordinates"),
    ("bc u = 0 at [[0.5, 0], [2, 0]]", 24, "this point lies outside O"),
    ("bc u = 0 at [[x, 0]]", 15, "expected a number (a coordinate of a point)"),
    ("bc u = dn(u) at [[0, 0]]", 8, "dn(...) is the derivative along the outward normal"),
])
def test_mistakes_are_refused_at_their_place(text, column, fragment):
    with pytest.raises(SpecError) as caught:
        compile_text(HEAD + text + "\n", "case.pde")
    assert (caught.value.line, caught.value.column) == (4, column), str(caught.value)
    assert fragment in caught.value.reason
