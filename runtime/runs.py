"""Run folders (INTERFACE.md): writing them after training and reading them back.

    DIR/metrics.json   status, steps, times, loss, terms, field errors, params
    DIR/params.npz     every array of the parameter pytree, keyed by its path ("fields/u/0/w");
                       numpy's format, read with allow_pickle=False: nothing executable
    DIR/history.csv    step, loss and each term, every RECORD_EVERY steps
    DIR/spec.pde       the program, and DIR/run.json the options overrides, to rebuild fields
    DIR/*.png          loss history, fields (and errors, time slices)
    DIR/checkpoint.npz the state of training after the last finished chunk (`pinnc train
                       --resume DIR` continues from it); written atomically after every chunk
"""
from __future__ import annotations

import csv
import json
import os
import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from . import geometry, plots
from .problem import Params, Problem
from .train import TrainResult

FORMAT = 1


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Files are written to a temporary name, then renamed into place, so that a reader never sees
# half a file; the temporary file's private mode is widened to what the umask allows.
_MODE = 0o666 & ~_umask()


def _publish(temporary: str, path: Path) -> None:
    os.chmod(temporary, _MODE)
    os.replace(temporary, path)


def save_run(result: TrainResult, directory) -> Path:
    """Write ``result`` as a run folder; returns its path."""
    directory = Path(directory)
    save_program(result.problem, directory)
    save_params(directory / "params.npz", result.params)
    _write_history(directory / "history.csv", result.history)
    _atomic_write(directory / "metrics.json",
                  json.dumps(_strict(result.metrics), indent=2, allow_nan=False) + "\n")
    write_plots(result, directory)
    return directory


def _strict(value):
    """JSON has no NaN or infinity: such numbers are written as null."""
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def load_run(directory) -> TrainResult:
    """Read a run folder back: the problem recompiled from its spec, the trained params."""
    directory = Path(directory)
    run = json.loads((directory / "run.json").read_text())
    text = (directory / "spec.pde").read_text()
    problem = Problem.from_text(text, run.get("spec", "spec.pde"), run.get("overrides", {}))
    params = load_params(directory / "params.npz", problem.init(jax.random.key(0)))
    metrics = json.loads((directory / "metrics.json").read_text())
    return TrainResult(problem, params, metrics, _read_history(directory / "history.csv"))


def _key(path) -> str:
    return "/".join(str(getattr(p, "key", getattr(p, "idx", p))) for p in path)


def save_params(path: Path, params: Params) -> None:
    arrays = {_key(p): np.asarray(leaf) for p, leaf in jax.tree_util.tree_leaves_with_path(params)}
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz", delete=False) as handle:
        np.savez(handle, **arrays)
    _publish(handle.name, path)


def load_params(path: Path, like: Params) -> Params:
    """Parameters from ``path`` in the structure (and dtypes) of ``like``."""
    with np.load(path, allow_pickle=False) as stored:
        def take(p, leaf):
            key = _key(p)
            if key not in stored:
                raise ValueError(f"{path}: no array {key!r}; was it written by another program?")
            value = stored[key]
            if value.shape != leaf.shape:
                raise ValueError(f"{path}: {key!r} has shape {value.shape}, expected {leaf.shape}")
            return jnp.asarray(value, leaf.dtype)
        return jax.tree_util.tree_map_with_path(take, like)


def _write_history(path: Path, history: dict[str, list[float]]) -> None:
    columns = list(history)
    rows = zip(*(history[c] for c in columns))
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".csv", delete=False,
                                     newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([int(row[0])] + [repr(float(v)) for v in row[1:]])
    _publish(handle.name, path)


def _read_history(path: Path) -> dict[str, list[float]]:
    with open(path, newline="") as handle:
        reader = csv.reader(handle)
        columns = next(reader)
        history = {c: [] for c in columns}
        for row in reader:
            for c, v in zip(columns, row):
                history[c].append(int(v) if c == "step" else float(v))
    return history


def _atomic_write(path: Path, text: str) -> None:
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as handle:
        handle.write(text)
    _publish(handle.name, path)


def write_plots(result: TrainResult, directory: Path) -> list[Path]:
    """The loss history and, for 1-D and 2-D fields (and lets of fields that an `exact`
    names), the field (and its error)."""
    written = [plots.plot_history(directory / "loss.png", result.history)]
    problem = result.problem
    for f in problem.ir.quantities:
        domain = problem.field_domain(f.name)
        shape = geometry.build(domain)
        columns = [domain.coords.index(c) for c in f.coords]
        lows, highs = (np.asarray(b)[columns] for b in shape.bounding_box())
        predict = _numpy(result.field(f.name), problem)
        exact = problem.exact(f.name)
        contains = shape.contains if tuple(f.coords) == domain.coords else None
        written += plots.plot_field(directory, f.name, f.coords, lows, highs, predict,
                                    _numpy(exact, problem) if exact else None, contains)
    return written


def _numpy(function, problem: Problem):
    return lambda X: np.asarray(function(jnp.asarray(X, problem.dtype)), np.float64)


