"""Collocation points on the device: resampling from a pool and residual-based refinement.

Training carries the batch through its jit-compiled chunks, so points change without leaving
the device and without recompiling (every shape stays the same):

- **Pools.** For every set of n points drawn from a region (a term's, or the terms' sharing
  it, and every integral's), a pool of K = `POOL_FACTOR` (fewer where K n would pass
  `POOL_MAX`) further sets of n points is drawn once, on the host, each on its own with the
  program's sampler: for ``sobol`` K independently scrambled Sobol sets, each as evenly
  spread as the first. (For ``grid``, whose sets would all be the same, the pool is one grid
  of K n points cut at random into K sets.) The K n points are the candidates of both
  operations below.
- **Resampling** (``set resample_every = N``): every N steps each set's points are replaced
  by one of its pool's sets, chosen on the device from a key that depends only on the seed and
  the step, so a resumed run draws the same points. A whole set, not a random subset of the
  pool: a random subset of quasi-random points is only as even as random points, and an
  average over them (an integral, or a mean of squared residuals) only as accurate.
- **Refinement** (``set refine = rar(every=N, points=K)``, residual-based adaptive refinement,
  Lu et al. 2021): every N steps, the K candidates of each `pde` set with the largest squared
  residual (summed over the terms sharing the set, with their weights) are added to it. Room
  for every point that will be added is reserved at the start; a reserved slot counts in the
  term's mean only once it is filled: each entry holds a ``mask``, (N,) zeros and ones.

Data terms (their own measured points) are never changed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np

from .. import geometry
from ..model import Batch, Entry

POOL_FACTOR = 16
POOL_MAX = 1_000_000  # points per pool at most, unless the set itself has more


class Pool(NamedTuple):
    """A set's candidates: ``points`` (K n, d) and, on a boundary, their ``normals``."""
    points: jax.Array
    normals: Optional[jax.Array] = None


@dataclass(frozen=True)
class Layout:
    """Which batch entries are point sets: ``sets`` lists, per set of shared points, the path
    of its entry (``(label,)``, or ``(label, k)`` for the k-th integral of that term's entry),
    the labels that share it, its number of drawn points and its number of reserved slots
    (``refine`` only)."""
    sets: tuple[tuple[tuple, tuple[str, ...], int, int], ...]
    refined: tuple[int, ...]  # indices into ``sets`` that refinement adds to


def layout(problem, batch: Batch, refine_slots: int = 0) -> Layout:
    """The point sets of ``batch`` (a `Problem.sample`), with ``refine_slots`` slots reserved in
    every set of interior `pde` terms."""
    sets, refined = [], []
    terms = {t.label: t for t in problem.ir.terms}
    for labels in problem.ir.point_sets():
        term = terms[labels[0]]
        if term.data is not None:
            continue
        entry = batch[labels[0]]
        grows = refine_slots > 0 and all(terms[label].kind == "pde" for label in labels)
        if grows:
            refined.append(len(sets))
        sets.append(((labels[0],), labels, int(entry.points.shape[0]),
                     refine_slots if grows else 0))
        for k, sub in enumerate(entry.integrals):
            sets.append(((labels[0], k), labels, int(sub.points.shape[0]), 0))
    return Layout(tuple(sets), tuple(refined))


