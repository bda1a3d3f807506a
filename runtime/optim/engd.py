"""Energy natural gradient (ENGD): Gauss–Newton in function space, as a chain of optax-style
transformations.

For a loss that is a sum of weighted mean squares, ``L(θ) = |r(θ)|²`` with the residual vector
``r = concat_t sqrt(w_t / N_t) r_t`` over every `pde`, `bc`, `ic` and `data` term, the step
solves ``(JᵀJ + λI) d = Jᵀr`` with ``J = ∂r/∂θ`` over all parameters (network weights and
`param`s): the natural gradient of Müller & Zeinhofer (ICML 2023) for these losses. It is
solved in the kernel form ``d = Jᵀ(JJᵀ + λI)⁻¹ r`` when there are fewer residuals than
parameters (the Woodbury identity), else in the parameter form; with the points split over
several devices, always in the parameter form (`choose_form`). ``λ = damping · mean(diag)``.

`engd` is three units: `scale_by_gauss_newton` (the direction, for a given damping),
`scale_by_grid_linesearch` (the best of the step lengths ``2⁰, 2⁻¹, …`` on the loss itself, all
evaluated at once; a step that does not lower the loss is not taken, so the loss never
increases; or the same lengths one loss at a time from the longest, down to the first that does
worse than the one before, `scale_by_backtracking_linesearch`) and `adapt_damping` around them (the damping for the next step, from the step
length taken).
"""
from __future__ import annotations

import os
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree

GRID = 16  # step lengths 2^0 ... 2^-15

# Adaptive damping: halve it after a full-length step, multiply it by 4 after a short or
# rejected one, within these bounds.
DAMPING_RANGE = (1e-12, 1e-1)

# How the direction is solved for: `choose_form`'s three, or "generalized" (minimize terms).
FORMS = ("kernel", "parameter", "matrix-free", "generalized")


def memory_budget() -> int:
    """Bytes a dense Gauss–Newton system may take: a quarter of the device's memory (a GPU's
    allocator limit; on a CPU, the machine's physical memory)."""
    try:
        stats = jax.local_devices()[0].memory_stats() or {}  # one of this process's own
    except Exception:  # backends without memory statistics
        stats = {}
    total = stats.get("bytes_limit")
    if not total:
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            total = 8 * 2 ** 30
    return int(total) // 4


def devices_of(tree) -> int:
    """How many devices the arrays of ``tree`` are placed on, at most (1 for host arrays)."""
    return max((len(leaf.sharding.device_set) for leaf in jax.tree.leaves(tree)
                if isinstance(leaf, jax.Array)), default=1)