# --- checkpoints ---------------------------------------------------------------------------------

CHECKPOINT = "checkpoint.npz"


@dataclass
class Checkpoint:
    """The state of training after a chunk: enough to continue exactly where it stopped."""
    params: Params
    step: int
    phase: int            # the index of the optimizer phase the step is in
    phase_first: int      # the step that phase began at
    finished: bool        # whether that phase has ended (all its steps, or a tolerance met)
    batch: Any            # the points as they are at ``step`` (resampled, refined)
    weights: Any          # the terms' adaptive weights
    train_s: float
    compile_s: float
    history: dict[str, list[float]]
    state: Any            # the optimizer state (leaves, once read back: see `state_like`)

    def state_like(self, fresh):
        """The saved optimizer state in the structure of ``fresh`` (a new ``init``)."""
        leaves, treedef = jax.tree.flatten(fresh)
        if len(leaves) != len(self.state):
            raise ValueError("the checkpoint's optimizer state does not match the optimizer")
        return jax.tree.unflatten(treedef, [jnp.asarray(saved, leaf.dtype).reshape(leaf.shape)
                                            for saved, leaf in zip(self.state, leaves)])


def program_digest(problem: Problem) -> str:
    """A fingerprint of the program and its overrides: a checkpoint resumes only the same run."""
    text = problem.text + json.dumps(problem.overrides, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def save_program(problem: Problem, directory) -> None:
    """spec.pde and run.json: what `load_run` and `pinnc train --resume` rebuild the problem
    from. Written when training starts, so that even a killed run can be resumed."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    _atomic_write(directory / "spec.pde", problem.text)
    run = {"format": FORMAT, "spec": problem.filename, "name": problem.name,
           "overrides": {k: v for k, v in problem.overrides.items()}}
    _atomic_write(directory / "run.json", json.dumps(run, indent=2) + "\n")


def save_checkpoint(directory, checkpoint: Checkpoint, problem_digest: str | None = None) -> Path:
    """Write ``checkpoint`` to DIR/checkpoint.npz atomically (a temporary file renamed)."""
    directory = Path(directory)
    meta = {"format": FORMAT, "step": checkpoint.step, "phase": checkpoint.phase,
            "phase_first": checkpoint.phase_first, "finished": checkpoint.finished,
            "train_s": checkpoint.train_s,
            "compile_s": checkpoint.compile_s, "program": problem_digest,
            "history": list(checkpoint.history)}
    arrays = {"meta": np.asarray(json.dumps(meta)), "weights": np.asarray(checkpoint.weights)}
    for prefix, tree in (("params", checkpoint.params), ("batch", checkpoint.batch)):
        for path, leaf in jax.tree_util.tree_leaves_with_path(tree):
            arrays[f"{prefix}/{_key(path)}"] = np.asarray(leaf)
    for i, leaf in enumerate(jax.tree.leaves(checkpoint.state)):
        arrays[f"state/{i}"] = np.asarray(leaf)
    for i, (column, values) in enumerate(checkpoint.history.items()):
        arrays[f"history/{i}"] = np.asarray(values, np.float64)
    path = directory / CHECKPOINT
    with tempfile.NamedTemporaryFile(dir=directory, suffix=".npz", delete=False) as handle:
        np.savez(handle, **arrays)
    _publish(handle.name, path)
    return path


def load_checkpoint(directory, problem: Problem, params_like: Params, batch_like,
                    terms: int) -> Checkpoint:
    """Read DIR/checkpoint.npz back (ValueError, with what to do, where there is none or it
    belongs to another program)."""
    path = Path(directory) / CHECKPOINT
    if not path.exists():
        raise ValueError(f"{directory}: no {CHECKPOINT} to resume from; train with "
                         f"'pinnc train SPEC.pde -o {directory}' first")
    with np.load(path, allow_pickle=False) as stored:
        meta = json.loads(str(stored["meta"]))
        if meta.get("program") not in (None, program_digest(problem)):
            raise ValueError(f"{path}: the checkpoint was written for another program or "
                             "other options; resume with the run folder's own spec.pde")

        def restore(prefix, like):
            def take(p, leaf):
                key = f"{prefix}/{_key(p)}"
                if key not in stored or stored[key].shape != leaf.shape:
                    raise ValueError(f"{path}: {key!r} is missing or has another shape")
                return jnp.asarray(stored[key], leaf.dtype)
            return jax.tree_util.tree_map_with_path(take, like)

        state = [stored[f"state/{i}"] for i in range(sum(k.startswith("state/") for k in stored))]
        history = {column: [int(v) if column == "step" else float(v)
                            for v in stored[f"history/{i}"]]
                   for i, column in enumerate(meta["history"])}
        return Checkpoint(restore("params", params_like), int(meta["step"]), int(meta["phase"]),
                          int(meta["phase_first"]), bool(meta["finished"]),
                          restore("batch", batch_like),
                          jnp.asarray(stored["weights"], problem.dtype).reshape(terms),
                          float(meta["train_s"]), float(meta["compile_s"]), history, state)
