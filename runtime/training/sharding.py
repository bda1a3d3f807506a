"""Data parallelism: the collocation points split over the devices by JAX's own sharding.

The option ``devices`` names the devices (`mesh`): a `jax.sharding.Mesh` with one axis,
``"points"``, over the devices of every process (`processes`: one process, or several joined
by `jax.distributed`). Every per-point array (a batch entry's rows, a pool of candidate points,
the slots refinement fills) is split along its first axis over it (``NamedSharding(mesh,
P("points"))``); scalars, parameters, optimizer state and the terms' weights are replicated.
The chunk of steps is the same `while_loop`, compiled from arguments so placed: jit follows
their shardings, XLA partitions every step and inserts the collectives (all-reduces of the
sums over points: the loss, its gradient, a Gauss–Newton JᵀJ). The outputs are placed as the
inputs were, so a chunk feeds the next.

Every process holds the same host arrays (the same seed draws the same points); each array is
assembled from them with `jax.make_array_from_callback`, which asks for the rows of this
process's devices only.

Point counts: `Problem.sample` rounds every sampled set up to a multiple of the device count
(`multiple`), and refinement's reserved slots are rounded up too (the extra ones stay masked
out), so every moving set splits evenly. An array whose length still does not divide (a data
term's measured points, a grid of its own count) is replicated: every device computes it
whole, with the same result.
"""
from __future__ import annotations

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ...compiler.errors import SpecError

AXIS = "points"


def mesh(devices: str | int = "all") -> Mesh:
    """The mesh of the devices the option ``devices`` names: ``"all"``, every device of every
    process (`jax.devices`); a number N, the first N / P local devices of each of the P
    processes. More than there are, or a number that does not split evenly over the
    processes, is a `SpecError`."""
    everywhere = jax.devices()
    count = len(everywhere) if devices == "all" else int(devices)
    processes = jax.process_count()
    if count > len(everywhere):
        where = (f"this machine has {len(everywhere)}" if processes == 1 else
                 f"the {processes} processes have {len(everywhere)}")
        raise SpecError(f"devices = {count}, but {where} {everywhere[0].platform} device(s); "
                        f"set devices = all or a number up to {len(everywhere)}")
    if count % processes:
        raise SpecError(f"devices = {count} does not split evenly over the {processes} "
                        f"processes; set devices = all or a multiple of {processes}")
    each = count // processes
    taken = {}  # devices taken so far, by process
    chosen = []
    for device in everywhere:
        if taken.get(device.process_index, 0) < each:
            taken[device.process_index] = taken.get(device.process_index, 0) + 1
            chosen.append(device)
    return Mesh(np.asarray(chosen), (AXIS,))


def round_up(n: int, multiple: int) -> int:
    """``n`` rounded up to a multiple of ``multiple``."""
    return -(-n // multiple) * multiple


def replicated(mesh_: Mesh, tree):
    """Every array of ``tree`` placed whole on every device of ``mesh_``."""
    whole = NamedSharding(mesh_, PartitionSpec())
    return jax.tree.map(lambda leaf: _placed(leaf, whole), tree)


def split(mesh_: Mesh, tree):
    """Every array of ``tree`` with rows (one per point) split over ``mesh_``'s devices along
    its first axis; scalars, and arrays whose length does not divide, replicated."""
    rows = NamedSharding(mesh_, PartitionSpec(AXIS))
    whole = NamedSharding(mesh_, PartitionSpec())

    def place(leaf):
        divides = np.ndim(leaf) >= 1 and np.shape(leaf)[0] % mesh_.size == 0
        return _placed(leaf, rows if divides else whole)
    return jax.tree.map(place, tree)


def _placed(leaf, target: NamedSharding) -> jax.Array:
    """``leaf`` placed as ``target`` says. An array already spanning several processes is
    moved by JAX; any other is read on this host, each device given its own rows of it
    (every process holds the same values)."""
    if isinstance(leaf, jax.Array) and (leaf.sharding == target or not leaf.is_fully_addressable):
        return leaf if leaf.sharding == target else jax.device_put(leaf, target)
    host = np.asarray(leaf)
    return jax.make_array_from_callback(host.shape, target, lambda index: host[index])


def place_carry(mesh_: Mesh, carry):
    """A training carry (`step.Carry`) placed: its batch split, all else replicated."""
    batch = split(mesh_, carry.batch)
    return replicated(mesh_, carry._replace(batch=None))._replace(batch=batch)


def shardings(tree):
    """The sharding of every array of ``tree`` (a tree of the same structure)."""
    return jax.tree.map(lambda leaf: leaf.sharding, tree)


def description(mesh_: Mesh) -> dict:
    """The devices, as metrics.json records them: ``count`` (over every process),
    ``platform``, ``kind``, and the number of ``processes``."""
    first = mesh_.devices.flat[0]
    return {"count": int(mesh_.size), "platform": first.platform, "kind": first.device_kind,
            "processes": jax.process_count()}
