"""What each phase of the ``optimizer`` option runs: its transformation, how many steps a
compiled chunk takes, and how `engd` solves for its step on a problem."""
from __future__ import annotations

import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree

from ...compiler import ir
from ..model import Batch, Params, Problem
from .engd import choose_form, engd
from .ssbroyden import ssbroyden

# Steps per chunk: long enough that Python's share is negligible, short enough for progress.
CHUNK_STEPS = {"adam": 200, "lbfgs": 50, "ssbroyden": 50, "engd": 5}


def optimizer(phase: ir.Phase) -> optax.GradientTransformationExtraArgs:
    """The optax transformation for one phase of the ``optimizer`` option."""
    if phase.name == "adam":
        return optax.adam(phase.get("lr", 1e-3))
    if phase.name == "lbfgs":
        return optax.lbfgs(memory_size=int(phase.get("memory", 10)))
    if phase.name == "ssbroyden":
        return ssbroyden()
    if phase.name == "engd":
        return engd(damping=phase.get("damping", 1e-6), adaptive=bool(phase.get("adaptive", 1)))
    raise ValueError(f"optimizer {phase.name!r} has no implementation")


def engd_form(problem: Problem, params: Params, batch: Batch) -> str:
    """How `engd` solves for its step on this problem: 'generalized' where there are minimize
    terms (the generalized Gauss–Newton matrix, parameter form), else `engd.choose_form` of the
    number of residuals and of parameters."""
    if not problem.least_squares:
        return "generalized"
    rows = sum(int(batch[t.label]["points"].shape[0]) for t in problem.ir.terms)
    size = int(ravel_pytree(params)[0].shape[0])
    return choose_form(rows, size, jnp.dtype(problem.dtype).itemsize)
