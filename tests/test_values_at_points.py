"""Values of fields at given points: ``u(0, t)``, ``Dx(u)(1, t)``, ``D(u, x)(x, 0)``. The
generated residuals match the same quantities computed by hand with JAX, derivatives of such a
value follow the chain rule through its point, mistakes are refused at their line and column,
and a problem with a soft periodic condition and a nonlocal term trains."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy

import pinnc
from pinnc import SpecError
from pinnc.cli import main
from pinnc.compiler.pipeline import compile_text

jax.config.update("jax_enable_x64", True)

HEAD = "domain O = box(x in [-1, 1], t in [0, 1])\nfield u(x, t)\n"  # a case starts on line 3
POINTS = jnp.asarray(np.random.default_rng(0).uniform([-1, 0], [1, 1], size=(6, 2)))


def residuals_and_field(equation):
    """The residuals of ``equation`` (the program's only term) at POINTS, and the field u, at
    fresh weights."""
    problem = pinnc.compile_source(HEAD + equation + "\n", name="case", precision="float64",
                                   model="mlp(hidden=[10, 10], activation=tanh)")
    params = problem.init(jax.random.key(1))
    batch = problem.sample(jax.random.key(0))
    (label,) = batch
    batch = {label: batch[label]._replace(points=POINTS)}
    return np.asarray(problem.residuals(params, batch)[label]), problem.field_functions(params)["u"]


def partial(u, *axes):
    """The partial derivative of u along the given axes (0: x, 1: t)."""
    f = u
    for axis in axes:
        f = (lambda g, a: lambda q: jax.grad(g)(q)[a])(f, axis)
    return f


def at(x, t):
    return jnp.array([x, t])


@pytest.mark.parametrize("equation, expected", [
    ("pde u(0, t) = 0 in O", lambda u, x, t: u(at(0, t))),
    ("pde Dx(u)(1, t) = 0 in O", lambda u, x, t: partial(u, 0)(at(1, t))),
    ("pde D(u, x, x)(x, 0) = 0 in O", lambda u, x, t: partial(u, 0, 0)(at(x, 0))),
    ("pde Dt(u(0, t)) = 0 in O", lambda u, x, t: partial(u, 1)(at(0, t))),
    ("pde Dx(u(0, t)) + u = 0 in O", lambda u, x, t: u(at(x, t))),
    ("pde Dx(u(1 - x, t^2)) = 0 in O", lambda u, x, t: -partial(u, 0)(at(1 - x, t ** 2))),
    ("pde Dtt(u(x/2, 2*t)) = 0 in O", lambda u, x, t: 4 * partial(u, 1, 1)(at(x / 2, 2 * t))),
    ("pde Dt(u) = Dxx(u) + u(0, t)*x in O",
     lambda u, x, t: partial(u, 1)(at(x, t)) - partial(u, 0, 0)(at(x, t)) - u(at(0, t)) * x),
    ("pde Dxt(u)(0.5, t) + Dx(u)(-x, t) = 0 in O",
     lambda u, x, t: partial(u, 0, 1)(at(0.5, t)) + partial(u, 0)(at(-x, t))),
])
def test_residuals_match_a_hand_written_computation(equation, expected):
    residuals, u = residuals_and_field(equation)
    wanted = [expected(u, float(x), float(t)) for x, t in POINTS]
    np.testing.assert_allclose(residuals, wanted, rtol=1e-10, atol=1e-12)


def test_derivatives_follow_the_chain_rule_through_the_point():
    problem = compile_text(HEAD + "pde Dt(u(0, t)) + Dx(u(0, t)) + Dx(u(x, 0)) = D(u, x)(x, x*t) "
                           "in O\n", "case.pde").problem
    shown = sympy.sstr(problem.terms[0].residual)
    assert shown == ("Derivative(u(x, t), t)(0, t) + Derivative(u(x, t), x)(x, 0) "
                     "- Derivative(u(x, t), x)(x, t*x)"), shown


def test_a_field_at_its_own_point_is_the_field():
    problem = compile_text(HEAD + "pde u(x, t) = Dt(u)(x, t) in O\n", "case.pde").problem
    x, t = sympy.symbols("x t", real=True)
    u = sympy.Function("u")(x, t)
    assert problem.terms[0].residual == u - u.diff(t)


def test_the_plan_shows_derivatives_taken_at_other_points(capsys, tmp_path):
    spec = tmp_path / "case.pde"
    spec.write_text(HEAD + "pde Dt(u) = Dxx(u) + u(0, t) + Dxx(u)(1, t) in O\n"
                    "bc u(-1, t) = u(1, t) on boundary(O) where x == -1\n")
    assert main(["compile", str(spec), "--emit", "plan"]) == 0
    out = capsys.readouterr().out
    assert ("term pde1 (points in x, t):\n"
            "  field u: needs u_t, u_xx\n"
            "    1 nested jvp along t -> u_t\n"
            "    1 Taylor-mode pass of order 2 along x -> u_xx\n"
            "  field u: needs u at (0, t)\n"
            "    0 nested jvps along (value only) -> u at (0, t)\n"
            "  field u: needs u_xx at (1, t)\n"
            "    1 Taylor-mode pass of order 2 along x -> u_xx at (1, t)\n"
            "term bc1 (points in x, t):\n"
            "  field u: needs u at (-1, t)\n"
            "    0 nested jvps along (value only) -> u at (-1, t)\n"
            "  field u: needs u at (1, t)\n"
            "    0 nested jvps along (value only) -> u at (1, t)\n") in out, out


def test_programs_without_such_values_compile_as_before():
    source = HEAD + "pde Dt(u) = Dxx(u) in O\n"
    assert "jnp.stack" not in compile_text(source, "case.pde").source


@pytest.mark.parametrize("text, column, fragment", [
    ("pde u(0) = 0 in O", 5, "u takes 2 arguments (x, t), got 1"),
    ("pde Dx(u)(0, t, 1) = 0 in O", 5, "u takes 2 arguments (x, t), got 3"),
    ("pde Dx(u)() = 0 in O", 5, "u takes 2 arguments (x, t), got 0"),
    ("pde u(u, t) = 0 in O", 7, "not on fields"),
    ("pde u(0, Dt(u)) = 0 in O", 10, "not on fields"),
    ("param k = 1\npde u(k, t) = 0 in O", 7, "not on 'k'"),
    ("pde u(2, t) = 0 in O", 7, "x = 2 lies outside the domain of u (x in [-1, 1])"),
    ("pde Dx(u)(0, -0.5) = 0 in O", 14, "t = -0.5 lies outside the domain of u (t in [0, 1])"),
    ("pde sin(x)(1, t) = u in O", 5, "only a field or a partial derivative of one takes a point"),
    ("pde Dx(u^2)(1, t) = u in O", 5, "only a field or a partial derivative of one takes a point"),
    ("pde u(0, t)(1, t) = u in O", 5, "only a field or a partial derivative of one takes a point"),
    ("pde Dx(u)(x=1, t) = 0 in O", 11, "one coordinate value per argument"),
    ("field v(x)\npde u = Dt(v)(0) in O", 9, "this derivative is 0 everywhere"),
    ("pde u(log(0), t) = 0 in O", 7, "not a finite real number"),
])
def test_mistakes_are_refused_at_their_place(text, column, fragment):
    line = 3 + text.count("\n")
    with pytest.raises(SpecError) as caught:
        compile_text(HEAD + text + "\n", "case.pde")
    assert (caught.value.line, caught.value.column) == (line, column), str(caught.value)
    assert fragment in caught.value.reason, str(caught.value)


def test_a_soft_periodic_condition_and_a_nonlocal_term_train_to_the_exact_solution():
    # u'' + u(1/4) = 1 - 4 pi^2 sin(2 pi x): u = sin(2 pi x) + (1 - c) x^2/2 + a x + b with
    # c = u(1/4); the periodic conditions on u and u' make c = 1 and a = 0, then c = 1 + b
    # makes b = 0.
    source = ("domain I = interval(x in [0, 1])\nfield u(x)\n"
              "pde Dxx(u) + u(0.25) = 1 - 4*pi^2*sin(2*pi*x)  in I\n"
              "bc  u(0) = u(1)                              on boundary(I) where x == 0\n"
              "bc  Dx(u)(0) = Dx(u)(1)                      on boundary(I) where x == 0\n"
              "exact u = sin(2*pi*x)\n")
    problem = pinnc.compile_source(source, name="case", points=64, boundary_points=1,
                                   optimizer="engd(steps=30)", precision="float64",
                                   model="mlp(hidden=[16], activation=tanh)")
    result = problem.train(progress=False)
    assert result.metrics["status"] == "ok"
    assert result.metrics["fields"]["u"]["rel_l2"] < 2e-3, result.metrics["fields"]["u"]
