"""A compiled problem: the generated module, loaded from its text, with networks and points.

The Python API's `Problem` (`pinnc.api`) adds compiling and training to it. Its `loss` and
`residuals` are the generated module's functions with the networks plugged in: pure JAX, so
`jit`, `grad` and `vmap` compose with them.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Protocol

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from ...compiler import ir
from ...compiler.errors import SpecError
from .. import geometry
from ..kernels.interpolate import interpolate
from . import causal, networks
from .batch import Batch, Entry
from .generated import load_module

Params = dict  # {"fields": {name: layers}, "params": {name: scalar}}


class Compiled(Protocol):
    """What a `Problem` is built from: the compiler's output (`compiler.pipeline.Compiled`),
    named by its shape so that the runtime never imports the compiler's driver."""
    problem: ir.Problem
    plan: Any  # compiler.derivatives.DerivativePlan
    source: str


class Problem:
    """A compiled `.pde` program.

    ``source`` is the generated module's text; ``ir`` the analysed program; ``plan`` its
    derivative plan; ``options`` the options in force (the program's, then the overrides).
    """

    def __init__(self, compiled: Compiled, text: str, filename: str,
                 overrides: Mapping[str, object] | None = None):
        self.ir: ir.Problem = compiled.problem
        self.plan = compiled.plan
        self.source: str = compiled.source
        self.text, self.filename = text, filename
        self.overrides = dict(overrides or {})
        if self.options.precision == "float64":
            jax.config.update("jax_enable_x64", True)  # JAX's switch is global; float32 still works
        self.dtype = jnp.float64 if self.options.precision == "float64" else jnp.float32
        self.module = load_module(self.source, self.ir.name)
        self._wheres = dict(zip(self.ir.wheres(), self.module.WHERE))
        self._bounds = {f.name: _coordinate_bounds(self.ir, f.coords) for f in self.ir.fields}
        self._terms = {term.label: term for term in self.ir.terms}
        self._tables = {t.name: _interpolant(t, self.dtype) for t in self.ir.tables}
        self._fourier = {f.name: networks.embedding(f.model, networks.input_width(f),
                                                    self.options.seed, i, self.dtype)
                         for i, f in enumerate(self.ir.fields)}
        self._causal = self._causal_terms()
        # training's compiled chunks of steps, by what they were compiled for (`training.loop`)
        self._compiled_chunks: dict = {}

    @property
    def options(self) -> ir.Options:
        return self.ir.options

    @property
    def name(self) -> str:
        return self.ir.name

    # --- parameters and points ---
    def init(self, key: jax.Array) -> Params:
        """Fresh network weights and every `param` at its start value."""
        keys = jax.random.split(key, max(1, len(self.ir.fields)))
        return {
            "fields": {f.name: networks.init(k, f.model, networks.input_width(f), self.dtype)
                       for k, f in zip(keys, self.ir.fields)},
            "params": {p.name: jnp.asarray(p.init, self.dtype) for p in self.ir.params},
        }

    def sample(self, key: jax.Array, multiple: int = 1) -> Batch:
        """Collocation points for every term, drawn with the program's sampler: {label:
        `Entry`}, holding what `ir.Problem.entry_layout` says (normals on boundaries, observed
        values for data, an entry per integral; no mask: `training.points` adds it).
        Terms on the same region with the same number of points share one entry
        (`ir.Problem.point_sets`); the loss computes their residuals together.
        ``multiple``: every sampled set's count rounded up to a multiple of it (points split
        evenly over that many devices: `training.sharding`); data keeps its own points."""
        rng = np.random.default_rng(int(jax.random.randint(key, (), 0, 2 ** 31 - 1)))
        batch = {}
        sharing = {label: labels[0] for labels in self.ir.point_sets() for label in labels}
        for term in self.ir.terms:
            if sharing[term.label] in batch:  # a term on the same points as an earlier one
                batch[term.label] = batch[sharing[term.label]]
                continue
            if term.data is not None:
                batch[term.label] = Entry(points=jnp.asarray(term.data.points, self.dtype),
                                          measure=jnp.asarray(1.0, self.dtype),
                                          observed=jnp.asarray(term.data.values, self.dtype))
                continue
            try:
                integrals = tuple(self._region_entry(i.region, i.points, rng, multiple)
                                  for i in term.integrals)
                entry = self._region_entry(term.region, term.points, rng, multiple)._replace(
                    integrals=integrals)
            except geometry.EmptyRegionError as error:
                raise SpecError(f"cannot sample {term.label}'s points: {error.reason}",
                                term.span).located(self.text, self.filename) from None
            batch[term.label] = entry
        return batch

    def condition(self, region: ir.Region) -> geometry.Condition | None:
        """``region``'s `where` condition with the function the generated module holds for it
        (``WHERE``, in the order of `ir.Problem.wheres`); None where it has none."""
        if region.where is None:
            return None
        return geometry.Condition(region.where, self._wheres[region.where])

    def _region_entry(self, region: ir.Region, points: int | None, rng, multiple: int = 1
                      ) -> Entry:
        condition = self.condition(region)
        count = -(-self.options.points_in(region, points) // multiple) * multiple
        drawn, normals = geometry.region_points(region, count, rng, self.options.sampler,
                                                condition)
        return Entry(points=jnp.asarray(drawn, self.dtype),
                     measure=jnp.asarray(geometry.region_measure(region, condition), self.dtype),
                     normals=None if normals is None else jnp.asarray(normals, self.dtype))

    # --- evaluation ---
    def field_functions(self, params: Params) -> dict[str, Callable]:
        """{field: function of one point of its coordinates -> scalar}, for generated code;
        each table's interpolant is there too, under its name, as the module's docstring says."""
        def bind(f: ir.Field):
            lows, highs = self._bounds[f.name]
            layers = params["fields"][f.name]
            periodic = tuple((f.coords.index(p.coord), p) for p in f.periodic)
            fourier = self._fourier[f.name]
            return lambda point: networks.apply(layers, f.model, lows, highs, point, periodic,
                                                fourier)
        return {**{f.name: bind(f) for f in self.ir.fields}, **self._tables}

    def loss(self, params: Params, batch: Batch, weights=None) -> jax.Array:
        """The total loss, a scalar; ``weights`` ({label: scalar}, adaptive weighting)
        multiplies each term's own weight."""
        if weights is None and not self._causal:
            return self.module.loss(self.field_functions(params), params["params"], batch)
        values = self.term_values(params, batch)
        return sum(self._terms[label].weight * (1.0 if weights is None else weights[label])
                   * value for label, value in values.items())

    def residuals(self, params: Params, batch: Batch) -> dict[str, jax.Array]:
        """{label: (N,) residuals at that term's points}."""
        return self.module.residuals(self.field_functions(params), params["params"], batch)

    def term_values(self, params: Params, batch: Batch) -> dict[str, jax.Array]:
        """{label: mean square residual (causally weighted under ``set causal``), or a minimize
        term's value}."""
        values = self.module.term_values(self.field_functions(params), params["params"], batch)
        if self._causal:
            residuals = self.residuals(params, batch)
            values.update({label: jnp.sum(self._causal_weights(label, residuals[label], batch)
                                          * residuals[label] ** 2) for label in self._causal})
        return values

    def _causal_terms(self) -> dict[str, tuple[int, float, float]]:
        """{label: (column of t, t's low, t's high)} of the pde terms over time that ``set
        causal`` weights; empty without it."""
        if self.options.causal is None:
            return {}
        terms = {}
        for term in self.ir.terms:
            if term.kind == "pde" and "t" in term.coords:
                column = term.coords.index("t")
                low, high = geometry.build(term.region.domain).bounding_box()
                terms[term.label] = (column, float(low[column]), float(high[column]))
        return terms

    def _causal_weights(self, label: str, residual: jax.Array, batch: Batch) -> jax.Array:
        column, low, high = self._causal[label]
        return causal.point_weights(residual, batch[label], column, low, high,
                                    self.options.causal)

    def residual_vector(self, params: Params, batch: Batch, weights=None) -> jax.Array:
        """Every residual, scaled so that the loss is its squared norm: the terms' residuals
        times sqrt(weight / N), concatenated (M,). Least-squares terms only (not minimize)."""
        residuals = self.residuals(params, batch)
        scales = self._row_scales(batch, weights, residuals)
        return jnp.concatenate([scales[term.label] * residuals[term.label]
                                for term in self.ir.terms])

    def _row_scales(self, batch: Batch, weights=None, residuals=None) -> dict[str, jax.Array]:
        """{label: (N,) sqrt(weight / N)}, N the points the entry counts (its mask), the
        weight the term's times its adaptive multiplier in ``weights`` ({label: scalar}); a
        causal term's sqrt(weight c), c its `causal.point_weights` at ``residuals``."""
        scales = {}
        for term in self.ir.terms:
            entry = batch[term.label]
            weight = term.weight * (1.0 if weights is None else weights[term.label])
            if term.label in self._causal:
                c = self._causal_weights(term.label, residuals[term.label], batch)
                scales[term.label] = jnp.sqrt(weight * c)
            elif entry.mask is not None:
                # a sample of rows may hold none that count
                counted = jnp.maximum(jnp.sum(entry.mask), 1)
                scales[term.label] = jnp.sqrt(weight * entry.mask / counted)
            else:
                n = entry.points.shape[0]
                scales[term.label] = jnp.full((n,), jnp.sqrt(weight / n), self.dtype)
        return scales

    def _causal_residuals(self, params: Params, batch: Batch) -> dict[str, jax.Array] | None:
        """The residuals `_row_scales` needs for causal terms, or None without any."""
        return self.residuals(params, batch) if self._causal else None

    def residual_jacobian(self, params: Params, batch: Batch, weights=None) -> jax.Array:
        """The Jacobian (M, P) of `residual_vector` with respect to the flattened parameters
        (`jax.flatten_util.ravel_pytree` order). Row i depends on point i only (and on the
        integrals of its term), so rows come from reverse mode at single points under `vmap`:
        O(M·P), where `jax.jacrev` of the whole vector would cost O(M²·P)."""
        theta, unravel = ravel_pytree(params)
        labels = {term.label for term in self.ir.terms}
        scales = self._row_scales(batch, weights, self._causal_residuals(params, batch))
        rows = self._residual_rows(batch, theta, unravel, scales, labels)
        return jnp.concatenate([rows[term.label] for term in self.ir.terms])

    def sampled_residual_jacobian(self, params: Params, batch: Batch, key: jax.Array,
                                  rows: int, weights=None) -> jax.Array:
        """The Jacobian of `residual_vector` on about ``rows`` of its rows drawn at random
        (`sampled_rows`), each scaled as in a batch of the points drawn: its JᵀJ is an
        unbiased estimate of the whole Jacobian's, at ``rows``/M of its cost."""
        return self.residual_jacobian(params, self.sampled_rows(batch, key, rows), weights)

    def sampled_rows(self, batch: Batch, key: jax.Array, rows: int) -> Batch:
        """``batch`` with each set of shared points cut to its share of ``rows`` points (at
        least one), drawn without replacement; the integrals' points are kept whole."""
        sets = self.ir.point_sets()
        sizes = [int(batch[labels[0]].points.shape[0]) for labels in sets]
        total = sum(sizes)
        sampled = {}
        for labels, size, k in zip(sets, sizes, jax.random.split(key, len(sets))):
            keep = min(size, max(1, round(rows * size / total)))
            chosen = jax.random.choice(k, size, (keep,), replace=False)
            entry = batch[labels[0]]
            cut = entry.with_rows(jax.tree.map(lambda v: v[chosen], entry.rows()))
            sampled.update({label: cut for label in labels})
        return sampled

    def _residual_rows(self, batch: Batch, theta: jax.Array, unravel: Callable,
                       scales: dict[str, jax.Array], wanted: set[str]) -> dict[str, jax.Array]:
        """{label: (N, P) rows of `residual_jacobian`} for the terms ``wanted``, a set of
        shared points at a time: terms sharing points take one forward pass per point."""
        rows = {}
        for labels in self.ir.point_sets():
            if not wanted & set(labels):
                continue
            if len(labels) > 1:
                residuals = self.module.SHARED_RESIDUALS[labels]
            else:
                single = self.module.TERM_RESIDUALS[labels[0]]
                residuals = lambda *args, single=single: (single(*args),)
            jacobians = self._point_jacobians(residuals, batch[labels[0]], theta, unravel)
            rows.update({label: scales[label][:, None] * jacobians[:, k]
                         for k, label in enumerate(labels) if label in wanted})
        return rows

    def _point_jacobians(self, residuals: Callable, entry: Entry, theta: jax.Array,
                         unravel: Callable) -> jax.Array:
        """(N, T, P): the gradients in the flat parameters of the T residuals that
        ``residuals(fields, params, entry)`` returns (a tuple), at each of the entry's points,
        by reverse mode at single points under `vmap`."""
        def at_point(flat, row):
            p = unravel(flat)
            one = entry.with_rows(jax.tree.map(lambda v: v[None], row))
            return jnp.stack([r[0] for r in residuals(self.field_functions(p), p["params"], one)])
        return jax.vmap(jax.jacrev(at_point), in_axes=(None, 0))(theta, entry.rows())

    def check_least_squares(self) -> None:
        """Raise `SpecError` unless every term is one Gauss–Newton takes: a mean square, or a
        minimize term whose integrand holds no integral of its own."""
        for term in self.ir.terms:
            if term.kind == "minimize" and term.integrals:
                raise SpecError("engd(...) takes minimize terms whose integrand holds no "
                                f"integral; '{term.label}' holds one: train it with adam or lbfgs",
                                term.span, source=self.text, filename=self.filename)

    @property
    def least_squares(self) -> bool:
        """Whether every term is a mean square of residuals (no minimize term)."""
        return all(term.kind != "minimize" for term in self.ir.terms)

    def gauss_newton_rows(self, params: Params, batch: Batch, weights=None) -> jax.Array:
        """Rows R (M, P) with RᵀR half the generalized Gauss–Newton matrix of the loss
        (``ravel_pytree`` order of the parameters).

        A mean-square term contributes its rows of `residual_jacobian`. A minimize term with
        integrand F(z(x)), z the field values and derivatives it contains
        (``FEATURES``), contributes at every point the rows ``sqrt(c/2) Lᵀ ∂z/∂θ`` with
        ``L Lᵀ`` the Hessian of F in z and ``c = weight · measure / N``: for
        ``0.5*dot(grad(u), grad(u)) - f*u`` that is the energy inner product of ENGD. Where
        that Hessian is not positive semi-definite, its negative eigenvalues are taken as
        zero (the Gauss–Newton matrix of its convex part)."""
        theta, unravel = ravel_pytree(params)
        scales = self._row_scales(batch, weights, self._causal_residuals(params, batch))
        squares = {term.label for term in self.ir.terms if term.kind != "minimize"}
        rows = self._residual_rows(batch, theta, unravel, scales, squares)
        for term in self.ir.terms:
            if term.kind == "minimize":
                weight = term.weight * (1.0 if weights is None else weights[term.label])
                rows[term.label] = self._minimize_rows(term.label, batch[term.label], weight,
                                                       theta, unravel)
        return jnp.concatenate([rows[term.label] for term in self.ir.terms])

    def _minimize_rows(self, label: str, entry: Entry, weight, theta: jax.Array,
                       unravel: Callable) -> jax.Array:
        """The rows (N k, P) of minimize term ``label`` in `gauss_newton_rows`."""
        features, of_features = self.module.FEATURES[label]

        def z_at(flat, q):
            p = unravel(flat)
            return features(self.field_functions(p), p["params"], q)

        def curvature(q, z):
            p = unravel(theta)
            hessian = jax.hessian(lambda w: of_features(self.field_functions(p),
                                                        p["params"], q, w))(z)
            values, vectors = jnp.linalg.eigh(0.5 * (hessian + hessian.T))
            return vectors * jnp.sqrt(jnp.maximum(values, 0.0))  # L with L Lᵀ ≈ H

        points = entry.points
        zs = jax.vmap(lambda q: z_at(theta, q))(points)
        jacobians = jax.vmap(jax.jacrev(z_at), in_axes=(None, 0))(theta, points)  # (N, k, P)
        factors = jax.vmap(curvature)(points, zs)                                 # (N, k, k)
        mask = jnp.ones(points.shape[0], self.dtype) if entry.mask is None else entry.mask
        c = weight * entry.measure * mask / jnp.sum(mask)
        block = jnp.einsum("nkr,nkp->nrp", factors, jacobians) * jnp.sqrt(c / 2)[:, None, None]
        return block.reshape(-1, theta.shape[0])

    def field(self, name: str, params: Params) -> Callable[[jax.Array], jax.Array]:
        """The values of field ``name`` at X, an (N, ncoords) array -> (N,); ``name`` may
        also be a derived quantity (a let of fields that an `exact` names)."""
        quantity = self.ir.reported(name)
        if isinstance(quantity, ir.Derived):
            derived, fields = self.module.DERIVED[name], self.field_functions(params)
            function = lambda p: derived(fields, params["params"], p)
        else:
            function = self.field_functions(params)[quantity.name]
        return jax.jit(jax.vmap(function))

    def exact(self, name: str) -> Callable[[jax.Array], jax.Array] | None:
        """The exact solution of field (or derived quantity) ``name`` at X (N, ncoords) ->
        (N,), or None."""
        function = self.module.EXACT.get(self.ir.reported(name).name)
        return None if function is None else jax.jit(jax.vmap(function))

    def field_domain(self, name: str) -> ir.Domain:
        """The domain on which field ``name`` is reported (`ir.Problem.report_domain`)."""
        return self.ir.report_domain(name)

    def __repr__(self) -> str:
        return f"<pinnc.Problem {self.name}: fields {[f.name for f in self.ir.fields]}>"


def _interpolant(table: ir.Table, dtype) -> Callable[[jax.Array], jax.Array]:
    """A table's interpolant at one point of its coordinates; its grid a constant of the
    programs that call it (a table is data of the program, never trained)."""
    axes = tuple(jnp.asarray(axis, dtype) for axis in table.axes)
    values = jnp.asarray(table.values, dtype)
    return lambda point: interpolate(axes, values, point)


def _coordinate_bounds(problem: ir.Problem, coords: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The smallest box around every domain's extent along ``coords``."""
    domains = [d.domain for d in problem.domains]
    domains += [t.region.domain for t in problem.terms if t.region is not None]
    lows, highs = np.full(len(coords), np.inf), np.full(len(coords), -np.inf)
    for domain in domains:
        low, high = geometry.build(domain).bounding_box()
        for i, c in enumerate(coords):
            if c in domain.coords:
                j = domain.coords.index(c)
                lows[i], highs[i] = min(lows[i], low[j]), max(highs[i], high[j])
    for term in problem.terms:  # a field seen only in data: the data's extent
        if term.data is not None:
            for i, c in enumerate(coords):
                if c in term.data.coords and not np.isfinite(lows[i]):
                    column = term.data.points[:, term.data.coords.index(c)]
                    lows[i], highs[i] = column.min(), column.max()
    lows, highs = np.where(np.isfinite(lows), lows, -1.0), np.where(np.isfinite(highs), highs, 1.0)
    highs = np.where(highs > lows, highs, lows + 1.0)
    return lows, highs
