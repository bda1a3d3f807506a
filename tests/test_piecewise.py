"""Piecewise expressions: ifelse(COND, A, B), min, max, heaviside. Mistakes are refused at their
line and column; the generated module, run, gives the piecewise values, and derivatives of
piecewise expressions piece by piece."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnc import SpecError
from pinnc.compiler.pipeline import compile_text
from pinnc.runtime.model import load_module

jax.config.update("jax_enable_x64", True)

HEAD = "domain O = box(x in [0, 1], y in [0, 1])\nfield u(x, y)\n"  # a case's text starts on line 3
POINTS = jnp.asarray(np.random.default_rng(0).uniform(0, 1, size=(64, 2)))


def module_for(source):
    return load_module(compile_text(source, "case.pde").source, "case")


def exact_values(expression, points=POINTS):
    module = module_for(HEAD + f"pde u = 0 in O\nexact u = {expression}\n")
    return np.asarray(jax.vmap(module.EXACT["u"])(points))


X, Y = np.asarray(POINTS[:, 0]), np.asarray(POINTS[:, 1])


@pytest.mark.parametrize("expression, expected", [
    ("ifelse(x < 0.5, 1, 10)", np.where(X < 0.5, 1, 10)),
    ("ifelse(x < 0.5 and not y >= 0.3, x^2, sin(y))",
     np.where((X < 0.5) & ~(Y >= 0.3), X ** 2, np.sin(Y))),
    ("ifelse(x > 0.7 or (y <= 0.2), 1, ifelse(x == 0.5, 3, 2))",
     np.where((X > 0.7) | (Y <= 0.2), 1, 2)),
    ("min(x, y) + 2*max(x^2, 1 - y)", np.minimum(X, Y) + 2 * np.maximum(X ** 2, 1 - Y)),
    ("heaviside(x - y)", np.heaviside(X - Y, 0.5)),
    ("ifelse(1 < 2, x, y)", X),  # a condition of numbers is decided at compile time
])
def test_piecewise_values_at_points(expression, expected):
    np.testing.assert_allclose(exact_values(expression), expected, rtol=1e-14)


def test_equality_in_a_condition_forgives_rounding_as_where_does():
    points = jnp.array([[0.5, 0.1], [0.1 + 0.2 + 0.2, 0.1], [0.4, 0.1]])
    np.testing.assert_array_equal(exact_values("ifelse(x == 0.5, 1, 0)", points), [1, 1, 0])


def residuals(equation, fields, points=POINTS):
    function = module_for(HEAD + equation + " in O\n").pde1
    return np.asarray(jax.vmap(lambda p: function(fields, {}, p))(points))


def test_derivatives_of_a_piecewise_expression_are_taken_piece_by_piece():
    # u = x^3 y: Dx(ifelse(x < 0.5, x^2, 3*x) * u) is (5x^4 y) left of 0.5, (12x^3 y) right
    u = lambda p: p[0] ** 3 * p[1]
    got = residuals("pde Dx(ifelse(x < 0.5, x^2, 3*x) * u) = 0", {"u": u})
    np.testing.assert_allclose(got, np.where(X < 0.5, 5 * X ** 4 * Y, 12 * X ** 3 * Y),
                               rtol=1e-12)


def test_derivatives_of_max_min_and_heaviside_drop_the_jumps():
    # Dx(max(u, x)) is u_x where u > x, else 1; Dxx(heaviside(x - y)*x^2) is 2 where x > y
    u = lambda p: jnp.sin(3 * p[0]) * p[1]
    got = residuals("pde Dx(max(u, x)) + Dxx(heaviside(x - y)*x^2) + Dy(min(u, 0)) = 0",
                    {"u": u})
    value = np.sin(3 * X) * Y
    expected = (np.where(value > X, 3 * np.cos(3 * X) * Y, 1) + 2 * np.heaviside(X - Y, 0.5)
                + np.where(value < 0, np.sin(3 * X), 0))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_a_condition_on_a_field():
    u = lambda p: p[0] - p[1]
    got = residuals("pde ifelse(u > 0, u, 0) = Dx(u)*max(u, 0)", {"u": u})
    np.testing.assert_allclose(got, 0, atol=1e-15)


def error_of(text):
    with pytest.raises(SpecError) as caught:
        compile_text(HEAD + text, "case.pde")
    return caught.value


@pytest.mark.parametrize("text, column, fragment", [
    ("pde u = ifelse(x, 1, 2) in O", 16, "the condition of ifelse is a comparison"),
    ("pde u = ifelse(x + 1, 1, 2) in O", 16, "the condition of ifelse is a comparison"),
    ("pde u = ifelse(x < 1, 2) in O", 9, "'ifelse' takes 3 arguments, got 2"),
    ("pde u = ifelse(x < 1, 2, 3, 4) in O", 9, "'ifelse' takes 3 arguments, got 4"),
    ("pde u = max(x) in O", 9, "'max' takes 2 arguments, got 1"),
    ("pde u = min(x, y, 1) in O", 9, "'min' takes 2 arguments, got 3"),
    ("pde u = heaviside(x, 1) in O", 9, "'heaviside' takes 1 argument, got 2"),
    ("pde u = sin(x < 1) in O", 13, "a condition is no value"),
    ("pde u = ifelse(x < 1, y > 0, 1) in O", 23, "a condition is no value"),
    ("pde u = ifelse(x < [1, 2], 1, 0) in O", 20, "expected a scalar here, got a vector"),
    ("pde u = x < 1 in O", 11, "comparisons appear only in a condition after 'where' or as "
                                "the condition of ifelse"),
    ("let max = 2\npde u = max in O", 5, "'max' is a built-in name"),
])
def test_mistakes_are_refused_at_their_place(text, column, fragment):
    error = error_of(text)
    assert (error.line, error.column) == (3, column)
    assert fragment in error.reason
