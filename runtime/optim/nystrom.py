"""Nyström natural gradient: ENGD's Gauss–Newton step with the Gram matrix replaced by a
randomized rank-k sketch, at a cost linear in the residuals M and the parameters P.

ENGD (`engd`) solves ``(JᵀJ + λI) d = Jᵀr`` with a dense Gram matrix: M²P or MP² per step. Here
JᵀJ is never formed. The products of J with k random Gaussian vectors Ω (P×k) give ``Y = JΩ``
(M×k), whose orthonormal basis Q spans (with high probability) the dominant range of J; k
products with Jᵀ give ``B = QᵀJ`` (k×P), and ``BᵀB = JᵀQQᵀJ`` is the Nyström approximation of
JᵀJ with test matrix Ω (Halko, Martinsson & Tropp 2011; Frangella, Tropp & Udell 2023). With
``B = U S Vᵀ`` the step applies

    P⁻¹ g = V (S² + λ)⁻¹ Vᵀ g + (g - VVᵀg) / (s_k² + λ)

to the gradient g = Jᵀr: the exact damped inverse on the sketched subspace and, beyond it, the
smallest sketched eigenvalue s_k² (so that directions the sketch missed are not scaled by
1/λ). With k ≥ min(M, P) the sketch holds all of J and the step is ENGD's to round-off. ``cg``
conjugate-gradient iterations on the exact operator ``Jᵀ(Jv) + λv``, preconditioned by P⁻¹
and started from P⁻¹g, refine the step (Nyström-preconditioned CG, as Bioli, Marcati &
Sangalli 2025 use for natural gradient on PINNs).

The products come from J itself where it fits in memory (form 'jacobian': the per-point
Jacobian, O(MP) time and memory, then matrix multiplies), else from JVPs and VJPs of the
residuals (form 'matrix-free': O((M + P)k) memory, each product about a residual evaluation).
Per step: 2k + 1 + 2·cg products, O(MPk) in the 'jacobian' form, and O((M + P)k²) of dense
algebra. ``λ = damping · trace(BᵀB) / P`` (ENGD's parameter-form scale, with the sketched
trace). The line search and adaptive damping are `engd`'s.

With ``rows`` (form 'sampled') the sketch is of the Gram matrix of that many residual rows drawn
afresh each step, scaled so that it estimates JᵀJ without bias, and the step preconditions the
whole loss's gradient with it (subsampled natural gradient); ``cg`` iterations then take the
whole JᵀJ, by a JVP and a VJP each, towards engd's step. A step costs a gradient, the Jacobian
of ``rows`` rows, O(rows·P·k) of algebra and two passes per iteration, whatever M; with the
backtracking line search (``search=1``) it takes one or two losses more.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree

from ...compiler.errors import SpecError
from .engd import adapt_damping, devices_of, line_search, memory_budget

# Sketch products are evaluated this many at a time (matrix-free form): memory O(BLOCK·M) in
# the network's intermediates, whatever the rank.
BLOCK = 32

# How the products with J are had: from the Jacobian, formed per point (`jacobian_fn`, O(MP)
# time and memory, the products matrix multiplies), or from JVPs and VJPs of the residuals.
FORMS = ("jacobian", "matrix-free", "sampled")


class SketchState(NamedTuple):
    count: jax.Array  # steps so far: each draws its own test matrix


class Products(NamedTuple):
    """J at a point, as its products: ``jvps`` (k, P) -> (k, M), rows ``J v``; ``vjps``
    (k, M) -> (k, P), rows ``Jᵀ u``; the residual vector r (M,) there."""
    jvps: Callable[[jax.Array], jax.Array]
    vjps: Callable[[jax.Array], jax.Array]
    residual: jax.Array


def dense_products(jacobian: jax.Array, residual: jax.Array) -> Products:
    """`Products` of a formed Jacobian (M, P): matrix multiplies."""
    return Products(lambda vs: vs @ jacobian.T, lambda us: us @ jacobian, residual)


def matrix_free_products(residual_of: Callable, theta: jax.Array) -> Products:
    """`Products` of the Jacobian of ``residual_of`` (flat parameters -> (M,)) at ``theta``:
    JVPs of its linearization and their transposes, `BLOCK` at a time."""
    residual, jvp = jax.linearize(residual_of, theta)
    transposed = jax.linear_transpose(jvp, theta)
    vjp = lambda u: transposed(u)[0]
    many = lambda f: lambda xs: jax.lax.map(f, xs, batch_size=min(xs.shape[0], BLOCK))
    return Products(many(jvp), many(vjp), residual)


def choose_form(residuals: int, parameters: int, itemsize: int = 8,
                budget: int | None = None) -> str:
    """'jacobian' where the Jacobian (M×P) fits in ``budget`` bytes (`engd.memory_budget`),
    else 'matrix-free'."""
    budget = memory_budget() if budget is None else budget
    return "jacobian" if residuals * parameters * itemsize <= budget else "matrix-free"


def sketch(products: Products, size: int, rank: int, key: jax.Array
           ) -> tuple[jax.Array, jax.Array]:
    """The rank-``rank`` Nyström factor of JᵀJ: (Vᵀ (k', P), eigenvalues s² (k',), descending),
    k' = min(rank, M); ``size`` is P."""
    omega = jax.random.normal(key, (rank, size), products.residual.dtype)
    basis, _ = jnp.linalg.qr(products.jvps(omega).T)                    # (M, k'), range of JΩ
    _, singular, right = jnp.linalg.svd(products.vjps(basis.T), full_matrices=False)  # QᵀJ
    return right, singular ** 2