def choose_form(residuals: int, parameters: int, itemsize: int = 8,
                budget: int | None = None, devices: int = 1) -> str:
    """The form of the Gauss–Newton solve: 'kernel' (JJᵀ, M×M) when there are fewer residuals
    than parameters, else 'parameter' (JᵀJ, P×P): the smaller system, when it and the
    Jacobian (M×P) fit in ``budget`` bytes (`memory_budget`); else 'matrix-free' (conjugate
    gradients on Jᵀ(Jv), with JVPs and VJPs of the residuals: O(M + P) memory).

    With the residuals split over ``devices`` > 1 (data parallelism), the parameter form:
    JᵀJ is a sum over points (each device sums its own rows, one all-reduce adds them up),
    where JJᵀ would need every residual on every device. A device then holds M/devices rows
    of J."""
    budget = memory_budget() if budget is None else budget
    if devices > 1:
        dense = (-(-residuals // devices) * parameters + parameters * parameters) * itemsize
        return "matrix-free" if dense > budget else "parameter"
    smaller = min(residuals, parameters)
    dense = (residuals * parameters + smaller * smaller) * itemsize
    if dense > budget:
        return "matrix-free"
    return "kernel" if residuals < parameters else "parameter"


def gauss_newton_direction(jacobian: jax.Array, residual: jax.Array, damping: float,
                           form: str | None = None) -> jax.Array:
    """The Gauss–Newton direction d with (JᵀJ + λI) d = Jᵀr, in the kernel or the parameter
    form (``form``, else the smaller).

    ``jacobian``: (M, P); ``residual``: (M,); returns (P,). λ = damping · mean diagonal.
    """
    m, p = jacobian.shape
    form = form or ("kernel" if m < p else "parameter")
    if form == "kernel":
        gram = jacobian @ jacobian.T
        shift = damping * jnp.trace(gram) / m
        factor = jax.scipy.linalg.cho_factor(gram + shift * jnp.eye(m, dtype=gram.dtype))
        return jacobian.T @ jax.scipy.linalg.cho_solve(factor, residual)
    gram = jacobian.T @ jacobian
    shift = damping * jnp.trace(gram) / p
    factor = jax.scipy.linalg.cho_factor(gram + shift * jnp.eye(p, dtype=gram.dtype))
    return jax.scipy.linalg.cho_solve(factor, jacobian.T @ residual)


def generalized_direction(rows: jax.Array, gradient: jax.Array, damping: float) -> jax.Array:
    """d with (RᵀR + λI) d = g/2, RᵀR half the generalized Gauss–Newton matrix (minimize terms:
    the gradient is not Rᵀ times anything, so there is no kernel form); parameter form."""
    gram = rows.T @ rows
    p = gram.shape[0]
    shift = damping * jnp.trace(gram) / p
    factor = jax.scipy.linalg.cho_factor(gram + shift * jnp.eye(p, dtype=gram.dtype))
    return jax.scipy.linalg.cho_solve(factor, 0.5 * gradient)


CG_STEPS = 200  # conjugate-gradient iterations of a matrix-free solve, at most
PROBES = 8      # Rademacher probes for the trace of JᵀJ (the damping's scale), matrix-free


def matrix_free_direction(residual_of, theta: jax.Array, damping: float,
                          key: jax.Array) -> jax.Array:
    """(JᵀJ + λI) d = Jᵀr by conjugate gradients, with ``J v`` a JVP and ``Jᵀ u`` a VJP of
    ``residual_of`` (flat parameters -> residual vector) at ``theta``: J is never formed.
    λ = damping · trace(JᵀJ)/P, the trace estimated from `PROBES` random ±1 vectors."""
    residual, jvp = jax.linearize(residual_of, theta)
    vjp = jax.linear_transpose(jvp, theta)
    probes = jax.random.rademacher(key, (PROBES, theta.shape[0]), theta.dtype)
    trace = jnp.mean(jax.vmap(lambda v: jnp.sum(jvp(v) ** 2))(probes))
    shift = damping * trace / theta.shape[0]
    operator = lambda v: vjp(jvp(v))[0] + shift * v
    direction, _ = jax.scipy.sparse.linalg.cg(operator, vjp(residual)[0], maxiter=CG_STEPS,
                                              tol=1e-10)
    return direction


class LineSearchState(NamedTuple):
    accepted: jax.Array   # whether the last step lowered the loss
    step_size: jax.Array  # the step length taken (0 when none was)


class DampingState(NamedTuple):
    inner: optax.OptState  # the state of the transformation built with the damping
    damping: jax.Array     # the relative damping for the next step


def scale_by_gauss_newton(damping: float | jax.Array) -> optax.GradientTransformationExtraArgs:
    """The Gauss–Newton descent direction ``-d``, ``(JᵀJ + λI) d = Jᵀr``, with ``λ = damping ·
    mean diagonal``.

    Args (of ``update(updates, state, params, **extra)``; ``updates`` is ignored):
      form: one of `FORMS` (`choose_form`), or None for the smaller dense system.
      residual_fn: ``params -> r`` (M,), the weighted residual vector, loss ``|r|²``.
      jacobian_fn: ``params -> J`` (M, P) in `ravel_pytree` order (dense forms).
      rows_fn: ``params -> R`` (K, P), the rows of half the generalized Gauss–Newton matrix
        (form "generalized"; the direction then solves with RᵀR and the gradient of
        ``value_fn``).
      value_fn: ``params -> loss`` (form "generalized").
    Returns:
      ``-d`` in the structure of ``params``, and the (empty) state.
    """
    def init(params) -> optax.EmptyState:
        del params
        return optax.EmptyState()

    def update(updates, state, params, *, form: str | None = None,
               residual_fn: Callable | None = None, jacobian_fn: Callable | None = None,
               rows_fn: Callable | None = None, value_fn: Callable | None = None, **extra):
        del updates, extra
        theta, unravel = ravel_pytree(params)
        if form == "generalized":
            gradient = ravel_pytree(jax.grad(value_fn)(params))[0]
            direction = generalized_direction(rows_fn(params), gradient, damping)
        elif form == "matrix-free":
            direction = matrix_free_direction(lambda t: residual_fn(unravel(t)), theta,
                                              damping, jax.random.key(0))
        else:
            direction = gauss_newton_direction(jacobian_fn(params), residual_fn(params),
                                               damping, form)
        return unravel(-direction), state

    return optax.GradientTransformationExtraArgs(init, update)


def scale_by_grid_linesearch(grid: int = GRID) -> optax.GradientTransformationExtraArgs:
    """The best step along ``updates`` of the lengths ``2⁰ … 2^-(grid-1)``, on the loss itself,
    all evaluated at once (a `vmap`); none where no length lowers the loss.

    Args (of ``update(updates, state, params, **extra)``):
      updates: the direction, in the structure of ``params``.
      value_fn: ``params -> loss``.
      value: the loss at ``params``, where the caller has it (else it is evaluated).
    Returns:
      ``size · updates`` (zero when no step was taken), and a `LineSearchState`.
    """
    def update(updates, state, params, *, value_fn: Callable,
               value: jax.Array | None = None, **extra):
        del state, extra
        theta, unravel = ravel_pytree(params)
        direction = ravel_pytree(updates)[0]
        sizes = 2.0 ** -jnp.arange(grid, dtype=theta.dtype)
        losses = jax.vmap(lambda a: value_fn(unravel(theta + a * direction)))(sizes)
        losses = jnp.where(jnp.isfinite(losses), losses, jnp.inf)
        best = jnp.argmin(losses)
        current = value_fn(params) if value is None else value
        accepted = losses[best] < current
        size = jnp.where(accepted, sizes[best], 0.0)
        return unravel(size * direction), LineSearchState(accepted, size)

    return optax.GradientTransformationExtraArgs(_line_search_start, update)


def scale_by_backtracking_linesearch(trials: int = GRID) -> optax.GradientTransformationExtraArgs:
    """The best step along ``updates`` of the lengths ``2⁰, 2⁻¹, …`` (at most ``trials``), one
    loss at a time from the longest, stopping at the first that does worse than the one before
    it once one has lowered the loss: where the loss along the step falls, then rises, as it
    mostly does, this is the grid's choice (`scale_by_grid_linesearch`) at the cost of the
    lengths down to it and one more (a Gauss–Newton step mostly takes the full length: two
    losses) instead of ``grid``.

    Args and returns: those of `scale_by_grid_linesearch`.
    """
    def update(updates, state, params, *, value_fn: Callable,
               value: jax.Array | None = None, **extra):
        del state, extra
        theta, unravel = ravel_pytree(params)
        direction = ravel_pytree(updates)[0]
        current = value_fn(params) if value is None else value

        def halve(carry):
            tried, size, best, best_size, _ = carry
            loss = value_fn(unravel(theta + size * direction))
            loss = jnp.where(jnp.isfinite(loss), loss, jnp.inf)
            better = loss < best
            # once a length has lowered the loss, a worse one ends the search
            done = (best < current) & ~better
            return (tried + 1, size / 2, jnp.where(better, loss, best),
                    jnp.where(better, size, best_size), done)

        one = jnp.asarray(1.0, theta.dtype)
        _, _, best, size, _ = jax.lax.while_loop(
            lambda carry: (carry[0] < trials) & ~carry[4], halve,
            (jnp.asarray(0), one, current, jnp.zeros_like(one), jnp.asarray(False)))
        accepted = best < current
        size = jnp.where(accepted, size, 0.0)
        return unravel(size * direction), LineSearchState(accepted, size)

    return optax.GradientTransformationExtraArgs(_line_search_start, update)


def _line_search_start(params) -> LineSearchState:
    """A search's state before its first step, in the parameters' precision."""
    dtype = ravel_pytree(params)[0].dtype
    return LineSearchState(jnp.asarray(True), jnp.asarray(0.0, dtype))


def line_search(search: int = GRID) -> optax.GradientTransformationExtraArgs:
    """The step-length search of ``search`` losses evaluated at once: the grid of
    `scale_by_grid_linesearch` for 2 or more, backtracking (`scale_by_backtracking_linesearch`)
    for 1."""
    if search <= 1:
        return scale_by_backtracking_linesearch()
    return scale_by_grid_linesearch(min(int(search), GRID))


def adapt_damping(inner: Callable[[jax.Array], optax.GradientTransformationExtraArgs],
                  damping: float, adaptive: bool = True) -> optax.GradientTransformationExtraArgs:
    """``inner(damping)`` with the damping carried in the state (optax's `inject_hyperparams`,
    driven by the step taken): halved after a full-length step, kept after one down to 2⁻⁴,
    multiplied by 4 after a shorter or rejected one, within `DAMPING_RANGE`; fixed unless
    ``adaptive``.

    Args (of ``update(updates, state, params, **extra)``): all passed on to ``inner``, whose
    state holds the ``step_size`` taken (`optax.tree_utils.tree_get`).
    Returns:
      ``inner``'s updates, and a `DampingState`.
    """
    def init(params) -> DampingState:
        dtype = ravel_pytree(params)[0].dtype
        return DampingState(inner(damping).init(params), jnp.asarray(damping, dtype))

    def update(updates, state, params, **extra):
        updates, inner_state = inner(state.damping).update(updates, state.inner, params, **extra)
        new_damping = state.damping
        if adaptive:
            size = optax.tree_utils.tree_get(inner_state, "step_size")
            low, high = DAMPING_RANGE
            factor = jnp.where(size >= 0.5, 0.5, jnp.where(size >= 2.0 ** -4, 1.0, 4.0))
            new_damping = jnp.clip(state.damping * factor, low, high)
        return updates, DampingState(inner_state, new_damping)

    return optax.GradientTransformationExtraArgs(init, update)


def engd(damping: float = 1e-10, adaptive: bool = True, search: int = 1
         ) -> optax.GradientTransformationExtraArgs:
    """ENGD: `scale_by_gauss_newton` then the `line_search` of ``search`` losses at once, under
    `adapt_damping`.

    ``update(updates, state, params, *, value_fn, value=None, form=None, residual_fn=None,
    jacobian_fn=None, rows_fn=None)``: the keywords of its units; ``updates`` is ignored.
    Returns the parameter update (zero when no step length lowers the loss) and the state,
    whose leaves are: accepted, step_size, damping.
    """
    return adapt_damping(lambda d: optax.chain(scale_by_gauss_newton(d), line_search(search)),
                         damping, adaptive)
