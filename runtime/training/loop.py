"""The training loop: optimizer phases run in jit-compiled chunks of steps on the device.

A step (`step.step_function`) is a pure function of the carry, the same for every optimizer of
`optim.registry`; a chunk is a `lax.while_loop` over at most the optimizer's ``chunk_steps``
steps, compiled once per phase (ahead of time, so that compilation is timed apart from
training). Python runs only between chunks: progress bar, history, divergence check.
Every `RECORD_EVERY` steps the chunk also records each term's value for the history.
"""
from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from ...compiler import ir
from ...compiler.errors import FileError
from ..model import Batch, Params, Problem
from ..optim import registered
from ..runs import checkpoints, folder as run_folder
from . import points
from .result import History, TrainResult, exact_reference, field_errors, finish
from .step import Carry, step_function
from .weighting import balanced as _balanced

__all__ = ["train", "TrainResult", "field_errors", "exact_reference", "RECORD_EVERY"]

RECORD_EVERY = 10
MAX_ADDED_POINTS = 1_000_000  # slots reserved for refinement, per set of points


@dataclass(frozen=True)
class _Points:
    """What the chunk needs to move points on the device (`training.points`); the pools
    are passed to it as arguments (device arrays, not constants compiled into it)."""
    layout: points.Layout
    pools: dict
    key: jax.Array
    max_rounds: int  # refinement rounds that fit in the reserved slots


def _compiled_chunk(problem: Problem, phase: ir.Phase, length: int, moves: _Points | None,
                    form: str | None, args: tuple):
    """`_chunk_function` compiled for ``args`` (carry, end, pools). It is kept on the problem:
    training the same problem again in this process (a resumed run, a callback's restart)
    neither traces nor compiles it again. The key holds all the compiled program depends on:
    the phase, the chunk's length, the optimizer's form, the points' layout and key (a constant in
    the program), and the arguments' shapes and types."""
    where = None
    if moves is not None:
        where = (moves.layout, moves.max_rounds,
                 np.asarray(jax.random.key_data(moves.key)).tobytes())
    types = jax.tree.map(jax.typeof, args)
    key = (phase, length, form, where, jax.tree.structure(types), tuple(jax.tree.leaves(types)))
    if key not in problem._compiled_chunks:
        function = _chunk_function(problem, phase, length, moves, form)
        problem._compiled_chunks[key] = jax.jit(function).lower(*args).compile()
    return problem._compiled_chunks[key]


