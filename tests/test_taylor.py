"""Taylor mode (runtime/kernels/taylor.py) against repeated jax.grad along the direction, in float64."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from pinnc.runtime.kernels.taylor import RULES, collapsed_derivative, directional_derivatives

jax.config.update("jax_enable_x64", True)

FUNCTIONS = {
    "tanh-of-product": lambda x: jnp.tanh(x[0] * x[1] + 1.0),
    "sin-exp": lambda x: jnp.sin(x[0]) * jnp.exp(x[1]) + jnp.cos(x[1] - x[0]),
    "sigmoid-quotient": lambda x: jax.nn.sigmoid(3 * x[0] - x[1]) / (1 + x[0] ** 2),
    "log-power": lambda x: jnp.log(2 + x[0] * x[1]) ** 3 + x[0] ** -2,
    "softplus": lambda x: jax.nn.softplus(x[0] - x[1]),
    "gelu": lambda x: jax.nn.gelu(x[0] + 2 * x[1]),
    "sqrt-pow-abs": lambda x: jnp.sqrt(2 + x[0]) * (1.5 + x[1]) ** 2.5 * jnp.abs(x[0] - 1),
    "log1p-expm1": lambda x: jnp.log1p(x[0] ** 2) * jnp.expm1(x[1]),
    "erf (jet's rule)": lambda x: jax.scipy.special.erf(x[0] * x[1]),
    # what ifelse, min, max and heaviside print to: select_n, max, min and comparisons
    "where": lambda x: jnp.where(jnp.less(x[0] * x[1], 0.1), jnp.sin(x[0] + x[1]) * x[1],
                                 jnp.exp(x[0]) * 10),
    "where-of-and": lambda x: jnp.where(jnp.logical_and(x[0] < 0.5, jnp.isclose(x[1], -0.7)),
                                        x[0] ** 3, x[1] ** 2),
    "maximum-minimum": lambda x: (jnp.maximum(jnp.tanh(x[0]), x[1] ** 2)
                                  * jnp.minimum(x[0] * x[1], jnp.cos(x[1]))),
    "heaviside": lambda x: jnp.heaviside(x[0] - x[1], 0.5) * jnp.sin(x[0] * x[1]),
    "mlp": lambda x: (jnp.tanh(jnp.tanh(x @ jnp.arange(6.0).reshape(2, 3) / 5 + 0.1)
                               @ jnp.ones((3, 2))) @ jnp.array([1.0, -2.0])),
}


def reference(f, x, v, order):
    h = lambda s: f(x + s * v)
    values, g = [], h
    for _ in range(order + 1):
        values.append(g(0.0))
        g = jax.grad(g)
    return jnp.array(values)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_directional_derivatives_match_repeated_grad(name):
    f = FUNCTIONS[name]
    x = jnp.array([0.3, -0.7])
    directions = jnp.array([[1.0, 0.0], [0.5, 1.2], [-1.0, 1.0]])
    got = directional_derivatives(f, x, directions, 5)
    assert got.shape == (3, 6)
    for v, row in zip(directions, got):
        expected = reference(f, x, v, 5)
        np.testing.assert_allclose(row, expected, rtol=1e-10, atol=1e-10 * np.abs(expected).max())


def test_order_zero_is_the_value_and_gradients_flow_through():
    w = jnp.array([0.7, -0.4])
    f = lambda w, x: jnp.tanh(jnp.dot(w, x)) ** 2
    x = jnp.array([0.2, 0.9])
    e = jnp.array([[1.0, 0.0]])
    assert directional_derivatives(lambda x: f(w, x), x, e, 0)[0, 0] == pytest.approx(f(w, x))
    # the parameter gradient of a fourth derivative, against nested jax.grad
    fourth = lambda w: directional_derivatives(lambda x: f(w, x), x, e, 4)[0, 4]
    nested = lambda w: reference(lambda x: f(w, x), x, e[0], 4)[4]
    np.testing.assert_allclose(jax.grad(fourth)(w), jax.grad(nested)(w), rtol=1e-10)


def test_unknown_primitive_is_reported():
    with pytest.raises(NotImplementedError, match="no rule for the JAX primitive 'cbrt'"):
        directional_derivatives(lambda x: jnp.floor(x[0]) * x[0] + jax.lax.cbrt(x[1]),
                                jnp.array([0.5, 0.5]), jnp.eye(2), 2)


def test_a_rule_added_to_the_table_is_used(monkeypatch):
    """RULES is the one place a primitive's rule is looked up: cbrt, which has none, gets one
    (as the power 1/3) and its derivatives then match repeated jax.grad."""
    def cbrt(eqn, ins, order):
        return RULES["pow"](eqn, [ins[0], [jnp.asarray(1 / 3)] + [None] * order], order)
    monkeypatch.setitem(RULES, "cbrt", cbrt)
    f = lambda x: jax.lax.cbrt(2 + x[0] * x[1])
    x, v = jnp.array([0.5, 0.8]), jnp.array([0.6, -0.8])
    np.testing.assert_allclose(directional_derivatives(f, x, v[None], 4)[0],
                               reference(f, x, v, 4), rtol=1e-10)


def test_piecewise_constant_parts_carry_no_series():
    f = lambda x: jnp.floor(x[0]) * x[0] ** 3 + jnp.round(x[1]) * x[1]
    got = directional_derivatives(f, jnp.array([1.5, 0.7]), jnp.array([[1.0, 1.0]]), 3)[0]
    np.testing.assert_allclose(got, [1.5 ** 3 + 0.7, 3 * 1.5 ** 2 + 1, 6 * 1.5, 6], rtol=1e-12)


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("order", [2, 3, 4])
def test_collapsed_derivative_is_the_weighted_sum_of_directional_ones(name, order):
    """One collapsed pass gives sum_i w_i d^K/ds^K f(x + s v_i), carrying the top order
    summed; against each direction's K-th derivative by repeated jax.grad."""
    f = FUNCTIONS[name]
    x = jnp.array([0.3, -0.7])
    directions = jnp.array([[1.0, 0.0], [0.5, 1.2], [-1.0, 1.0]])
    weights = jnp.array([0.8, -1.5, 2.0])
    got = collapsed_derivative(f, x, directions, weights, order)
    expected = sum(w * reference(f, x, v, order)[order] for w, v in zip(weights, directions))
    assert got == pytest.approx(float(expected), rel=1e-10, abs=1e-10)


