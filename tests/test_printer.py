"""The SymPy printer, tested by evaluating what it prints: expressions against SymPy's own
`lambdify` on random points (`jnp` and `numpy` targets), predicates against `lambdify` of the
same predicate with ``==`` and ``!=`` written out with the rounding tolerance the runtime's
geometry uses (`runtime.geometry.predicates.close`)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy

from pinnc.compiler.printer import JNP, NUMPY, TARGETS, UnprintableError, to_jax, to_source
from pinnc.runtime.geometry.predicates import close

jax.config.update("jax_enable_x64", True)
x, y, k = sympy.symbols("x y k", real=True)
NAMES = {x: "x", y: "y", k: "k"}
POINTS = np.random.default_rng(0).uniform(0.1, 0.9, size=(50, 2))

EXPRESSIONS = [
    x + 2 * y - 3, x * y / (1 + x ** 2), -x ** 2, (-x) ** 3, x ** -2, x ** sympy.Rational(1, 2),
    x ** sympy.Rational(-3, 2), x ** y, 2 ** (-x), sympy.Rational(3, 7) * x - y / 5,
    sympy.sin(x) * sympy.cos(y) + sympy.tan(x * y), sympy.asin(x) + sympy.acos(y) - sympy.atan(x),
    sympy.sinh(x) - sympy.cosh(y) * sympy.tanh(x), sympy.asinh(x) + sympy.atanh(y / 2),
    sympy.acosh(1 + x), sympy.exp(-x ** 2) * sympy.log(y), sympy.Abs(x - y) + sympy.sign(x - y),
    sympy.sec(x) + sympy.csc(y) - sympy.cot(x), sympy.pi * x + sympy.E * y, sympy.sqrt(2) * x,
    -(x + y) / (x - y - 2), 1 / (x * y), (x + y) ** -1, -k * x / y, sympy.Float("1.5e-3") * y,
    k * (x - 1) ** 2 - (k - y) ** 3, sympy.Integer(2) ** 60 * x,
]


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=str)
@pytest.mark.parametrize("target", ["jnp", "numpy"])
def test_printed_expression_equals_lambdify(expr, target):
    module = {"jnp": jnp, "numpy": np}[target]
    source = to_source(expr, NAMES, TARGETS[target])
    got = eval(source, {"jnp": jnp, "np": np},
               {"x": module.asarray(POINTS[:, 0]), "y": module.asarray(POINTS[:, 1]), "k": 0.7})
    expected = sympy.lambdify((x, y, k), expr, "numpy")(POINTS[:, 0], POINTS[:, 1], 0.7)
    np.testing.assert_allclose(np.broadcast_to(got, expected.shape), expected, rtol=1e-12)


def test_printed_constant_equals_evalf():
    for expr in (sympy.pi / 3, sympy.Rational(-5, 8), sympy.sqrt(3) * sympy.E, sympy.Integer(-4)):
        assert float(eval(to_jax(expr, {}), {"jnp": jnp})) == pytest.approx(float(expr.evalf()))


def test_names_replace_fields_and_derivatives():
    u = sympy.Function("u")(x, y)
    expr = sympy.Derivative(u, x) * u + x
    source = to_jax(expr, {u: "u", sympy.Derivative(u, x): "u_x", x: "x"})
    assert eval(source, {"jnp": jnp}, {"u": 2.0, "u_x": 3.0, "x": 0.5}) == pytest.approx(6.5)


def test_what_a_target_lacks_is_unprintable():
    with pytest.raises(UnprintableError):
        to_jax(sympy.Function("f")(x), NAMES)  # a function that no name stands for
    with pytest.raises(UnprintableError):
        to_jax(sympy.zeta(x), NAMES)  # a function the language has not
    with pytest.raises(UnprintableError):
        to_jax(sympy.Integer(10) ** 400 * x, NAMES)
    with pytest.raises(UnprintableError):
        to_source(sympy.gamma(x), NAMES, NUMPY)
    assert to_source(sympy.sin(x), NAMES, JNP) == "jnp.sin(x)"  # the target's module


PREDICATES = [
    x > 0.5, x <= y, sympy.Eq(x, 0.3), sympy.Ne(y, 0.3), (x > 0.2) & (y < 0.7),
    (x < 0.3) | (y >= 0.6) | sympy.Eq(x + y, 1), ~(x > y), sympy.Xor(x > 0.5, y > 0.5),
    sympy.Eq(2 * x - 1, 0) & (y > 0.1), sympy.Min(x, y, 0.4) > 0.3, sympy.Max(x, y) < 0.8,
    sympy.atan2(y, x) > sympy.pi / 4, sympy.Abs(x - 0.5) + y ** 2 <= 0.5,
    sympy.sin(sympy.pi * x) > sympy.exp(-y), sympy.true, sympy.false,
]


def tolerant(predicate: sympy.Basic) -> sympy.Basic:
    """``predicate`` with each Eq (Ne) as |a - b| <= (>) atol + rtol |b|, `numpy.isclose`'s
    test with `close`'s tolerances."""
    bound = lambda a, b: 1e-12 + 1e-9 * sympy.Abs(b)
    return predicate.replace(sympy.Eq, lambda a, b: sympy.Le(sympy.Abs(a - b), bound(a, b))
                             ).replace(sympy.Ne, lambda a, b: sympy.Gt(sympy.Abs(a - b),
                                                                       bound(a, b)))


def test_the_tolerance_is_close_s():
    a = np.array([0.3, 0.3 + 1e-13, 0.3 + 1e-6])
    expected = sympy.lambdify(x, tolerant(sympy.Eq(x, 0.3)), "numpy")(a)
    np.testing.assert_array_equal(close(a, 0.3), expected)


@pytest.mark.parametrize("predicate", PREDICATES, ids=str)
def test_printed_predicate_agrees_with_lambdify(predicate):
    # points on the planes the Eq clauses name, so that those are true somewhere
    points = np.concatenate([POINTS, np.column_stack([np.full(10, 0.3), POINTS[:10, 1]]),
                             np.column_stack([np.full(10, 0.5), POINTS[:10, 1]]),
                             np.column_stack([POINTS[:10, 0], 1 - POINTS[:10, 0]])])
    source = to_source(predicate, {x: "x", y: "y"}, NUMPY)
    got = eval(source, {"np": np}, {"x": points[:, 0], "y": points[:, 1]})
    got = np.broadcast_to(np.asarray(got, dtype=bool), (len(points),))
    expected = sympy.lambdify((x, y), tolerant(predicate), "numpy")(points[:, 0], points[:, 1])
    expected = np.broadcast_to(np.asarray(expected, dtype=bool), (len(points),))
    np.testing.assert_array_equal(got, expected)