def preconditioner(right: jax.Array, eigenvalues: jax.Array, shift: jax.Array) -> Callable:
    """v -> V (S² + λ)⁻¹ Vᵀ v + (v - VVᵀv) / (s_k² + λ), the inverse of the sketched
    ``JᵀJ + λI`` with the sketch's smallest eigenvalue beyond its range."""
    floor = eigenvalues[-1] + shift

    def apply(v: jax.Array) -> jax.Array:
        coefficients = right @ v
        inside = right.T @ (coefficients / (eigenvalues + shift))
        return inside + (v - right.T @ coefficients) / floor

    return apply


def nystrom_direction(products: Products, size: int, damping: jax.Array, rank: int, cg: int,
                      key: jax.Array, exact: Products | None = None) -> jax.Array:
    """d ≈ (JᵀJ + λI)⁻¹ Jᵀr (P,), P = ``size``, from a rank-``rank`` sketch of ``products``
    and ``cg`` preconditioned conjugate-gradient iterations on ``exact`` (J and r, where
    ``products`` are those of rows of J only; else ``products``); λ = damping · trace of the
    sketched JᵀJ / P."""
    exact = products if exact is None else exact
    right, eigenvalues = sketch(products, size, rank, key)
    shift = damping * jnp.sum(eigenvalues) / size
    apply = preconditioner(right, eigenvalues, shift)
    one = lambda f, v: f(v[None])[0]
    gradient = one(exact.vjps, exact.residual)
    direction = apply(gradient)
    if cg > 0:
        operator = lambda v: one(exact.vjps, one(exact.jvps, v)) + shift * v
        direction, _ = jax.scipy.sparse.linalg.cg(operator, gradient, x0=direction, M=apply,
                                                  maxiter=cg, tol=0.0)
    return direction


