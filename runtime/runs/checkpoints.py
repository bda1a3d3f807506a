"""Checkpoints: DIR/checkpoint.npz, the state of training after its last finished chunk, from
which `pinnc train --resume DIR` continues so that the run ends where an uninterrupted one would.

Written atomically after every chunk (`folder.write_atomically`); read back with the run folder's
checks: a damaged checkpoint, or one of another program, is a `FileError` naming it.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ...compiler.errors import FileError
from ..model import Params, Problem
from .folder import FORMAT, array_key, read_arrays, restore_arrays, write_atomically

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
    multiple: int = 1     # the sampled point counts are multiples of it (`training.sharding`)
    path: Path | None = None  # the file it was read from

    def state_like(self, fresh):
        """The saved optimizer state in the structure of ``fresh`` (a new ``init``)."""
        leaves, treedef = jax.tree.flatten(fresh)
        if len(leaves) != len(self.state) or any(
                np.shape(saved) != np.shape(leaf) or not np.can_cast(
                    np.asarray(saved).dtype, leaf.dtype, "same_kind")
                for saved, leaf in zip(self.state, leaves)):
            raise FileError(self.path or CHECKPOINT, "its optimizer state does not fit the "
                            "optimizer; delete it to train from step 0")
        return jax.tree.unflatten(treedef, [jnp.asarray(saved, leaf.dtype)
                                            for saved, leaf in zip(self.state, leaves)])


def program_digest(problem: Problem) -> str:
    """A fingerprint of the program and its overrides: a checkpoint resumes only the same run
    (on any number of devices: ``devices`` is left out)."""
    overrides = {k: v for k, v in problem.overrides.items() if k != "devices"}
    text = problem.text + json.dumps(overrides, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def save_checkpoint(directory, checkpoint: Checkpoint, problem_digest: str | None = None) -> Path:
    """Write ``checkpoint`` to DIR/checkpoint.npz atomically (a temporary file renamed)."""
    directory = Path(directory)
    meta = {"format": FORMAT, "step": checkpoint.step, "phase": checkpoint.phase,
            "phase_first": checkpoint.phase_first, "finished": checkpoint.finished,
            "train_s": checkpoint.train_s,
            "compile_s": checkpoint.compile_s, "program": problem_digest,
            "multiple": checkpoint.multiple,
            "history": list(checkpoint.history)}
    arrays = {"meta": np.asarray(json.dumps(meta)), "weights": np.asarray(checkpoint.weights)}
    for prefix, tree in (("params", checkpoint.params), ("batch", checkpoint.batch)):
        for path, leaf in jax.tree_util.tree_leaves_with_path(tree):
            arrays[f"{prefix}/{array_key(path)}"] = np.asarray(leaf)
    for i, leaf in enumerate(jax.tree.leaves(checkpoint.state)):
        arrays[f"state/{i}"] = np.asarray(leaf)
    for i, (column, values) in enumerate(checkpoint.history.items()):
        arrays[f"history/{i}"] = np.asarray(values, np.float64)
    path = directory / CHECKPOINT
    write_atomically(path, lambda handle: np.savez(handle, **arrays))
    return path


def points_multiple(directory) -> int | None:
    """The multiple DIR/checkpoint.npz's point counts were rounded to, where it can be read
    (else None: `load_checkpoint` then says what is wrong). A resumed run samples with it, so
    that the saved points fit on any number of devices."""
    path = Path(directory) / CHECKPOINT
    if not path.exists():
        return None
    try:
        meta = json.loads(str(read_arrays(path, "checkpoint")["meta"]))
    except (FileError, KeyError, ValueError, RecursionError):
        return None
    multiple = meta.get("multiple") if isinstance(meta, dict) else None
    return multiple if isinstance(multiple, int) and multiple >= 1 else None


def load_checkpoint(directory, problem: Problem, params_like: Params, batch_like,
                    terms: int) -> Checkpoint | None:
    """DIR/checkpoint.npz read back, or None where there is none (a run stopped before its
    first chunk). A damaged checkpoint, or one of another program, is a FileError."""
    path = Path(directory) / CHECKPOINT
    if not path.exists() and not path.is_symlink():
        return None
    stored = read_arrays(path, "checkpoint")
    meta = _checkpoint_meta(stored, path, problem)
    labels = ["step", "loss", *(t.label for t in problem.ir.terms)]
    if meta["history"] != labels:
        raise FileError(path, _DAMAGED_CHECKPOINT)
    history = _checkpoint_history(stored, path, labels)
    weights = stored.get("weights")
    if weights is None or weights.size != terms or weights.dtype.kind != "f":
        raise FileError(path, _DAMAGED_CHECKPOINT)
    state = [stored.get(f"state/{i}") for i in range(sum(k.startswith("state/") for k in stored))]
    if any(leaf is None for leaf in state):
        raise FileError(path, _DAMAGED_CHECKPOINT)
    return Checkpoint(restore_arrays(stored, "params/", params_like, path), meta["step"],
                      meta["phase"], meta["phase_first"], meta["finished"],
                      restore_arrays(stored, "batch/", batch_like, path),
                      jnp.asarray(weights, problem.dtype).reshape(terms),
                      float(meta["train_s"]), float(meta["compile_s"]), history, state,
                      int(meta.get("multiple", 1)), path)


_DAMAGED_CHECKPOINT = "damaged (its parts do not fit together); delete it to train from step 0"
_META = {"step": int, "phase": int, "phase_first": int, "finished": bool,
         "train_s": (int, float), "compile_s": (int, float), "history": list}


def _checkpoint_meta(stored: dict, path: Path, problem: Problem) -> dict:
    """The checkpoint's description, checked: the same program, steps within its phases."""
    try:
        meta = json.loads(str(stored["meta"])) if stored["meta"].dtype.kind == "U" else None
    except (KeyError, ValueError, RecursionError):
        meta = None
    if not isinstance(meta, dict) or not all(isinstance(meta.get(k), t) for k, t in _META.items()):
        raise FileError(path, _DAMAGED_CHECKPOINT)
    if meta.get("program") not in (None, program_digest(problem)):
        raise FileError(path, "the checkpoint was written for another program or other "
                        "options; resume with the run folder's own spec.pde")
    phases = problem.options.optimizer
    total = sum(p.steps for p in phases)
    if not (0 <= meta["phase"] < len(phases) and 0 <= meta["phase_first"] <= meta["step"] <= total):
        raise FileError(path, _DAMAGED_CHECKPOINT)
    return meta


def _checkpoint_history(stored: dict, path: Path, labels: list[str]) -> dict[str, list]:
    columns = [stored.get(f"history/{i}") for i in range(len(labels))]
    if any(c is None or c.ndim != 1 or c.dtype.kind != "f" or len(c) != len(columns[0])
           for c in columns) or not np.all(np.isfinite(columns[0])):
        raise FileError(path, _DAMAGED_CHECKPOINT)
    return {label: [int(v) if label == "step" else float(v) for v in column]
            for label, column in zip(labels, columns)}
