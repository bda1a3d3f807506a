"""The typed batch: what `Problem.sample` draws holds what the IR's entry layout states, and its
entries are pytrees that jit, vmap and the points' moves take as they are."""
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pinnc
from pinnc.runtime.model import Entry

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("name", ["heat_inverse", "integro", "burgers"])
def test_a_sampled_entry_holds_what_the_ir_layout_states(name):
    problem = pinnc.compile_file(EXAMPLES / f"{name}.pde", points=32, boundary_points=8)
    batch = problem.sample(jax.random.key(0))
    for term in problem.ir.terms:
        layout, entry = problem.ir.entry_layout(term.label), batch[term.label]
        assert isinstance(entry, Entry) and entry.mask is None
        assert (entry.normals is not None) == layout.normals
        assert (entry.observed is not None) == layout.observed
        assert [(e.normals is not None) for e in entry.integrals] == [
            i.normals for i in layout.integrals]
        assert entry.points.shape[1] == len(term.coords)
    if name == "integro":
        (integral,) = batch["pde1"].integrals
        assert float(integral.measure) == pytest.approx(1.0)
    if name == "heat_inverse":
        (data,) = [t for t in problem.ir.terms if t.data is not None]
        np.testing.assert_array_equal(batch[data.label].observed, data.data.values)


def test_moving_points_are_masked_and_a_mask_of_ones_counts_every_point():
    problem = pinnc.compile_file(EXAMPLES / "integro.pde", points=32, resample_every=10)
    assert problem.ir.entry_layout("pde1").masked
    with_mask = problem.sample(jax.random.key(0))["pde1"]._replace(mask=jnp.ones(32))
    plain = problem.sample(jax.random.key(0))
    values = problem.term_values(problem.init(jax.random.key(1)), plain)
    masked = problem.term_values(problem.init(jax.random.key(1)), {**plain, "pde1": with_mask})
    assert float(masked["pde1"]) == pytest.approx(float(values["pde1"]), rel=1e-12)


def test_an_entry_is_a_pytree_whose_rows_vmap_maps():
    entry = Entry(measure=jnp.asarray(2.0), points=jnp.arange(6.0).reshape(3, 2),
                  normals=jnp.ones((3, 2)))
    leaves = jax.tree.leaves(entry)
    assert len(leaves) == 3  # the members it does not hold are no leaves
    doubled = jax.jit(lambda e: jax.tree.map(lambda v: 2 * v, e))(entry)
    assert isinstance(doubled, Entry) and float(doubled.measure) == 4.0
    sums = jax.vmap(lambda row: jnp.sum(row.points) + jnp.sum(row.normals))(entry.rows())
    np.testing.assert_allclose(sums, [3.0, 7.0, 11.0])
    first = entry.with_rows(jax.tree.map(lambda v: v[:1], entry.rows()))
    assert first.points.shape == (1, 2) and float(first.measure) == 2.0
