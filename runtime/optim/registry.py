"""The one registry of optimizers: name -> how the training step runs it.

Each row is an `Optimizer`: how it is built from a phase of the ``optimizer`` option, how many
steps a compiled chunk takes, how the loss's value and gradient are had before a step, and the
keywords its ``update`` takes. The step calls every optimizer the same way (optax's
`GradientTransformationExtraArgs` habit): ``update(grad, state, params, **keywords)`` with the
row's keywords among `KEYWORDS`. Adding an optimizer is one module and one row here, plus its
settings in `compiler.options.OPTIMIZERS` (the language's side: what ``set optimizer = ...``
accepts, its defaults).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree

from ...compiler import ir
from ..model import Batch, Params, Problem
from .engd import choose_form, devices_of, engd
from . import nystrom
from .ssbroyden import ssbroyden

# What the step offers an update (`runtime.training.loop`): the loss's ``value`` and ``grad``
# at the parameters, the loss function ``value_fn``; for Gauss–Newton, the weighted residual
# vector ``residual_fn``, its Jacobian ``jacobian_fn`` (and on rows drawn at random,
# ``sampled_jacobian_fn``), the generalized rows ``rows_fn`` and the row's ``form`` of the solve.
KEYWORDS = ("value", "grad", "value_fn", "residual_fn", "jacobian_fn", "rows_fn", "form",
            "sampled_jacobian_fn")


def fresh_value_and_grad(loss: Callable, params: Params, state, needs_grad: bool):
    """The loss and its gradient at ``params``, evaluated."""
    return jax.value_and_grad(loss)(params)


def value_and_grad_from_state(loss: Callable, params: Params, state, needs_grad: bool):
    """The loss and its gradient as the line search in ``state`` left them (optax's
    `value_and_grad_from_state`), evaluated only where it has none."""
    return optax.value_and_grad_from_state(loss)(params, state=state)


def value_only(loss: Callable, params: Params, state, needs_grad: bool):
    """The loss at ``params``, and its gradient only where ``needs_grad`` (a ``grad_tol``)."""
    if needs_grad:
        return jax.value_and_grad(loss)(params)
    return loss(params), None


@dataclass(frozen=True)
class Optimizer:
    """How the training step runs one optimizer.

    build: a phase of the ``optimizer`` option -> its transformation.
    chunk_steps: steps per compiled chunk, at most: long enough that Python's share is
      negligible, short enough for progress.
    keywords: the `KEYWORDS` its ``update`` takes.
    value_and_grad: ``(loss, params, state, needs_grad) -> (value, grad or None)`` before a step.
    form: ``(problem, params, batch, phase) -> str``, how it solves for its step on a problem
      (kept in metrics.json's ``solver``); None where there is no choice.
    check: ``problem -> None``, raising `SpecError` where it cannot train the problem.
    """
    build: Callable[[ir.Phase], optax.GradientTransformationExtraArgs]
    chunk_steps: int
    keywords: tuple[str, ...] = ()
    value_and_grad: Callable = fresh_value_and_grad
    form: Callable[[Problem, Params, Batch], str] | None = None
    check: Callable[[Problem], None] | None = None

    def __post_init__(self):
        assert set(self.keywords) <= set(KEYWORDS), self.keywords


def engd_form(problem: Problem, params: Params, batch: Batch, phase: ir.Phase | None = None
              ) -> str:
    """How `engd` solves for its step on this problem: 'generalized' where there are minimize
    terms (the generalized Gauss–Newton matrix, parameter form), else `engd.choose_form` of the
    number of residuals and of parameters, and of the devices the points are split over."""
    if not problem.least_squares:
        return "generalized"
    rows = sum(int(batch[t.label].points.shape[0]) for t in problem.ir.terms)
    size = int(ravel_pytree(params)[0].shape[0])
    return choose_form(rows, size, jnp.dtype(problem.dtype).itemsize,
                       devices=devices_of(batch))



OPTIMIZERS: Mapping[str, Optimizer] = {
    "adam": Optimizer(
        build=lambda phase: optax.with_extra_args_support(optax.adam(phase.get("lr", 1e-3))),
        chunk_steps=200),
    "lbfgs": Optimizer(
        build=lambda phase: optax.lbfgs(memory_size=int(phase.get("memory", 10))),
        chunk_steps=50, keywords=("value", "grad", "value_fn"),
        value_and_grad=value_and_grad_from_state),
    "ssbroyden": Optimizer(
        build=lambda phase: ssbroyden(),
        chunk_steps=50, keywords=("value", "grad", "value_fn"),
        value_and_grad=value_and_grad_from_state),
    "engd": Optimizer(
        build=lambda phase: engd(damping=phase.get("damping", 1e-6),
                                 adaptive=bool(phase.get("adaptive", 1)),
                                 search=int(phase.get("search", 1))),
        chunk_steps=5,
        keywords=("value", "value_fn", "residual_fn", "jacobian_fn", "rows_fn", "form"),
        value_and_grad=value_only, form=engd_form,
        check=lambda problem: problem.check_least_squares()),
    "nystrom": Optimizer(
        build=lambda phase: nystrom.nystrom(rank=max(1, int(phase.get("rank", 64))),
                                            damping=phase.get("damping", 1e-6),
                                            cg=int(phase.get("cg", 0)),
                                            adaptive=bool(phase.get("adaptive", 1)),
                                            rows=int(phase.get("rows", 0)),
                                            search=int(phase.get("search", 1))),
        chunk_steps=5, keywords=("value", "value_fn", "residual_fn", "jacobian_fn", "form",
                                 "sampled_jacobian_fn"),
        value_and_grad=value_only, form=nystrom.sketch_form, check=nystrom.check),
}


def registered(phase: ir.Phase) -> Optimizer:
    """The registry's row for ``phase``."""
    if phase.name not in OPTIMIZERS:
        raise ValueError(f"optimizer {phase.name!r} has no implementation")
    return OPTIMIZERS[phase.name]


def optimizer(phase: ir.Phase) -> optax.GradientTransformationExtraArgs:
    """The optax transformation for one phase of the ``optimizer`` option."""
    return registered(phase).build(phase)
