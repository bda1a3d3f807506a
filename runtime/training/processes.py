"""Training over several processes, one per host (or per GPU): JAX's multi-controller runtime,
`jax.distributed`.

Every process runs the same program with the same options and seed, so each computes the same
initial weights and draws the same global set of points on its host; `sharding` then keeps
only its own rows on its own devices (`jax.make_array_from_callback`). The mesh spans every
process's devices and each chunk of steps is one program over all of them: the same global
batch, the same steps and history as one process with as many devices, to round-off.

What leaves the devices is read the same way on every process: sharded arrays (the points)
gathered with `multihost_utils.process_allgather` (a collective: every process takes part),
replicated ones (parameters, optimizer state) from the local copy. Process 0 alone writes the
run folder and shows progress (`writes`); what Python decides between chunks (the time limit,
a Ctrl-C) is decided once for all (`first`, `anywhere`), so no process waits in a collective
the others have left.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils


class JoinError(ConnectionError):
    """The processes could not be joined (no cluster found, a coordinator out of reach)."""


def initialize(coordinator: str | None = None, num_processes: int | None = None,
               process_id: int | None = None) -> None:
    """Join this process to the others of the run (`jax.distributed.initialize`): with no
    arguments, those of the cluster job JAX detects (SLURM, Open MPI, ...); else process
    ``process_id`` of ``num_processes``, process 0 serving ``coordinator`` (``HOST:PORT``).
    Call it before anything else of JAX runs; a `JoinError` says why it could not join."""
    try:
        jax.distributed.initialize(coordinator, num_processes, process_id)
    except ValueError as error:
        if coordinator is None:
            raise JoinError("JAX found no cluster job (SLURM, Open MPI, ...) to join "
                            f"({error}); name the coordinator HOST:PORT, the number of "
                            "processes and this process's id") from None
        raise JoinError(f"cannot join the processes: {error}") from None
    except RuntimeError as error:
        raise JoinError(f"cannot join the processes: {error}") from None


def writes() -> bool:
    """Whether this process writes the run folder and shows progress: process 0 alone."""
    return jax.process_index() == 0


def gathered(tree):
    """``tree`` with every array whole on this process (on its default device): a sharded
    global array gathered from every process, the others as they are. On several processes
    every one of them must call it at the same point."""
    if jax.process_count() == 1:
        return tree

    def whole(leaf):
        if isinstance(leaf, jax.Array) and not leaf.is_fully_addressable:
            return jnp.asarray(multihost_utils.process_allgather(leaf, tiled=True))
        return leaf
    return jax.tree.map(whole, tree)


def first(value):
    """Process 0's ``value`` (a bool, a number or a tuple of numbers), in every process: what it
    decided or measured, decided once for all. A collective: where process 0 writes a file, the
    others wait for it here."""
    if jax.process_count() == 1:
        return value
    shared = multihost_utils.broadcast_one_to_all(np.asarray(value))
    return type(value)(shared.tolist()) if isinstance(value, tuple) else type(value)(shared)


def anywhere(flag: bool) -> bool:
    """Whether ``flag`` is set in any process (a Ctrl-C in one stops them all)."""
    if jax.process_count() == 1:
        return flag
    return bool(np.any(multihost_utils.process_allgather(np.asarray(flag))))


def same(value: float) -> bool:
    """Whether every process holds the same ``value``."""
    if jax.process_count() == 1:
        return True
    return bool(np.all(multihost_utils.process_allgather(np.asarray(value, np.float64)) == value))
