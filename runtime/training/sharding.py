"""Data parallelism: the collocation points split over local devices by JAX's own sharding.

The option ``devices`` names the devices (`mesh`): a `jax.sharding.Mesh` with one axis,
``"points"``. Every per-point array (a batch entry's rows, a pool of candidate points, the slots
refinement fills) is split along its first axis over it (``NamedSharding(mesh, P("points"))``);
scalars, parameters, optimizer state and the terms' weights are replicated. The chunk of steps
is the same `while_loop`, compiled from arguments so placed: jit follows their shardings, XLA
partitions every step and inserts the collectives (all-reduces of the sums over points: the
loss, its gradient, a Gauss–Newton JᵀJ). The outputs are placed as the inputs were, so a chunk
feeds the next.

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
    """The mesh of the local devices the option ``devices`` names (``"all"`` or a number; the
    first ones of `jax.local_devices`). More than the machine has is a `SpecError`."""
    local = jax.local_devices()
    count = len(local) if devices == "all" else int(devices)
    if count > len(local):
        raise SpecError(f"devices = {count}, but this machine has {len(local)} "
                        f"{local[0].platform} device(s); set devices = all or a number up to "
                        f"{len(local)}")
    return Mesh(np.asarray(local[:count]), (AXIS,))


def round_up(n: int, multiple: int) -> int:
    """``n`` rounded up to a multiple of ``multiple``."""
    return -(-n // multiple) * multiple


def replicated(mesh_: Mesh, tree):
    """Every array of ``tree`` placed whole on every device of ``mesh_``."""
    return jax.device_put(tree, NamedSharding(mesh_, PartitionSpec()))


def split(mesh_: Mesh, tree):
    """Every array of ``tree`` with rows (one per point) split over ``mesh_``'s devices along
    its first axis; scalars, and arrays whose length does not divide, replicated."""
    rows = NamedSharding(mesh_, PartitionSpec(AXIS))
    whole = NamedSharding(mesh_, PartitionSpec())

    def place(leaf):
        divides = np.ndim(leaf) >= 1 and np.shape(leaf)[0] % mesh_.size == 0
        return jax.device_put(leaf, rows if divides else whole)
    return jax.tree.map(place, tree)


def place_carry(mesh_: Mesh, carry):
    """A training carry (`step.Carry`) placed: its batch split, all else replicated."""
    batch = split(mesh_, carry.batch)
    return replicated(mesh_, carry._replace(batch=None))._replace(batch=batch)


def shardings(tree):
    """The sharding of every array of ``tree`` (a tree of the same structure)."""
    return jax.tree.map(lambda leaf: leaf.sharding, tree)


def description(mesh_: Mesh) -> dict:
    """The devices, as metrics.json records them: ``count``, ``platform``, ``kind``."""
    first = mesh_.devices.flat[0]
    return {"count": int(mesh_.size), "platform": first.platform, "kind": first.device_kind}