def _chunk_function(problem: Problem, phase: ir.Phase, length: int, moves: _Points | None,
                    form: str | None = None):
    """A function running up to ``length`` steps of ``phase`` from a carry: it stops at step
    ``end``, at a non-finite loss or parameter (``diverged``) and at a tolerance
    (``converged``). Before a step, where the options say so, points are resampled or refined
    and the terms' adaptive weights are updated (`_mover`). Returns the carry and the
    outputs `History.add` reads: the first step, the loss before each step, the steps at which
    terms were recorded (-1: none) and their values."""
    step = step_function(problem, phase, form)
    labels = [t.label for t in problem.ir.terms]
    moving = moves is not None or bool(problem.options.weighting)
    records = -(-length // RECORD_EVERY)  # most multiples of RECORD_EVERY in a chunk

    def chunk(carry: Carry, end: jax.Array, pools: dict):
        move = _mover(problem, moves, pools) if moving else (lambda c: c)
        first = carry.step
        limit = jnp.minimum(end, first + length)

        def running(state) -> jax.Array:
            c = state[0]
            return (c.step < limit) & ~c.diverged & ~c.converged

        def advance(carry: Carry, values: jax.Array):
            index = carry.step
            carry, value = step(carry)
            return carry, values.at[index - first].set(value)

        def one_step(state):
            carry, values = state[:2]
            return (*advance(move(carry), values), False)

        # A while loop over the chunk's steps (none wasted past the phase's end, a divergence
        # or a tolerance), with no cond around a step: a cond per step cost Adam a third of
        # its time (README, "What the loop costs"). Terms are recorded in an outer loop whose
        # body starts at a multiple of RECORD_EVERY (or at the chunk's first step).
        def block(state):
            carry, values, steps, terms, n = state
            carry = move(carry)
            steps, terms, n = _recorded(problem, labels, carry, steps, terms, n)
            if moving:  # this step's points have moved: take it here, then the others
                carry, values = advance(carry, values)
            # else the inner loop takes this step too (one copy of the step to compile)
            to_record = lambda s: running(s) & (s[2] | (s[0].step % RECORD_EVERY != 0))
            carry, values, _ = jax.lax.while_loop(to_record, one_step,
                                                  (carry, values, jnp.asarray(not moving)))
            return carry, values, steps, terms, n

        state = (carry, jnp.full((length,), jnp.nan, problem.dtype),
                 jnp.full((records,), -1, carry.step.dtype),
                 jnp.full((records, len(labels)), jnp.nan, problem.dtype),
                 jnp.asarray(0, carry.step.dtype))
        carry, values, steps, terms, _ = jax.lax.while_loop(running, block, state)
        return carry, (first, values, steps, terms)

    return chunk


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


def _mover(problem: Problem, moves: _Points | None, pools: dict) -> Callable[[Carry], Carry]:
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
            weights = jax.lax.cond(due, lambda w: _balanced(problem, carry.params, batch, w,
                                                             step == 0,
                                                             options.weighting.smoothing),
                                   lambda w: w, weights)
        return carry._replace(batch=batch, weights=weights)

    return move


def _points(problem: Problem, key: jax.Array) -> tuple[Batch, _Points | None]:
    """The first points and, where points move on the device (``resample_every``,
    ``refine``), their pools and layout, with the slots refinement will fill reserved."""
    batch = problem.sample(key)
    options = problem.options
    if not options.resample_every and options.refine is None:
        return batch, None
    total = sum(p.steps for p in options.optimizer)
    rounds = 0
    if options.refine is not None:
        rounds = total // options.refine.every
        # every added point takes a slot from the start: at most MAX_POINTS of them
        rounds = min(rounds, MAX_ADDED_POINTS // options.refine.points)
    layout = points.layout(problem, batch, rounds * (options.refine.points if rounds else 0))
    rng = np.random.default_rng(int(jax.random.randint(jax.random.fold_in(key, 1), (), 0,
                                                       2 ** 31 - 1)))
    pools = points.pools(problem, layout, rng)
    if options.refine is not None and any(
            pools[layout.sets[i][0]]["points"].shape[0] < options.refine.points
            for i in layout.refined):
        rounds = 0
    batch = points.reserve(batch, layout)
    return batch, _Points(layout, pools, jax.random.fold_in(key, 2), rounds)


class _Interrupt:
    """While training runs, the first Ctrl-C (SIGINT) asks the loop to stop after the chunk in
    flight; a second one interrupts at once. Outside the main thread it does nothing."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


def train(problem: Problem, *, progress: bool = True, checkpoint: str | Path | None = None,
          resume: bool = False, callback: Callable[[int, Params, float], None] | None = None
          ) -> TrainResult:
    """Train ``problem`` with its options; returns params, metrics and history.

    ``checkpoint``: a run folder; after every chunk of steps the state of training (parameters,
    optimizer state, points, history, times) is written there atomically as
    ``checkpoint.npz``, with the program (``spec.pde``, ``run.json``) written at the start and
    a previous run's results removed. The folder is locked for the whole training: a second
    training into it, or a folder that cannot be written, is a `FileError` before any step.
    ``resume``: continue from that folder's checkpoint instead of starting afresh (from step 0
    where there is none); the run then ends where an uninterrupted run would. A damaged
    checkpoint, or one of another program, is a `FileError`; so is a checkpoint that cannot be
    written (a full disk), after which the previous one is intact.
    ``callback(step, params, seconds)`` (seconds: training time so far, compilation excluded)
    is called after every chunk (after the checkpoint is written).

    The first Ctrl-C finishes the chunk in flight and returns with status ``"interrupted"``
    (the second stops at once, from the last finished chunk).
    """
    if checkpoint is None:
        return _train(problem, progress, None, False, callback)
    with run_folder.writing(checkpoint) as folder:
        return _train(problem, progress, folder, resume, callback)


def _train(problem: Problem, progress: bool, folder: Path | None, resume: bool,
           callback: Callable | None) -> TrainResult:
    options = problem.options
    init_key, sample_key = jax.random.split(jax.random.key(options.seed))
    for check in {registered(p).check for p in options.optimizer} - {None}:
        check(problem)
    fresh = problem.init(init_key)
    batch, moves = _points(problem, sample_key)  # on resume, the shapes the checkpoint fills
    labels = [t.label for t in problem.ir.terms]
    run = _Training(problem, moves, folder, callback, fresh, batch,
                    jnp.ones(len(labels), problem.dtype), History(labels))
    saved = run.begin(resume)
    bar = tqdm(total=sum(p.steps for p in options.optimizer), initial=run.step,
               disable=not progress, unit="step", dynamic_ncols=True, desc=problem.name)
    with _Interrupt() as interrupt:
        try:
            for index, phase in enumerate(options.optimizer):
                if not run.phase(index, phase, saved, interrupt, bar):
                    break
        except KeyboardInterrupt:
            run.status = "interrupted"
        finally:
            bar.close()
    return finish(problem, run.params, run.batch, run.history, run.status, run.step,
                  run.train_s, run.compile_s, run.forms)


@dataclass
class _Training:
    """Where training stands between chunks, and the run folder it is written to (or None)."""
    problem: Problem
    moves: _Points | None
    folder: Path | None
    callback: Callable | None
    params: Params
    batch: Batch
    weights: jax.Array
    history: History
    step: int = 0
    train_s: float = 0.0
    compile_s: float = 0.0
    status: str = "ok"
    forms: dict = field(default_factory=dict)  # how each phase with a form solved for its steps
    digest: str | None = None
    saved_step: int | None = None  # the step of the last checkpoint written

    def begin(self, resume: bool):
        """The checkpoint training continues from, or None: from step 0, in a folder started
        afresh (also on ``resume`` where the run stopped before its first checkpoint)."""
        if self.folder is None:
            return None
        self.digest = checkpoints.program_digest(self.problem)
        saved = None
        if resume:
            saved = checkpoints.load_checkpoint(self.folder, self.problem, self.params,
                                                self.batch, len(self.history.labels))
        if saved is None:
            run_folder.start(self.problem, self.folder)
            return None
        self.params, self.step, self.batch = saved.params, saved.step, saved.batch
        self.weights, self.train_s, self.compile_s = saved.weights, saved.train_s, saved.compile_s
        self.history.rows = saved.history
        self.saved_step = saved.step
        return saved

    def phase(self, index: int, phase: ir.Phase, saved, interrupt: _Interrupt, bar) -> bool:
        """Run phase ``index`` on from where training stands (where ``saved`` says, resumed);
        False where training stops there (diverged, interrupted)."""
        # where a phase starts: where the previous one ended (early, at a tolerance)
        state = registered(phase).build(phase).init(self.params)
        first = self.step
        if saved is not None:
            if index < saved.phase or (index == saved.phase and saved.finished):
                return True
            if index == saved.phase:  # resumed inside this phase
                first, state = saved.phase_first, saved.state_like(state)
        if phase.steps == 0:
            return True
        carry = Carry.start(self.params, state, self.step, self.batch, self.weights)
        end = first + phase.steps
        chunk, pools = self._compile(index, phase, carry, end)
        carry, finished = self._chunks(chunk, carry, pools, (index, first, end), interrupt, bar)
        if bool(carry.diverged):
            self.status = "diverged"
            return False
        if not finished:
            self.status = "interrupted"
            return False
        if bool(carry.converged):
            bar.total -= end - self.step  # the phase's remaining steps are not taken
            bar.refresh()
        return True

    def _compile(self, index: int, phase: ir.Phase, carry: Carry, end: int):
        """The phase's compiled chunk (its compile time counted) and the pools it takes."""
        started = time.perf_counter()
        pools = self.moves.pools if self.moves is not None else {}
        row = registered(phase)
        form = None
        if row.form is not None:
            form = row.form(self.problem, self.params, self.batch)
            self.forms[f"{index}:{phase.name}"] = form
        length = min(phase.steps, row.chunk_steps)
        chunk = _compiled_chunk(self.problem, phase, length, self.moves, form,
                                (carry, jnp.asarray(end, jnp.int32), pools))
        self.compile_s += time.perf_counter() - started
        return chunk, pools

    def _chunks(self, chunk, carry: Carry, pools: dict, where: tuple[int, int, int],
                interrupt: _Interrupt, bar) -> tuple[Carry, bool]:
        """Chunks until the phase ends (``where``: its index, first and end step), diverges,
        meets a tolerance or is interrupted; after each, a checkpoint and the callback."""
        index, first, end = where
        finished = False
        while not finished and not interrupt.requested:
            started = time.perf_counter()
            carry, outputs = chunk(carry, jnp.asarray(end, jnp.int32), pools)
            self.history.add(outputs)
            done = int(carry.step) - self.step
            self.step, self.params = int(carry.step), carry.params
            self.batch, self.weights = carry.batch, carry.weights
            diverged = bool(carry.diverged)
            if diverged:
                self.params = carry.last_finite
            finished = diverged or bool(carry.converged) or self.step >= end
            self.train_s += time.perf_counter() - started
            bar.update(done)
            if self.history.rows["loss"]:
                bar.set_postfix(phase=self.problem.options.optimizer[index].name,
                                loss=f"{self.history.rows['loss'][-1]:.3e}", refresh=False)
            if self.folder is not None and not diverged:
                self._checkpoint(carry.state, index, first, finished)
            if self.callback is not None:
                self.callback(self.step, self.params, self.train_s)
        return carry, finished

    def _checkpoint(self, state, index: int, first: int, finished: bool) -> None:
        """checkpoint.npz written; where it cannot be (a full disk), training stops with a
        FileError saying which checkpoint is intact."""
        try:
            checkpoints.save_checkpoint(self.folder, checkpoints.Checkpoint(
                self.params, self.step, index, first, finished, self.batch, self.weights,
                self.train_s, self.compile_s, self.history.rows, state), self.digest)
        except FileError as error:
            kept = ("no checkpoint was written" if self.saved_step is None else
                    f"its checkpoint of step {self.saved_step} is intact: once it can be "
                    f"written, resume with 'pinnc train --resume {self.folder}'")
            raise FileError(self.folder, f"{error.reason}; training stopped at step "
                            f"{self.step}, {kept}") from None
        self.saved_step = self.step


