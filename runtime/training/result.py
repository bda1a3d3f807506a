"""What training produced: `TrainResult`, its metrics (`finish`) and the fields' errors against
their `exact` solutions."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from ...compiler import ir
from .. import geometry
from ..model import Batch, Params, Problem
from ..runs import folder as run_folder


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
        return run_folder.save_run(directory, self.problem, self.params, self.metrics,
                                   self.history)


class History:
    """The history of a training: the loss and each term's value at the recorded steps."""

    def __init__(self, labels: list[str]):
        self.labels = labels
        self.rows: dict[str, list[float]] = {"step": [], "loss": [], **{k: [] for k in labels}}

    def add(self, outputs) -> None:
        """A chunk's outputs: its first step, the loss before each of its steps, and the
        steps at which terms were recorded (-1: none) with their values."""
        first, values, steps, terms = (np.asarray(o) for o in outputs)
        for step, row in zip(steps, terms):
            if step < 0:
                break
            self.rows["step"].append(int(step))
            self.rows["loss"].append(float(values[step - first]))
            for label, v in zip(self.labels, row):
                self.rows[label].append(float(v))

    def add_final(self, step: int, loss: float, terms: dict[str, float]) -> None:
        if self.rows["step"] and self.rows["step"][-1] == step:
            return
        self.rows["step"].append(step)
        self.rows["loss"].append(loss)
        for label in self.labels:
            self.rows[label].append(terms[label])


def finish(problem: Problem, params: Params, batch: Batch, history: History, status: str,
           step: int, train_s: float, compile_s: float, forms: dict | None = None,
           devices: dict | None = None) -> TrainResult:
    """The result of a training that ended at ``step`` with ``status``: the final loss and terms
    (added to the history), timings, the fields' errors, ``forms`` (metrics' ``solver``) and
    ``devices`` (those the points were split over: ``count``, ``platform``, ``kind``)."""
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
        "devices": devices or {"count": 1, "platform": jax.devices()[0].platform,
                               "kind": jax.devices()[0].device_kind},
        # how each phase with a choice ("index:name", `optim.Optimizer.form`) solved for its
        # steps; for engd: kernel, parameter, matrix-free or generalized (`optim.engd_form`)
        "solver": dict(forms or {}),
    }
    return TrainResult(problem, params, metrics, history.rows)


def field_errors(problem: Problem, params: Params, n: int = 10_000) -> dict[str, dict]:
    """Relative L2 and max-abs error of every field with an `exact`, at `exact_reference`'s
    points."""
    errors = {}
    rng = np.random.default_rng(2 ** 31 + problem.options.seed)
    for exact in problem.ir.exact:
        points, expected = exact_reference(problem, exact, rng, n)
        predicted = np.asarray(problem.field(exact.field, params)(points), np.float64)
        difference = predicted - expected
        norm, error = np.linalg.norm(expected), np.linalg.norm(difference)
        errors[exact.field] = {
            "rel_l2": float(error / norm) if norm > 0 else float(error),
            "max_abs": float(np.max(np.abs(difference))),
        }
    return errors


def exact_reference(problem: Problem, exact: ir.Exact, rng: np.random.Generator,
                    n: int = 10_000) -> tuple[jax.Array, np.ndarray]:
    """Where and what ``exact`` says its field is: the reference values of its data file at
    their points, or ``n`` fresh uniform points of the field's domain (drawn with ``rng``,
    which `field_errors` seeds apart from training's) and the exact solution there."""
    if exact.data is not None:
        return jnp.asarray(exact.data.points, problem.dtype), np.asarray(exact.data.values)
    f = problem.ir.reported(exact.field)
    domain = problem.field_domain(f.name)
    points, _ = geometry.region_points(ir.Region(domain_name="", domain=domain,
                                                 on_boundary=False), n, rng, "uniform")
    points = jnp.asarray(points[:, [domain.coords.index(c) for c in f.coords]], problem.dtype)
    return points, np.asarray(problem.exact(f.name)(points), np.float64)