def pool_sets(n: int) -> int:
    """How many sets of ``n`` points a pool holds."""
    return max(1, min(POOL_FACTOR, POOL_MAX // max(n, 1)))


def pools(problem, layout_: Layout, rng: np.random.Generator) -> dict[tuple, Pool]:
    """For every point set of n points, `pool_sets` (K) sets of n points drawn afresh on the
    host, one after the other in the pool's K n rows: the candidates of resampling and
    refinement, put on the device once."""
    terms = {t.label: t for t in problem.ir.terms}
    sampler = problem.options.sampler
    out = {}
    for path, labels, n, _ in layout_.sets:
        term = terms[labels[0]]
        region = term.region if len(path) == 1 else term.integrals[path[1]].region
        k = pool_sets(n)
        condition = problem.condition(region)
        if sampler == "grid":  # k draws of a grid would be k copies: one finer grid, shuffled
            points, normals = geometry.region_points(region, k * n, rng, sampler, condition)
            order = rng.permutation(k * n)
            points, normals = points[order], None if normals is None else normals[order]
        else:
            drawn = [geometry.region_points(region, n, rng, sampler, condition)
                     for _ in range(k)]
            points = np.concatenate([p for p, _ in drawn])
            normals = None if drawn[0][1] is None else np.concatenate([q for _, q in drawn])
        out[path] = Pool(jnp.asarray(points, problem.dtype),
                         None if normals is None else jnp.asarray(normals, problem.dtype))
    return out


def _get(batch: Batch, path) -> Entry:
    entry = batch[path[0]]
    return entry if len(path) == 1 else entry.integrals[path[1]]


def _put(batch: Batch, path, labels, entry: Entry) -> Batch:
    batch = dict(batch)
    if len(path) != 1:
        outer = batch[path[0]]
        integrals = outer.integrals[:path[1]] + (entry,) + outer.integrals[path[1] + 1:]
        entry = outer._replace(integrals=integrals)
    for label in labels:
        batch[label] = entry
    return batch


def _drawn(entry: Entry) -> Pool:
    """An entry's drawn rows, in the shape of its pool: what resampling and refinement
    change (the mask aside)."""
    return Pool(entry.points, entry.normals)


def _with_drawn(entry: Entry, rows: Pool) -> Entry:
    return entry._replace(points=rows.points, normals=rows.normals)


def reserve(batch: Batch, layout_: Layout) -> Batch:
    """``batch`` with every refined set's arrays padded by its reserved slots (copies of its
    first row, masked out) and a mask in every set."""
    for path, labels, n, slots in layout_.sets:
        entry = _get(batch, path)
        pad = lambda a: jnp.concatenate([a, jnp.broadcast_to(a[:1], (slots,) + a.shape[1:])])
        mask = jnp.concatenate([jnp.ones(n, entry.points.dtype),
                                jnp.zeros(slots, entry.points.dtype)])
        entry = _with_drawn(entry, jax.tree.map(pad, _drawn(entry)))._replace(mask=mask)
        batch = _put(batch, path, labels, entry)
    return batch


def resample(batch: Batch, layout_: Layout, pools_: dict[tuple, Pool], key: jax.Array
             ) -> Batch:
    """Every set's drawn points replaced by one of its pool's sets, chosen at random (reserved
    slots and what refinement put there are kept)."""
    for i, (path, labels, n, _) in enumerate(layout_.sets):
        pool = pools_[path]
        start = n * jax.random.randint(jax.random.fold_in(key, i), (), 0,
                                       pool.points.shape[0] // n)
        entry = _get(batch, path)
        rows = jax.tree.map(lambda old, new: old.at[:n].set(
            jax.lax.dynamic_slice_in_dim(new, start, n, 0)), _drawn(entry), pool)
        entry = _with_drawn(entry, rows)
        batch = _put(batch, path, labels, entry)
    return batch


def refine(batch: Batch, layout_: Layout, pools_: dict[tuple, Pool], residuals_at, count: int,
           round_: jax.Array) -> Batch:
    """Round ``round_`` of refinement: in each refined set, fill the next ``count`` reserved
    slots with the pool's points of largest squared residual. ``residuals_at(batch)`` gives
    {label: (N,) residuals} (weighted sum over the labels of a set)."""
    for i in layout_.refined:
        path, labels, n, slots = layout_.sets[i]
        pool = pools_[path]
        entry = _get(batch, path)
        trial = _with_drawn(entry, pool)._replace(
            mask=jnp.ones(pool.points.shape[0], entry.mask.dtype))
        values = residuals_at(_put(batch, path, labels, trial))
        score = sum(values[label] ** 2 for label in labels)
        _, best = jax.lax.top_k(score, count)
        start = n + jnp.minimum(round_, slots // count - 1) * count
        rows = jax.tree.map(lambda old, new: jax.lax.dynamic_update_slice_in_dim(
            old, new[best], start, 0), _drawn(entry), pool)
        entry = _with_drawn(entry, rows)._replace(mask=jax.lax.dynamic_update_slice_in_dim(
            entry.mask, jnp.ones(count, entry.mask.dtype), start, 0))
        batch = _put(batch, path, labels, entry)
    return batch
