"""Stage 3: which partial derivatives each term needs, and how they are computed.

A partial derivative is a multi-index: the coordinates differentiated along, in the order of the
term's coordinates, e.g. ``("x", "x")`` for u_xx and ``()`` for u itself. For every term and
field the plan lists the partials the residual needs and the forward-mode *chains* that compute
them: a chain of directions (v1, ..., vk) evaluated by k nested `jax.jvp`s yields the derivative
along every subset of its directions at once (2**k values), so u, u_x and u_xx come from one
chain (x, x). Chains are chosen greedily from the highest order down, and a partial is taken from
the first chain that yields it, so each distinct partial is computed once per term. Terms that
share their points (`ir.Problem.point_sets`) get one merged plan besides their own (a
`SharedPlan`), which the loss uses: a partial two equations need is computed once for both.

Strategies, chosen per term and field by the cost rule (`cost`), in units of one evaluation of
the network's forward pass (``bench/derivatives.py`` measures each against the others):

- nested JVPs, as above: a chain of k directions costs about 2**k units, whatever it yields;
- the forward Laplacian: where a residual sums the pure second derivatives of one field over
  two or more coordinates with one coefficient (``lap(u)``, ``kappa*(u_xx + u_yy)``), the sum
  is replaced by a `Laplacian` node, computed with the value and the gradient along those
  coordinates in one pass that carries (value, gradient, Laplacian) through the network:
  about 2 + n units against 4n for n chains (x_i, x_i). Up to `MAX_TAYLOR_LAPLACIAN_COORDS`
  coordinates the pass is a collapsed Taylor pass of order 2 along the axes (below), at each
  point; beyond, one pass over the whole batch of points whose tangents hold the directions
  on an axis (`runtime/kernels/laplacian.py`), where a term's residuals are computed over its
  batch (at a single point, `folx`);
- Taylor mode (`runtime/kernels/taylor.py`): a derivative of order k >= 2 along one
  coordinate, with every lower order along it, from one pass that carries truncated Taylor
  series through the network (weights carry none, so each order costs one matrix product per
  layer) instead of a chain of k nested JVPs. A mixed partial where a coordinate repeats
  (``Dxxy``, ``Dxxyy``) is such a pass along the most repeated one inside JVPs along the
  others: the same partials as the chain;
- collapsed Taylor mode (`runtime/kernels/taylor.py`, `collapsed_derivative`): where a residual
  sums partials of one field of one order k >= 3 with constant coefficients over two or more
  coordinates (``Dxxxx(u) + 2*Dxxyy(u) + Dyyyy(u)``), the sum can be a `Combination` node:
  the sum over m directions of weighted k-th directional derivatives (`waring`), computed in
  one pass that carries orders 1 to k - 1 per direction and only the weighted sum of order k:
  2 + m (k - 1) series, each costing about `COLLAPSED_UNIT` times a tangent of a chain. The
  passes it replaces cost, per partial, the distinct values of its chain, prod(count_i + 1)
  (XLA computes a chain (x, x, y, y) as 9 values, not 16: equal tangents are computed once; a
  Taylor pass of order k, k + 1). It is taken where it costs less: the 2-D biharmonic (m = 3,
  11 against 19), not a single mixed partial (``Dxxyy``: 9 values against 2 + 3 x 3 series);
- one JVP for a derivative along a vector (`Directional`).

Modules, in the order they build on each other: `names` (what plans and generated code call
each derivative), `nodes` (reading a residual's fields and derivatives), `cost` (the cost
rule), `decomposition` (`waring`), `grouping` (sums into `Laplacian` and `Combination`
nodes), `plans` (the plan's dataclasses), `passes` (a field's passes in a term), `terms`
(`plan`) and `text` (`describe`).
"""
from __future__ import annotations

from .cost import (COLLAPSED_UNIT, MAX_TAYLOR_LAPLACIAN_COORDS, MIN_COLLAPSED_ORDER,
                   MIN_LAPLACIAN_COORDS, MIN_TAYLOR_ORDER)
from .decomposition import waring
from .grouping import group_combinations, group_laplacians
from .names import (MultiIndex, combination_name, directional_name, integral_label,
                    laplacian_name, partial_name, shared_label)
from .nodes import (Combination, Laplacian, directional_nodes, field_nodes, loose_symbols,
                    multi_index, needed_partials, shifted_partials, value_index)
from .plans import (Chain, CollapsedPass, DerivativePlan, Features, FieldPlan, LaplacianPass,
                    SharedPlan, TaylorPass, TermPlan)
from .terms import plan
from .text import describe

__all__ = ["plan", "integral_label", "shared_label", "SharedPlan", "describe", "directional_name",
           "laplacian_name", "combination_name", "Combination", "CollapsedPass", "waring",
           "group_combinations", "needed_partials", "multi_index", "partial_name",
           "group_laplacians", "Laplacian", "DerivativePlan", "TermPlan", "Features", "FieldPlan",
           "LaplacianPass", "TaylorPass", "Chain", "MultiIndex", "field_nodes", "loose_symbols",
           "directional_nodes", "shifted_partials", "value_index", "MIN_LAPLACIAN_COORDS", "MAX_TAYLOR_LAPLACIAN_COORDS",
           "MIN_TAYLOR_ORDER", "MIN_COLLAPSED_ORDER", "COLLAPSED_UNIT"]
