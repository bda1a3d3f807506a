"""The training loop: optimizer phases run in jit-compiled chunks of steps (`chunks`).

Each phase's chunk is compiled once, ahead of time, so that compilation is timed apart from
training. Python runs only between chunks: progress bar, history, live metrics, checkpoint,
divergence check, time limit.
"""
from __future__ import annotations

import math
import signal
import sys
import threading
import time
from dataclasses import dataclass, field, replace
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
from ..runs import checkpoints, events, folder as run_folder
from . import processes, sharding
from .chunks import RECORD_EVERY, Moves, compiled_chunk, initial_points
from .result import History, TrainResult, exact_reference, field_errors, finish
from .step import Carry

__all__ = ["train", "TrainResult", "field_errors", "exact_reference", "RECORD_EVERY"]

POLL_S = 0.02  # how often the wait for a chunk lets Python run a Ctrl-C handler


class _Interrupt:
    """While training runs, the first Ctrl-C (SIGINT) asks the loop to stop after the chunk in
    flight, and says so at once; a second one interrupts at once. Outside the main thread it
    does nothing."""

    def __init__(self, notify: Callable[[str], None]):
        self.requested = False
        self._previous = None
        self._notify = notify

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        self._notify("pinnc: stopping after the chunk of steps in flight; "
                     "press Ctrl-C again to stop now (from the last finished chunk)")

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
    is called after every chunk (after the checkpoint is written). With a run folder, the loss
    and each term are also written after every chunk as TensorBoard events (``DIR/events``).
    The option ``time_limit`` stops training after that many seconds of it, with status
    ``"ok"`` and ``"stopped": "time_limit"`` in the metrics.

    The first Ctrl-C finishes the chunk in flight and returns with status ``"interrupted"``
    (the second stops at once, from the last finished chunk).

    On several processes (`processes.initialize`) every process calls it alike and gets the
    same result; process 0 alone writes ``checkpoint``'s folder and shows progress, every
    process reads it where it resumes.
    """
    if checkpoint is None:
        return _train(problem, progress, None, False, callback)
    if not processes.writes():
        return _train(problem, False, Path(checkpoint), resume, callback)
    with run_folder.writing(checkpoint) as folder:
        return _train(problem, progress, folder, resume, callback)


def _train(problem: Problem, progress: bool, folder: Path | None, resume: bool,
           callback: Callable | None) -> TrainResult:
    options = problem.options
    init_key, sample_key = jax.random.split(jax.random.key(options.seed))
    for check in {registered(p).check for p in options.optimizer} - {None}:
        check(problem)
    mesh = sharding.mesh(options.devices)
    # a resumed run keeps the point counts it was sampled with, on any number of devices
    multiple = (resume and folder is not None and checkpoints.points_multiple(folder)) or mesh.size
    fresh = problem.init(init_key)
    batch, moves = initial_points(problem, sample_key, multiple)  # on resume, the shapes to fill
    if moves is not None:
        moves = replace(moves, pools=sharding.split(mesh, moves.pools))
    labels = [t.label for t in problem.ir.terms]
    run = _Training(problem, moves, folder, callback, fresh, batch,
                    jnp.ones(len(labels), problem.dtype), History(labels), mesh, multiple)
    saved = run.begin(resume)
    writes = processes.writes()  # the others train silently
    bar = tqdm(total=sum(p.steps for p in options.optimizer), initial=run.step,
               disable=not (progress and writes), unit="step", dynamic_ncols=True,
               desc=problem.name)
    notify = (lambda message: tqdm.write(message, file=sys.stderr)) if writes else _silent
    with _Interrupt(notify) as interrupt:
        try:
            for index, phase in enumerate(options.optimizer):
                if not run.phase(index, phase, saved, interrupt, bar):
                    break
        except KeyboardInterrupt:
            run.status = "interrupted"
        finally:
            bar.close()
            run.close()
    params, batch = processes.gathered((run.params, run.batch))
    result = finish(problem, params, batch, run.history, run.status, run.step,
                    run.train_s, run.compile_s, run.forms, sharding.description(mesh))
    if run.stopped is not None:
        result.metrics["stopped"] = run.stopped
    return result


@dataclass
class _Training:
    """Where training stands between chunks, and the run folder it is written to (or None)."""
    problem: Problem
    moves: Moves | None
    folder: Path | None
    callback: Callable | None
    params: Params
    batch: Batch
    weights: jax.Array
    history: History
    mesh: sharding.Mesh  # the devices the points are split over (`sharding`)
    multiple: int        # every sampled set's count is a multiple of it
    step: int = 0
    train_s: float = 0.0
    compile_s: float = 0.0
    status: str = "ok"
    forms: dict = field(default_factory=dict)  # how each phase with a form solved for its steps
    digest: str | None = None
    saved_step: int | None = None  # the step of the last checkpoint written
    stopped: str | None = None  # why training stopped before its steps ("time_limit")
    events: events.EventLog | None = None
    started: tuple[int, float] | None = None  # (step, train_s) where this process began

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
            if not processes.same(-1 if saved is None else saved.step):
                raise FileError(self.folder, "the processes read different checkpoints here "
                                "(or some none): resume from a run folder every host sees, "
                                "on a file system they share")
        if processes.writes():
            if saved is None:
                run_folder.start(self.problem, self.folder)
            self.events = events.EventLog(self.folder, fresh=saved is None)
        if saved is None:
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
        limit = self.problem.options.time_limit
        if limit is not None and self.train_s >= limit:
            self.stopped = "time_limit"
            return False
        carry = sharding.place_carry(self.mesh, Carry.start(self.params, state, self.step,
                                                            self.batch, self.weights))
        self.params, self.batch, self.weights = carry.params, carry.batch, carry.weights
        end = first + phase.steps
        chunk, pools = self._compile(index, phase, carry, end)
        carry, finished = self._chunks(chunk, carry, pools, (index, first, end), interrupt, bar)
        if bool(carry.diverged):
            self.status = "diverged"
            return False
        if self.stopped is not None:
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
            form = row.form(self.problem, self.params, self.batch, phase)
            self.forms[f"{index}:{phase.name}"] = form
        length = min(phase.steps, row.chunk_steps)
        chunk = compiled_chunk(self.problem, phase, length, self.moves, form,
                               (carry, self._scalar(end), pools))
        self.compile_s += time.perf_counter() - started
        return chunk, pools

    def _chunks(self, chunk, carry: Carry, pools: dict, where: tuple[int, int, int],
                interrupt: _Interrupt, bar) -> tuple[Carry, bool]:
        """Chunks until the phase ends (``where``: its index, first and end step), diverges,
        meets a tolerance or is interrupted; after each, a checkpoint and the callback."""
        index, first, end = where
        finished = False
        # every process stops at the same chunk: a Ctrl-C in any of them stops them all
        while not finished and not processes.anywhere(interrupt.requested) and \
                self.stopped is None:
            started = time.perf_counter()
            carry, outputs = chunk(carry, self._scalar(self._chunk_end(end)), pools)
            _wait(carry.step)
            recorded = len(self.history.rows["step"])
            self.history.add(outputs)
            done = int(carry.step) - self.step
            self.step, self.params = int(carry.step), carry.params
            self.batch, self.weights = carry.batch, carry.weights
            diverged = bool(carry.diverged)
            if diverged:
                self.params = carry.last_finite
            finished = diverged or bool(carry.converged) or self.step >= end
            self.train_s += time.perf_counter() - started
            # the time limit is read from process 0's clock
            self.train_s, self.compile_s = processes.first((self.train_s, self.compile_s))
            self._time_check(finished)
            self._show(bar, done, index, outputs)
            if self.events is not None:
                self.events.add(self.history, recorded)
            if self.folder is not None and not diverged:
                self._checkpoint(carry.state, index, first, finished)
            if self.callback is not None:
                self.callback(self.step, self.params, self.train_s)
        return carry, finished

    def _scalar(self, step: int) -> jax.Array:
        """A step number as a chunk takes it: an int32 on every device."""
        return sharding.replicated(self.mesh, jnp.asarray(step, jnp.int32))

    def _chunk_end(self, end: int) -> int:
        """Where the next chunk stops: the phase's ``end``, or sooner where the time limit
        comes first (by the time per step so far; one step where there is none yet)."""
        limit = self.problem.options.time_limit
        if limit is None:
            return end
        if self.started is None:
            self.started = (self.step, self.train_s)
            return min(end, self.step + 1)
        taken, spent = self.step - self.started[0], self.train_s - self.started[1]
        per_step = spent / max(taken, 1)
        return min(end, self.step + max(1, math.floor((limit - self.train_s) / per_step)))

    def _time_check(self, finished: bool) -> None:
        limit = self.problem.options.time_limit
        if limit is not None and not finished and self.train_s >= limit:
            self.stopped = "time_limit"

    def _show(self, bar, done: int, index: int, outputs) -> None:
        """The bar moved on by ``done`` steps, with the phase, the loss before the chunk's
        last step and, under a time limit, the time left."""
        bar.update(done)
        values = np.asarray(outputs[1])
        values = values[np.isfinite(values)]
        postfix = {"phase": self.problem.options.optimizer[index].name}
        if values.size:
            postfix["loss"] = f"{values[-1]:.3e}"
        limit = self.problem.options.time_limit
        if limit is not None:
            postfix["time_left"] = tqdm.format_interval(max(limit - self.train_s, 0))
        bar.set_postfix(postfix, refresh=False)

    def close(self) -> None:
        if self.events is not None:
            self.events.close()

    def _checkpoint(self, state, index: int, first: int, finished: bool) -> None:
        """checkpoint.npz written by process 0, from what every process gathers; every process
        waits for it (a resumed run reads it). Where it cannot be written (a full disk),
        training stops with a FileError saying which checkpoint is intact."""
        params, batch, weights, state = processes.gathered(
            (self.params, self.batch, self.weights, state))
        error = None
        if processes.writes():
            try:
                checkpoints.save_checkpoint(self.folder, checkpoints.Checkpoint(
                    params, self.step, index, first, finished, batch, weights,
                    self.train_s, self.compile_s, self.history.rows, state, self.multiple),
                    self.digest)
            except FileError as failed:
                error = failed
        if not processes.first(error is None):
            reason = error.reason if error else "process 0 could not write the checkpoint"
            kept = ("no checkpoint was written" if self.saved_step is None else
                    f"its checkpoint of step {self.saved_step} is intact: once it can be "
                    f"written, resume with 'pinnc train --resume {self.folder}'")
            raise FileError(self.folder, f"{reason}; training stopped at step "
                            f"{self.step}, {kept}") from None
        self.saved_step = self.step


def _silent(message: str) -> None:
    """What a process other than process 0 shows: nothing."""


def _wait(value: jax.Array) -> None:
    """Block until ``value`` is computed, in short sleeps: a Ctrl-C during a long chunk is
    handled (and answered) at once, not when the chunk ends."""
    while not value.is_ready():
        time.sleep(POLL_S)