def test_the_biharmonic_from_three_directions_and_its_parameter_gradient():
    """Dxxxx + 2 Dxxyy + Dyyyy = (8/9) sum over the directions at 0, 60 and 120 degrees of
    the fourth directional derivative; the parameter gradient flows through the pass."""
    w = jnp.array([[0.7, -0.4, 0.3], [0.2, 0.9, -0.6]])
    f = lambda w, x: jnp.sum(jnp.tanh(x @ w) ** 2 * jnp.array([1.0, -0.5, 2.0]))
    x = jnp.array([0.2, -0.3])
    angles = np.pi * np.arange(3) / 3
    directions = jnp.array(np.stack([np.cos(angles), np.sin(angles)], axis=1))

    def biharmonic(w):
        g = lambda x: f(w, x)
        d4 = jax.jacfwd(jax.jacfwd(jax.hessian(g)))(x)
        return d4[0, 0, 0, 0] + 2 * d4[0, 0, 1, 1] + d4[1, 1, 1, 1]
    collapsed = lambda w: collapsed_derivative(lambda x: f(w, x), x, directions,
                                               jnp.full(3, 8 / 9), 4)
    assert jax.jit(collapsed)(w) == pytest.approx(float(jax.jit(biharmonic)(w)), rel=1e-10)
    np.testing.assert_allclose(jax.jit(jax.grad(collapsed))(w),
                               jax.jit(jax.grad(biharmonic))(w), rtol=1e-9)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "sin", "cos", "exp"])
def test_parameter_derivatives_through_the_closed_form_rules(activation):
    """tanh, logistic, sin, cos and exp differentiate their coefficients in closed form
    (dy_k/dx_j = the (k-j)-th coefficient of f'(x(t))): the reverse-mode gradient and a
    forward-mode JVP in the parameters (as ENGD's `jax.linearize` takes) of a Taylor pass and of
    a collapsed pass, against nested jax.grad."""
    sigma = getattr(jax.nn, activation) if activation == "sigmoid" else getattr(jnp, activation)
    w = jnp.array([[0.7, -0.4, 0.3], [0.2, 0.9, -0.6]])
    f = lambda w, x: jnp.sum(sigma(sigma(x @ w) @ w.T * 0.5) * jnp.array([1.0, -0.5]))
    x, v = jnp.array([0.2, -0.3]), jnp.array([0.6, 0.8])
    directions, weights = jnp.array([[1.0, 0.0], [0.6, 0.8]]), jnp.array([1.5, -0.5])
    taylor = lambda w: directional_derivatives(lambda x: f(w, x), x, v[None], 4)[0, 4]
    collapsed = lambda w: collapsed_derivative(lambda x: f(w, x), x, directions, weights, 3)
    nested = {taylor: lambda w: reference(lambda x: f(w, x), x, v, 4)[4],
              collapsed: lambda w: sum(c * reference(lambda x: f(w, x), x, d, 3)[3]
                                       for c, d in zip(weights, directions))}
    tangent = jnp.array([[0.1, 0.2, -0.3], [0.4, -0.5, 0.6]])
    for pass_, expected in nested.items():
        np.testing.assert_allclose(jax.jit(jax.grad(pass_))(w), jax.jit(jax.grad(expected))(w),
                                   rtol=1e-9, atol=1e-12)
        linear = jax.jit(lambda w, t, pass_=pass_: jax.linearize(pass_, w)[1](t))
        assert float(linear(w, tangent)) == pytest.approx(
            float(jax.jit(lambda w, t: jax.jvp(expected, (w,), (t,))[1])(w, tangent)), rel=1e-9)
