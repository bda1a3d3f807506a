"""One training step, the same pure function for every optimizer of `optim.registry`.

The step takes the loss's value (and gradient) as the optimizer's row says, offers its
``update`` the row's keywords, and keeps the new parameters only where the step is sound: the
loss here and every new parameter finite, and no tolerance met.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax

from ...compiler import ir
from ..model import Batch, Params, Problem
from ..optim import registered


class Carry(NamedTuple):
    """What a chunk of steps carries from one step to the next."""
    params: Params
    state: optax.OptState
    last_finite: Params
    diverged: jax.Array
    step: jax.Array
    converged: jax.Array  # the phase's loss_tol or grad_tol was reached
    batch: Batch          # the points, resampled and refined on the device
    weights: jax.Array    # adaptive multipliers of the terms' weights (ones without weighting)

    @classmethod
    def start(cls, params: Params, state: optax.OptState, step: int, batch: Batch,
              weights: jax.Array) -> "Carry":
        """The carry at the start of a phase (or of a resumed one) at ``step``."""
        return cls(params, state, params, jnp.asarray(False), jnp.asarray(step, jnp.int32),
                   jnp.asarray(False), batch, weights)


def step_function(problem: Problem, phase: ir.Phase, form: str | None = None
                  ) -> Callable[[Carry], tuple[Carry, jax.Array]]:
    """A step of ``phase``: carry -> (next carry, the loss before the step).

    ``form``: the row's `Optimizer.form` on this problem (None where it has none), passed to
    ``update`` as the keyword ``form``.
    """
    row = registered(phase)
    transform = row.build(phase)
    labels = [t.label for t in problem.ir.terms]
    loss_tol, grad_tol = phase.get("loss_tol", 0.0), phase.get("grad_tol", 0.0)
    weighting = bool(problem.options.weighting)

    def step(carry: Carry) -> tuple[Carry, jax.Array]:
        batch = carry.batch
        weights = dict(zip(labels, carry.weights)) if weighting else None
        loss = lambda p: problem.loss(p, batch, weights)
        value, grad = row.value_and_grad(loss, carry.params, carry.state, grad_tol > 0)
        offered = keywords(problem, batch, weights, loss, value, grad, form)
        updates, state = transform.update(grad, carry.state, carry.params,
                                          **{name: offered[name] for name in row.keywords})
        params = optax.apply_updates(carry.params, updates)
        converged = jnp.asarray(False)
        if loss_tol > 0:
            converged |= value <= loss_tol
        if grad_tol > 0:
            converged |= optax.tree.norm(grad) <= grad_tol
        return kept(carry, params, state, value, converged), value

    return step


def keywords(problem: Problem, batch: Batch, weights: dict | None, loss: Callable,
             value: jax.Array, grad: Params | None, form: str | None) -> dict:
    """Every keyword of `optim.KEYWORDS` at this step (functions of the parameters are closures
    over the batch and weights: only those an update calls are traced)."""
    return dict(
        value=value, grad=grad, value_fn=loss, form=form,
        residual_fn=lambda p: problem.residual_vector(p, batch, weights),
        jacobian_fn=lambda p: problem.residual_jacobian(p, batch, weights),
        sampled_jacobian_fn=lambda p, key, rows: problem.sampled_residual_jacobian(
            p, batch, key, rows, weights),
        rows_fn=lambda p: problem.gauss_newton_rows(p, batch, weights))


def kept(carry: Carry, params: Params, state: optax.OptState, value: jax.Array,
         converged: jax.Array) -> Carry:
    """The carry after a step to ``params`` and ``state`` from a loss ``value``: the step counts
    only when the loss here and every new parameter are finite (L-BFGS's stored value can stay
    finite while its update is not) and no tolerance was met (``converged``: the phase then
    ends at the parameters that met it)."""
    finite_here = jnp.isfinite(value)
    ok = finite_here & all_finite(params) & ~converged
    keep = lambda flag, new, old: jax.tree.map(lambda a, b: jnp.where(flag, a, b), new, old)
    return carry._replace(
        params=keep(ok, params, carry.params), state=keep(ok, state, carry.state),
        last_finite=keep(finite_here, carry.params, carry.last_finite),
        diverged=~ok & ~converged, step=carry.step + ok.astype(carry.step.dtype),
        converged=converged)


def all_finite(tree) -> jax.Array:
    """Whether every element of every leaf of ``tree`` is finite (a scalar bool)."""
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree.leaves(tree)]))
