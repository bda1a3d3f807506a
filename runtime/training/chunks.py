"""A chunk of training steps: a `lax.while_loop` around the one step, compiled once per phase.

A step (`step.step_function`) is a pure function of the carry, the same for every optimizer of
`optim.registry`. A chunk runs at most the optimizer's ``chunk_steps`` of them and stops early
at the phase's end, a divergence or a tolerance. Before a step, where the options say so,
points are resampled or refined and the terms' weights updated (`mover`); every
`RECORD_EVERY` steps each term's value is recorded for the history.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from ...compiler import ir
from ..model import Batch, Params, Problem
from . import points, sharding
from .step import Carry, step_function
from .weighting import balanced

__all__ = ["Moves", "initial_points", "chunk_function", "compiled_chunk", "mover",
           "RECORD_EVERY", "MAX_ADDED_POINTS"]

RECORD_EVERY = 10
MAX_ADDED_POINTS = 1_000_000  # slots reserved for refinement, per set of points


@dataclass(frozen=True)
class Moves:
    """What a chunk needs to move points on the device (`training.points`); the pools are
    passed to it as arguments (device arrays, not constants compiled into it)."""
    layout: points.Layout
    pools: dict
    key: jax.Array
    max_rounds: int  # refinement rounds that fit in the reserved slots


def initial_points(problem: Problem, key: jax.Array, multiple: int = 1
                   ) -> tuple[Batch, Moves | None]:
    """The first points and, where points move on the device (``resample_every``,
    ``refine``), their pools and layout, with the slots refinement will fill reserved.
    ``multiple``: every sampled set, and the reserved slots, rounded up to a multiple of it
    (the devices the points are split over: `sharding`)."""
    batch = problem.sample(key, multiple)
    options = problem.options
    if not options.resample_every and options.refine is None:
        return batch, None
    total = sum(p.steps for p in options.optimizer)
    rounds = 0
    if options.refine is not None:
        rounds = total // options.refine.every
        # every added point takes a slot from the start: at most MAX_ADDED_POINTS of them
        rounds = min(rounds, MAX_ADDED_POINTS // options.refine.points)
    slots = sharding.round_up(rounds * (options.refine.points if rounds else 0), multiple)
    layout = points.layout(problem, batch, slots)
    rng = np.random.default_rng(int(jax.random.randint(jax.random.fold_in(key, 1), (), 0,
                                                       2 ** 31 - 1)))
    pools = points.pools(problem, layout, rng)
    if options.refine is not None and any(
            pools[layout.sets[i][0]].points.shape[0] < options.refine.points
            for i in layout.refined):
        rounds = 0
    batch = points.reserve(batch, layout)
    return batch, Moves(layout, pools, jax.random.fold_in(key, 2), rounds)


def compiled_chunk(problem: Problem, phase: ir.Phase, length: int, moves: Moves | None,
                   form: str | None, args: tuple):
    """`chunk_function` compiled for ``args`` (carry, end, pools). It is kept on the problem:
    training the same problem again in this process (a resumed run, a callback's restart)
    neither traces nor compiles it again. The key holds all the compiled program depends on:
    the phase, the chunk's length, the optimizer's form, the points' layout and key (a constant
    in the program), and the arguments' shapes, types and placements.

    The program follows the arguments' shardings (`sharding`: points split over the devices,
    the rest replicated); its carry comes out placed as it went in, so it feeds the next chunk,
    and its outputs for the history replicated."""
    where = None
    if moves is not None:
        where = (moves.layout, moves.max_rounds,
                 np.asarray(jax.random.key_data(moves.key)).tobytes())
    types = jax.tree.map(jax.typeof, args)
    placed = sharding.shardings(args)
    key = (phase, length, form, where, jax.tree.structure(types), tuple(jax.tree.leaves(types)),
           tuple(jax.tree.leaves(placed)))
    if key not in problem._compiled_chunks:
        function = chunk_function(problem, phase, length, moves, form)
        outputs = (placed[0], placed[1])  # the carry as it came; the rest as `end`: replicated
        problem._compiled_chunks[key] = jax.jit(function, out_shardings=outputs).lower(
            *args).compile()
    return problem._compiled_chunks[key]


def chunk_function(problem: Problem, phase: ir.Phase, length: int, moves: Moves | None,
                   form: str | None = None):
    """``(carry, end, pools) -> (carry, outputs)``: up to ``length`` steps of ``phase`` from
    the carry, stopping at step ``end``, at a non-finite loss or parameter (``diverged``) and at
    a tolerance (``converged``). The outputs are what `History.add` reads: the first step, the
    loss before each step, the steps at which terms were recorded (-1: none) and their
    values."""
    step = step_function(problem, phase, form)
    moving = moves is not None or bool(problem.options.weighting)
    records = -(-length // RECORD_EVERY)  # most multiples of RECORD_EVERY in a chunk
    labels = [t.label for t in problem.ir.terms]

    def chunk(carry: Carry, end: jax.Array, pools: dict):
        move = mover(problem, moves, pools) if moving else (lambda c: c)
        first = carry.step
        steps = _Steps(problem, labels, step, move, moving, first, jnp.minimum(end, first + length))
        state = (carry, jnp.full((length,), jnp.nan, problem.dtype),
                 jnp.full((records,), -1, carry.step.dtype),
                 jnp.full((records, len(labels)), jnp.nan, problem.dtype),
                 jnp.asarray(0, carry.step.dtype))
        carry, values, recorded, terms, _ = jax.lax.while_loop(steps.running, steps.block, state)
        return carry, (first, values, recorded, terms)

    return chunk


@dataclass(frozen=True)
class _Steps:
    """The loops of one chunk. The outer loop's body starts at a multiple of `RECORD_EVERY`
    (or at the chunk's first step) and records the terms there; the inner loop takes the
    steps up to the next multiple. No `cond` wraps a step: it would cost every step a copy."""
    problem: Problem
    labels: list[str]
    step: Callable[[Carry], tuple[Carry, jax.Array]]
    move: Callable[[Carry], Carry]
    moving: bool
    first: jax.Array
    limit: jax.Array

    def running(self, state) -> jax.Array:
        carry = state[0]
        return (carry.step < self.limit) & ~carry.diverged & ~carry.converged

    def advance(self, carry: Carry, values: jax.Array):
        index = carry.step
        carry, value = self.step(carry)
        return carry, values.at[index - self.first].set(value)

    def one_step(self, state):
        carry, values = state[:2]
        return (*self.advance(self.move(carry), values), False)

    def block(self, state):
        carry, values, steps, terms, n = state
        carry = self.move(carry)
        steps, terms, n = _recorded(self.problem, self.labels, carry, steps, terms, n)
        if self.moving:  # this step's points have moved: take it here, then the others
            carry, values = self.advance(carry, values)
        # else the inner loop takes this step too (one copy of the step to compile)
        to_record = lambda s: self.running(s) & (s[2] | (s[0].step % RECORD_EVERY != 0))
        carry, values, _ = jax.lax.while_loop(to_record, self.one_step,
                                              (carry, values, jnp.asarray(not self.moving)))
        return carry, values, steps, terms, n


def _recorded(problem: Problem, labels: list[str], carry: Carry, steps: jax.Array,
              terms: jax.Array, n: jax.Array):
    """Where ``carry``'s step is a multiple of `RECORD_EVERY`: it and each term's value there
    written in row ``n`` of ``steps`` (R,) and ``terms`` (R, len(labels)), and n + 1."""
    due = carry.step % RECORD_EVERY == 0
    row = jax.lax.cond(due, lambda a: _term_row(problem, labels, *a),
                       lambda a: jnp.full((len(labels),), jnp.nan, problem.dtype),
                       (carry.params, carry.batch))
    slot = jnp.where(due, n, steps.shape[0])  # out of range: dropped
    steps = steps.at[slot].set(carry.step, mode="drop")
    terms = terms.at[slot].set(row, mode="drop")
    return steps, terms, n + due.astype(n.dtype)


def _term_row(problem: Problem, labels: list[str], params: Params, batch: Batch) -> jax.Array:
    """Each term's value, in the order of ``labels``: (len(labels),)."""
    values = problem.term_values(params, batch)
    return jnp.stack([values[label] for label in labels])


def mover(problem: Problem, moves: Moves | None, pools: dict) -> Callable[[Carry], Carry]:
    """carry -> carry with the resampling, refinement and weighting due before its step; each
    depends only on the step number, so a resumed run repeats them."""
    options = problem.options

    def move(carry: Carry) -> Carry:
        step, batch, weights = carry.step, carry.batch, carry.weights
        if options.resample_every:
            due = (step > 0) & (step % options.resample_every == 0)
            key = jax.random.fold_in(moves.key, step)
            batch = jax.lax.cond(due, lambda b: points.resample(b, moves.layout, pools, key),
                                 lambda b: b, batch)
        if options.refine and moves.max_rounds:
            every = options.refine.every
            round_ = step // every - 1
            due = (step > 0) & (step % every == 0) & (round_ < moves.max_rounds)
            residuals_at = lambda b: problem.residuals(carry.params, b)
            batch = jax.lax.cond(due, lambda b: points.refine(
                b, moves.layout, pools, residuals_at, options.refine.points, round_),
                lambda b: b, batch)
        if options.weighting:
            due = step % options.weighting.every == 0
            weights = jax.lax.cond(due, lambda w: balanced(problem, carry.params, batch, w,
                                                            step == 0,
                                                            options.weighting.smoothing),
                                   lambda w: w, weights)
        return carry._replace(batch=batch, weights=weights)

    return move
