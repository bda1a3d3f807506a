"""periodic u in x: the field, and every derivative the generated code takes of it, agrees exactly
one period apart; derivatives through the periodic inputs match finite differences and nested
autodiff; mistakes are refused at their line and column."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pinnc
from pinnc import SpecError
from pinnc.cli import main
from pinnc.compiler.pipeline import compile_text

jax.config.update("jax_enable_x64", True)

BOX = "domain O = box(x in [0, 2], y in [-1, 1])\nfield u(x, y)\n"  # a case starts on line 3
POINTS = jnp.asarray(np.random.default_rng(0).uniform([0, -1], [2, 1], size=(8, 2)))


def trained_nothing(source):
    """A compiled problem and its field functions at fresh (untrained) weights."""
    problem = pinnc.compile_source(source, name="case", precision="float64",
                                   model="mlp(hidden=[12, 12], activation=tanh)")
    params = problem.init(jax.random.key(3))
    return problem, params, problem.field_functions(params)


def test_the_period_is_the_interval_and_every_derivative_repeats():
    problem, _, fields = trained_nothing(BOX + "periodic u in x\npde lap(u) = 0 in O\n")
    (made,) = problem.ir.fields[0].periodic
    assert (made.coord, made.period, made.harmonics) == ("x", 2.0, 1)
    u = fields["u"]
    shift = jnp.array([2.0, 0.0])
    for f in (u, jax.grad(u), jax.hessian(u), jax.jacfwd(jax.hessian(u))):
        for p in POINTS:
            np.testing.assert_allclose(f(p + shift), f(p), rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(f(p - 3 * shift), f(p), rtol=1e-9, atol=1e-12)
    # not periodic in y
    assert abs(float(u(jnp.array([0.3, -1.0])) - u(jnp.array([0.3, 1.0])))) > 1e-6


def test_check_shows_the_periods(examples, capsys):
    assert main(["check", str(examples / "v2" / "advection_periodic.pde")]) == 0
    assert "    periodic in x, period 6.28319, 1 harmonic\n" in capsys.readouterr().out


@pytest.mark.parametrize("equation", [
    "pde Dx(u) + Dxx(u) + Dxxy(u) = 0 in O",     # nested JVPs and Taylor passes
    "pde lap(u) + Dy(u) = 0 in O",               # a forward-Laplacian (collapsed Taylor) pass
])
def test_the_generated_derivatives_through_periodic_inputs(equation):
    program = BOX + "periodic u in x, y with harmonics = 2\n" + equation + "\n"
    problem, params, fields = trained_nothing(program)
    assert [(p.coord, p.period, p.harmonics) for p in problem.ir.fields[0].periodic] == [
        ("x", 2.0, 2), ("y", 2.0, 2)]
    u = fields["u"]
    got = jax.vmap(lambda p: problem.module.pde1(fields, {}, p))(POINTS)
    grad, hessian = jax.grad(u), jax.hessian(u)
    third = jax.jacfwd(jax.hessian(u))
    if "lap" in equation:
        expected = [jnp.trace(hessian(p)) + grad(p)[1] for p in POINTS]
    else:
        expected = [grad(p)[0] + hessian(p)[0, 0] + third(p)[0, 0, 1] for p in POINTS]
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-10)
    # ... and the first derivative against central differences, at p and one period on
    h = 1e-5
    for p in POINTS:
        for q in (p, p + jnp.array([2.0, -2.0])):
            step = jnp.array([h, 0.0])
            difference = (u(q + step) - u(q - step)) / (2 * h)
            np.testing.assert_allclose(grad(q)[0], difference, rtol=1e-6, atol=1e-8)


def test_a_named_period_and_a_product_with_an_interval():
    source = ("domain D = ball((x, y), center=[0, 0], radius=1) * interval(t in [0, 3])\n"
              "field u(x, y, t)\nfield v(x, y, t)\n"
              "periodic u, v in t\nperiodic u in x with period = 2*pi\n"
              "pde Dt(u) + v = 0 in D\n")
    problem, _, fields = trained_nothing(source)
    periods = {f.name: [(p.coord, p.period) for p in f.periodic] for f in problem.ir.fields}
    assert periods == {"u": [("t", 3.0), ("x", 2 * np.pi)], "v": [("t", 3.0)]}
    p = jnp.array([0.2, -0.4, 0.5])
    np.testing.assert_allclose(fields["u"](p + jnp.array([2 * np.pi, 0, -6])), fields["u"](p),
                               rtol=1e-9)


@pytest.mark.parametrize("text, line, column, fragment", [
    ("periodic w in x", 3, 10, "'w' is not a field"),
    ("periodic u in q", 3, 15, "'q' is not a coordinate"),
    ("periodic u in x, O", 3, 18, "'O' is not a coordinate"),
    ("periodic u in x with period = 0", 3, 31, "a period must be positive"),
    ("periodic u in x with period = y", 3, 31, "expected a number (the period)"),
    ("periodic u in x with perod = 2", 3, 22, "unknown option 'perod' of periodic (did you "
                                              "mean 'period'?)"),
    ("periodic u in x with harmonics = 0.5", 3, 34, "harmonics must be an integer >= 1"),
    ("periodic u in x\nperiodic u in y, x", 4, 18, "field 'u' is already periodic in 'x'"),
    ("field v(y)\nperiodic v in x", 4, 15, "field 'v' does not depend on 'x'"),
    ("periodic u x", 3, 12, "unexpected 'x'; expected ',' or 'in'"),
])
def test_mistakes_are_refused_at_their_place(text, line, column, fragment):
    with pytest.raises(SpecError) as caught:
        compile_text(BOX + text + "\npde u = 0 in O\n", "case.pde")
    assert (caught.value.line, caught.value.column) == (line, column), str(caught.value)
    assert fragment in caught.value.reason


@pytest.mark.parametrize("domains, fragment", [
    ("domain O = ball((x, y), center=[0, 0], radius=1)",
     "'x' has no interval in the program's domains"),
    ("domain O = box(x in [0, 2], y in [-1, 1])\ndomain P = box(x in [0, 3], y in [0, 1])",
     "'x' spans intervals of different lengths (2, 3)"),
])
def test_a_period_that_no_interval_gives(domains, fragment):
    source = domains + "\nfield u(x, y)\nperiodic u in x\npde u = 0 in O\n"
    with pytest.raises(SpecError) as caught:
        compile_text(source, "case.pde")
    line = domains.count("\n") + 3
    assert (caught.value.line, caught.value.column) == (line, 15), str(caught.value)
    assert fragment in caught.value.reason
