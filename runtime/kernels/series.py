"""Truncated Taylor series: the coefficient recurrences of products, powers, quotients and
elementary functions, on normalized coefficients ``y_k = y^(k) / k!``.

A series is a list ``[y_0, y_1, ..., y_K]`` whose entries are arrays, or None where the
coefficient is zero, so that a value that does not depend on the point (a weight) costs
nothing above order 0. `taylor.py` applies these to each equation of a jaxpr.
"""
from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
from jax import lax

Series = list  # [y_0, y_1, ..., y_K], entries None where the coefficient is zero


def zeros(series: Series, k: int):
    return jnp.zeros_like(series[0]) if series[k] is None else series[k]


def product(bind, a: Series, b: Series, order: int) -> Series:
    out = []
    for k in range(order + 1):
        total = None
        for j in range(k + 1):
            if a[j] is None or b[k - j] is None:
                continue
            term = bind(a[j], b[k - j])
            total = term if total is None else total + term
        out.append(total)
    return out


def power(a: Series, n: int, order: int) -> Series:
    if n == 0:
        return [jnp.ones_like(a[0])] + [None] * order
    if n < 0:
        one = [jnp.ones_like(a[0])] + [None] * order
        return quotient(one, power(a, -n, order), order)
    result, base = None, a
    while n:
        if n & 1:
            result = base if result is None else product(lax.mul, result, base, order)
        n >>= 1
        if n:
            base = product(lax.mul, base, base, order)
    return result


def quotient(a: Series, b: Series, order: int) -> Series:
    """y = a / b: y_k = (a_k - sum_{j=1..k} b_j y_{k-j}) / b_0."""
    y = [a[0] / b[0]]
    for k in range(1, order + 1):
        total = zeros(a, k)
        for j in range(1, k + 1):
            if b[j] is not None and y[k - j] is not None:
                total = total - b[j] * y[k - j]
        y.append(total / b[0])
    return y


def _chain(x: Series, derivative: Series, k: int):
    """(1/k) sum_{j=1..k} j x_j d_{k-j}: the k-th coefficient of y where y' = d x'."""
    total = None
    for j in range(1, k + 1):
        if x[j] is None or derivative[k - j] is None:
            continue
        term = j * x[j] * derivative[k - j]
        total = term if total is None else total + term
    return None if total is None else total / k


def _square_coefficient(y: Series, k: int):
    """The k-th coefficient of y², each product of two different coefficients taken once."""
    total = None
    for i in range((k + 1) // 2):
        if y[i] is None or y[k - i] is None:
            continue
        term = y[i] * y[k - i]
        total = term if total is None else total + term
    if total is not None:
        total = 2 * total
    if k % 2 == 0 and y[k // 2] is not None:
        total = y[k // 2] ** 2 if total is None else total + y[k // 2] ** 2
    return total


def _with_linear_jvp(series_and_derivative: Callable[[Series, int], tuple[Series, Series]]):
    """A rule for y = f(x), elementwise, whose derivative in the coefficients is given in closed
    form: ``dy_k/dx_j = d_{k-j}``, where ``d`` is the series of ``f'(x(t))`` (perturbing x_j
    moves x(t) by t^j, so y(t) by f'(x(t)) t^j). ``series_and_derivative(x, order)`` returns
    (y, d). The JVP ``dy_k = sum_j d_{k-j} dx_j`` is linear in the tangents, so its transpose,
    the parameter gradient's reverse pass, is ``x̄_j = sum_k ȳ_k d_{k-j}``: a few products per
    coefficient, where differentiating the rule's recurrence would store and transpose each of
    its products."""
    def rule(x: Series, order: int) -> Series:
        @jax.custom_jvp
        def series(x):
            return series_and_derivative(x, order)[0]

        @series.defjvp
        def series_jvp(primals, tangents):
            (x,), (dx,) = primals, tangents
            y, d = series_and_derivative(x, order)
            dy = []
            for k, yk in enumerate(y):
                total = None
                for j in range(k + 1):
                    if x[j] is not None and d[k - j] is not None:
                        term = d[k - j] * dx[j]
                        total = term if total is None else total + term
                dy.append(None if yk is None else (jnp.zeros_like(yk) if total is None else total))
            return y, dy
        return series(x)
    return rule


def _tanh_and_derivative(x: Series, order: int) -> tuple[Series, Series]:
    """y = tanh(x), y' = (1 - y²) x'."""
    y = [jnp.tanh(x[0])]
    d = [1 - y[0] ** 2]
    for k in range(1, order + 1):
        y.append(_chain(x, d, k))
        square = _square_coefficient(y, k)
        d.append(None if square is None else -square)
    return y, d


def _logistic_and_derivative(x: Series, order: int) -> tuple[Series, Series]:
    """y = logistic(x), y' = (y - y²) x'."""
    y = [jax.nn.sigmoid(x[0])]
    d = [y[0] - y[0] ** 2]
    for k in range(1, order + 1):
        y.append(_chain(x, d, k))
        square = _square_coefficient(y, k)
        d.append(y[k] if square is None else (zeros(y, k) - square))
    return y, d


def _exp_and_derivative(x: Series, order: int) -> tuple[Series, Series]:
    y = [jnp.exp(x[0])]
    for k in range(1, order + 1):
        y.append(_chain(x, y, k))
    return y, y


def _sin_cos(x: Series, order: int) -> tuple[Series, Series]:
    s, c = [jnp.sin(x[0])], [jnp.cos(x[0])]
    for k in range(1, order + 1):
        sk, ck = _chain(x, c, k), _chain(x, s, k)
        s.append(sk)
        c.append(None if ck is None else -ck)
    return s, c


def _negated(series: Series) -> Series:
    return [None if c is None else -c for c in series]


tanh = _with_linear_jvp(_tanh_and_derivative)
logistic = _with_linear_jvp(_logistic_and_derivative)
exp = _with_linear_jvp(_exp_and_derivative)
sin = _with_linear_jvp(_sin_cos)
cos = _with_linear_jvp(lambda x, order: (lambda s, c: (c, _negated(s)))(*_sin_cos(x, order)))


def log(x: Series, order: int) -> Series:
    """y = log(x): x y' = x', so y_k = (x_k - (1/k) sum_{j=1..k-1} j y_j x_{k-j}) / x_0."""
    y = [jnp.log(x[0])]
    for k in range(1, order + 1):
        total = zeros(x, k)
        for j in range(1, k):
            if y[j] is not None and x[k - j] is not None:
                total = total - j * y[j] * x[k - j] / k
        y.append(total / x[0])
    return y


def sqrt(x: Series, order: int) -> Series:
    """y = sqrt(x): y² = x, so y_k = (x_k - sum_{j=1..k-1} y_j y_{k-j}) / (2 y_0)."""
    y = [jnp.sqrt(x[0])]
    for k in range(1, order + 1):
        total = zeros(x, k)
        for j in range(1, k):
            if y[j] is not None and y[k - j] is not None:
                total = total - y[j] * y[k - j]
        y.append(total / (2 * y[0]))
    return y