def scale_by_nystrom_gauss_newton(damping: float | jax.Array, rank: int, cg: int = 0,
                                  seed: int = 0, rows: int = 0
                                  ) -> optax.GradientTransformationExtraArgs:
    """The descent direction ``-d`` of `nystrom_direction`, a fresh sketch each step.

    With ``rows`` > 0 the sketch is of JᵀJ estimated from that many residual rows drawn at
    random each step (a row-sampling sketch: their Jacobian costs ``rows``/M of the whole), and
    the gradient and conjugate gradients take the whole J by JVPs and VJPs; else of the whole
    J.

    Args (of ``update(updates, state, params, **extra)``; ``updates`` is ignored):
      form: one of `FORMS` (`choose_form`); None: 'jacobian' where ``jacobian_fn`` is given.
      residual_fn: ``params -> r`` (M,), the weighted residual vector, loss ``|r|²``.
      jacobian_fn: ``params -> J`` (M, P) in `ravel_pytree` order (form 'jacobian').
      sampled_jacobian_fn: ``(params, key, rows) -> J_S`` (≈rows, P), rows of J drawn at
        random and scaled so that J_SᵀJ_S estimates JᵀJ (with ``rows``).
    Returns:
      ``-d`` in the structure of ``params``, and a `SketchState`.
    """
    def init(params) -> SketchState:
        del params
        return SketchState(jnp.asarray(0, jnp.int32))

    def update(updates, state, params, *, residual_fn: Callable,
               jacobian_fn: Callable | None = None, form: str | None = None,
               sampled_jacobian_fn: Callable | None = None, **extra):
        del updates, extra
        theta, unravel = ravel_pytree(params)
        key = jax.random.fold_in(jax.random.key(seed), state.count)
        exact = None
        if rows > 0:
            sampled = sampled_jacobian_fn(params, jax.random.fold_in(key, 1), rows)
            products = dense_products(sampled, jnp.zeros(sampled.shape[0], sampled.dtype))
            exact = matrix_free_products(lambda t: residual_fn(unravel(t)), theta)
        elif form == "matrix-free" or jacobian_fn is None:
            products = matrix_free_products(lambda t: residual_fn(unravel(t)), theta)
        else:
            products = dense_products(jacobian_fn(params), residual_fn(params))
        direction = nystrom_direction(products, theta.shape[0], damping, rank, cg, key, exact)
        return unravel(-direction), SketchState(state.count + 1)

    return optax.GradientTransformationExtraArgs(init, update)


def nystrom(rank: int = 64, damping: float = 1e-6, cg: int = 0, adaptive: bool = True,
            rows: int = 0, search: int = 1) -> optax.GradientTransformationExtraArgs:
    """Nyström natural gradient: `scale_by_nystrom_gauss_newton` then engd's `line_search` of
    ``search`` losses at once, under engd's `adapt_damping`.

    ``update(updates, state, params, *, residual_fn, value_fn, value=None, jacobian_fn=None,
    form=None, sampled_jacobian_fn=None)``; ``updates`` is ignored. Returns the
    parameter update (zero when no step length lowers the loss) and the state, whose leaves
    are: count, accepted, step_size, damping.
    """
    return adapt_damping(lambda d: optax.chain(scale_by_nystrom_gauss_newton(d, rank, cg,
                                                                             rows=rows),
                                               line_search(search)),
                         damping, adaptive)


def check(problem) -> None:
    """Raise `SpecError` unless every term is a mean square of residuals (a minimize term's
    Gauss–Newton matrix is not JᵀJ of a residual vector, which the sketch needs)."""
    for term in problem.ir.terms:
        if term.kind == "minimize":
            raise SpecError("nystrom(...) takes mean-square terms only; "
                            f"'{term.label}' is a minimize term: train it with engd, adam or "
                            "lbfgs", term.span, source=problem.text, filename=problem.filename)


def sketch_form(problem, params, batch, phase=None) -> str:
    """'sampled' where ``phase`` sketches from rows drawn at random (``rows``), else
    `choose_form` of the problem's number of residuals and of parameters; with the points
    split over several devices, of one device's share of the residuals (its rows of J)."""
    if phase is not None and phase.get("rows", 0) > 0:
        return "sampled"
    rows = -(-jax.eval_shape(problem.residual_vector, params, batch).shape[0]
             // devices_of(batch))
    size = ravel_pytree(params)[0].shape[0]
    return choose_form(rows, size, jnp.dtype(problem.dtype).itemsize)
