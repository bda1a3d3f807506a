"""The training loop: optimizer phases run in jit-compiled chunks of steps on the device.

A step is a pure function of (params, optimizer state, batch); a chunk is `lax.scan` over a
fixed number of steps, compiled once per phase (ahead of time, so that compilation is timed
apart from training). Python runs only between chunks: progress bar, history, divergence check.
Every `RECORD_EVERY` steps the chunk also records each term's value for the history.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm.auto import tqdm

from ..compiler import ir
from .engd import engd
from .problem import Batch, Params, Problem

RECORD_EVERY = 10
# Steps per chunk: long enough that Python's share is negligible, short enough for progress.
CHUNK_STEPS = {"adam": 200, "lbfgs": 50, "engd": 5}


@dataclass
class TrainResult:
    """What training produced: ``params``, ``metrics`` (as metrics.json), ``history``
    (``{"step": [...], "loss": [...], label: [...]}``)."""
    problem: Problem
    params: Params
    metrics: dict
    history: dict[str, list[float]] = field(default_factory=dict)

    def field(self, name: str) -> Callable:
        """The trained field ``name`` at X, an (N, ncoords) array -> (N,)."""
        return self.problem.field(name, self.params)

    def save(self, directory) -> "object":
        """Write the run folder (metrics.json, params.npz, history.csv, plots)."""
        from .runs import save_run
        return save_run(self, directory)


class _Carry(NamedTuple):
    params: Params
    state: optax.OptState
    last_finite: Params
    diverged: jax.Array
    step: jax.Array


def optimizer(phase: ir.Phase) -> optax.GradientTransformationExtraArgs:
    """The optax transformation for one phase of the ``optimizer`` option."""
    if phase.name == "adam":
        return optax.adam(phase.get("lr", 1e-3))
    if phase.name == "lbfgs":
        return optax.lbfgs(memory_size=int(phase.get("memory", 10)))
    if phase.name == "engd":
        return engd(damping=phase.get("damping", 1e-6), adaptive=bool(phase.get("adaptive", 1)))
    raise ValueError(f"optimizer {phase.name!r} has no implementation")


def _chunk_function(problem: Problem, phase: ir.Phase, length: int):
    """A function running ``length`` steps of ``phase`` from a carry; steps at or past
    ``end`` (and all steps after a non-finite loss) leave the carry unchanged."""
    transform = optimizer(phase)
    labels = [t.label for t in problem.ir.terms]

    def chunk(carry: _Carry, batch: Batch, end: jax.Array):
        loss = lambda p: problem.loss(p, batch)

        def update(carry: _Carry):
            if phase.name == "lbfgs":  # reuse the value and gradient of the line search
                value, grad = optax.value_and_grad_from_state(loss)(carry.params, state=carry.state)
                updates, state = transform.update(grad, carry.state, carry.params, value=value,
                                                  grad=grad, value_fn=loss)
            elif phase.name == "engd":
                value = loss(carry.params)
                updates, state = transform.update(
                    carry.params, carry.state, carry.params, value_fn=loss, value=value,
                    residual_fn=lambda p: problem.residual_vector(p, batch),
                    jacobian_fn=lambda p: problem.residual_jacobian(p, batch))
            else:
                value, grad = jax.value_and_grad(loss)(carry.params)
                updates, state = transform.update(grad, carry.state, carry.params)
            params = optax.apply_updates(carry.params, updates)
            # The step counts only when the loss here and every new parameter are finite
            # (L-BFGS's stored value can stay finite while its update is not).
            finite_here = jnp.isfinite(value)
            ok = finite_here & _all_finite(params)
            keep = lambda flag, new, old: jax.tree.map(lambda a, b: jnp.where(flag, a, b), new, old)
            return _Carry(keep(ok, params, carry.params), keep(ok, state, carry.state),
                          keep(finite_here, carry.params, carry.last_finite), ~ok,
                          carry.step + ok.astype(carry.step.dtype)), value

        def skip(carry: _Carry):
            return carry, jnp.asarray(jnp.nan, problem.dtype)

        def record(params):
            values = problem.term_values(params, batch)
            return jnp.stack([values[label] for label in labels])

        def step(carry: _Carry, _):
            active = (carry.step < end) & ~carry.diverged
            recording = active & (carry.step % RECORD_EVERY == 0)
            terms = jax.lax.cond(recording, record,
                                 lambda p: jnp.full((len(labels),), jnp.nan, problem.dtype),
                                 carry.params)
            index = carry.step
            carry, value = jax.lax.cond(active, update, skip, carry)
            return carry, (index, value, recording, terms)

        return jax.lax.scan(step, carry, None, length=length)

    return chunk


def _all_finite(tree) -> jax.Array:
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree.leaves(tree)]))


class _History:
    def __init__(self, labels: list[str]):
        self.labels = labels
        self.rows: dict[str, list[float]] = {"step": [], "loss": [], **{k: [] for k in labels}}

    def add(self, outputs) -> None:
        steps, values, recorded, terms = (np.asarray(o) for o in outputs)
        for i in np.flatnonzero(recorded):
            self.rows["step"].append(int(steps[i]))
            self.rows["loss"].append(float(values[i]))
            for label, v in zip(self.labels, terms[i]):
                self.rows[label].append(float(v))

    def add_final(self, step: int, loss: float, terms: dict[str, float]) -> None:
        if self.rows["step"] and self.rows["step"][-1] == step:
            return
        self.rows["step"].append(step)
        self.rows["loss"].append(loss)
        for label in self.labels:
            self.rows[label].append(terms[label])


def train(problem: Problem, *, progress: bool = True) -> TrainResult:
    """Train ``problem`` with its options; returns params, metrics and history."""
    options = problem.options
    key = jax.random.key(options.seed)
    init_key, sample_key = jax.random.split(key)
    params = problem.init(init_key)
    batch = problem.sample(sample_key)
    labels = [t.label for t in problem.ir.terms]
    history = _History(labels)
    status, step, train_s, compile_s, drawn_at = "ok", 0, 0.0, 0.0, 0
    if any(p.name == "engd" for p in options.optimizer):
        problem.check_least_squares()
    total = sum(p.steps for p in options.optimizer)
    bar = tqdm(total=total, disable=not progress, unit="step", dynamic_ncols=True,
               desc=problem.name)
    try:
        for phase in options.optimizer:
            if phase.steps == 0:
                continue
            length = min(phase.steps, CHUNK_STEPS.get(phase.name, 50),
                         options.resample_every or phase.steps)
            carry = _Carry(params, optimizer(phase).init(params), params,
                           jnp.asarray(False), jnp.asarray(step, jnp.int32))
            end = jnp.asarray(step + phase.steps, jnp.int32)
            started = time.perf_counter()
            chunk = jax.jit(_chunk_function(problem, phase, length)).lower(carry, batch, end).compile()
            compile_s += time.perf_counter() - started
            started = time.perf_counter()
            while step < int(end) and not bool(carry.diverged):
                if options.resample_every and step // options.resample_every > drawn_at:
                    # Same shapes, so the compiled chunk is reused: no retracing.
                    drawn_at = step // options.resample_every
                    batch = problem.sample(jax.random.fold_in(sample_key, drawn_at))
                carry, outputs = chunk(carry, batch, end)
                history.add(outputs)
                done = min(int(end), step + length) - step
                step += done
                bar.update(done)
                if history.rows["loss"]:
                    bar.set_postfix(phase=phase.name, loss=f"{history.rows['loss'][-1]:.3e}",
                                    refresh=False)
            train_s += time.perf_counter() - started
            if bool(carry.diverged):
                status, params = "diverged", carry.last_finite
                step = int(carry.step)
                break
            params = carry.params
    except KeyboardInterrupt:
        status = "interrupted"
    finally:
        bar.close()
    return _finish(problem, params, batch, history, status, step, train_s, compile_s)


def _finish(problem: Problem, params: Params, batch: Batch, history: _History, status: str,
            step: int, train_s: float, compile_s: float) -> TrainResult:
    values = {k: float(v) for k, v in problem.term_values(params, batch).items()}
    loss = float(problem.loss(params, batch))
    if status == "ok" and not math.isfinite(loss):
        status = "diverged"
    history.add_final(step, loss, values)
    metrics = {
        "status": status,
        "steps": step,
        "time_s": train_s,
        "compile_s": compile_s,
        "loss": loss,
        "terms": values,
        "fields": field_errors(problem, params),
        "params": {name: float(v) for name, v in params["params"].items()},
        "precision": problem.options.precision,
        "device": jax.devices()[0].platform,
    }
    return TrainResult(problem, params, metrics, history.rows)


def field_errors(problem: Problem, params: Params, n: int = 10_000) -> dict[str, dict]:
    """Relative L2 and max-abs error of every field with an `exact`, on ``n`` fresh uniform
    points of its domain (a generator seeded apart from training's)."""
    from . import geometry
    errors = {}
    rng = np.random.default_rng(2 ** 31 + problem.options.seed)
    for exact in problem.ir.exact:
        f = problem.ir.field_named(exact.field)
        if exact.data is not None:  # reference values from a file, at its points
            points, expected = exact.data.points, exact.data.values
        else:
            domain = problem.field_domain(f.name)
            points, _ = geometry.region_points(ir.Region(domain_name="", domain=domain,
                                                         on_boundary=False), n, rng, "uniform")
            points = points[:, [domain.coords.index(c) for c in f.coords]]
            expected = np.asarray(problem.exact(f.name)(jnp.asarray(points, problem.dtype)),
                                  np.float64)
        predicted = np.asarray(problem.field(f.name, params)(jnp.asarray(points, problem.dtype)),
                               np.float64)
        difference = predicted - expected
        norm = np.linalg.norm(expected)
        errors[f.name] = {
            "rel_l2": float(np.linalg.norm(difference) / norm) if norm > 0 else float(np.linalg.norm(difference)),
            "max_abs": float(np.max(np.abs(difference))),
        }
    return errors
