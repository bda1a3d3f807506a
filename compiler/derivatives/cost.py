"""The cost rule: where each strategy is taken, in units of one evaluation of the network's
forward pass. ``bench/derivatives.py`` measures each strategy against the others."""
from __future__ import annotations

import math

from .names import MultiIndex

# A sum of pure second derivatives over at least this many coordinates is taken by the forward
# Laplacian: 2 + n units against 4n for the chains, so from 2 on.
MIN_LAPLACIAN_COORDS = 2
# A Laplacian over at most this many coordinates is a collapsed Taylor pass at each point, over
# more one pass over the batch: the per-point pass wins in few dimensions, the batch pass in
# many (where they cross is measured by bench/derivatives.py).
MAX_TAYLOR_LAPLACIAN_COORDS = 32
# ... and a derivative of at least this order along one coordinate by Taylor mode (a mixed one
# inside JVPs along its other coordinates).
MIN_TAYLOR_ORDER = 2
# ... and a constant-coefficient sum of partials of this order or more by collapsed Taylor mode,
# where its cost (`collapsed_cost`) is below that of the passes it replaces (`passes_cost`).
MIN_COLLAPSED_ORDER = 3
# What one series of a collapsed pass costs, in tangents of a nested chain: it trades the
# collapsed pass against the passes it replaces (fitted by bench/derivatives.py).
COLLAPSED_UNIT = 1.0


def collapsed_cost(directions: int, order: int) -> float:
    """A collapsed pass: the value, orders 1 .. order-1 per direction, and the summed order."""
    return COLLAPSED_UNIT * (2 + directions * (order - 1))


def passes_cost(partials: list[MultiIndex]) -> int:
    """The passes the plan would otherwise take for these partials: per partial, the distinct
    values its chain computes, prod(count_i + 1) (k + 1 for a pure one, as its Taylor pass)."""
    return sum(math.prod(m.count(c) + 1 for c in set(m)) for m in partials)
