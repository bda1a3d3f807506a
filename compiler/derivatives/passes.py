"""Which passes compute a field's partials in one term: forward-Laplacian and collapsed passes
for the nodes grouping made, Taylor passes along a repeated coordinate, and chains of nested
JVPs for the rest, so that each partial is computed once."""
from __future__ import annotations

import sympy

from .cost import MIN_TAYLOR_ORDER
from .grouping import decomposed
from .names import MultiIndex
from .nodes import Combination, Laplacian, nodes_of
from .plans import Chain, CollapsedPass, LaplacianPass, TaylorPass


def laplacian_passes(expr: sympy.Expr, field: str, needed: set[MultiIndex]
                     ) -> tuple[LaplacianPass, ...]:
    """A pass for each `Laplacian` of ``field`` in ``expr``; the value and first partials it
    yields are taken from the first pass that yields them."""
    passes, given = [], set()
    for node in nodes_of(expr, field, Laplacian):
        value = () in needed and () not in given
        gradient = tuple((c,) if (c,) in needed and (c,) not in given else None
                         for c in node.coords)
        given |= {m for m in gradient if m is not None} | ({()} if value else set())
        passes.append(LaplacianPass(node, node.coords, value, gradient))
    return tuple(passes)


def collapsed_passes(expr: sympy.Expr, field: str, coords: tuple[str, ...]
                     ) -> tuple[CollapsedPass, ...]:
    """A collapsed Taylor pass for each `Combination` of ``field`` in ``expr``."""
    passes = []
    for node in nodes_of(expr, field, Combination):
        # not None: `group_combinations` made the node only where it was not
        partials, directions, weights, coefficients = decomposed(node.expanded(), coords)
        passes.append(CollapsedPass(node, len(partials[0]), directions, weights, partials,
                                    coefficients))
    return tuple(passes)


def taylor_passes(needed: set[MultiIndex], provided: set[MultiIndex],
                  coords: tuple[str, ...]) -> tuple[TaylorPass, ...]:
    """A Taylor pass along each coordinate with pure derivatives of order `MIN_TAYLOR_ORDER` or
    more; then, highest order first, one for each mixed partial not yet provided where one
    coordinate appears that often: along it, to that count, inside JVPs along the others (a
    repeated one once per time it appears). Either yields the same partials as the chain
    along the multi-index, at less cost (bench/derivatives.py)."""
    passes = []

    def add(coord: str, order: int, around: tuple[str, ...]) -> None:
        nonlocal provided
        outputs = []
        for mask in range(2 ** len(around)):
            taken = tuple(around[i] for i in range(len(around)) if mask >> i & 1)
            for k in range(order + 1):
                index = tuple(sorted((coord,) * k + taken, key=coords.index))
                useful = index in needed and index not in provided
                outputs.append(index if useful else None)
                if useful:
                    provided = provided | {index}
        passes.append(TaylorPass(coord, order, tuple(outputs), around))

    for coord in coords:
        orders = [len(m) for m in needed if m and set(m) == {coord}]
        if orders and max(orders) >= MIN_TAYLOR_ORDER:
            add(coord, max(orders), ())
    for target in sorted(needed, key=lambda m: (-len(m), m)):
        if target in provided or len(set(target)) < 2:
            continue
        coord = max(dict.fromkeys(target), key=target.count)  # the first of the most repeated
        around = tuple(c for c in target if c != coord)
        if target.count(coord) >= MIN_TAYLOR_ORDER:
            add(coord, target.count(coord), around)
    return tuple(passes)


def chains(needed: set[MultiIndex], coords: tuple[str, ...]) -> tuple[Chain, ...]:
    """Chains of nested JVPs for ``needed``, greedily from the highest order down: a chain
    along a multi-index yields every partial along a subset of it, each taken once."""
    provided: set[MultiIndex] = set()
    found = []
    for target in sorted(needed, key=lambda m: (-len(m), m)):
        if target in provided:
            continue
        outputs = []
        for mask in range(2 ** len(target)):
            index = tuple(sorted((target[i] for i in range(len(target)) if mask >> i & 1),
                                 key=coords.index))
            useful = index in needed and index not in provided
            outputs.append(index if useful else None)
            if useful:
                provided.add(index)
        found.append(Chain(target, tuple(outputs)))
    return tuple(found)
