"""``periodic u, v in x, y [with period = L, harmonics = K]``: the fields made exactly periodic in
those coordinates (`ir.Periodic`). The period defaults to the length of the coordinate's
interval in the program's domains (a box, or a product with an interval in it)."""
from __future__ import annotations

import dataclasses
import math

from .. import ir
from .. import syntax as s
from ..errors import SpecError, did_you_mean
from ..expressions import constant
from ..options import integer, named_keywords
from .names import Context

# Beyond this many harmonics per coordinate the network's input is mostly redundant features.
MAX_HARMONICS = 64


def periodic(context: Context, statement: s.Periodic) -> None:
    """Make the statement's fields periodic in its coordinates (`Context.fields` updated)."""
    period, harmonics = _options(context, statement)
    for name in statement.fields:
        if name.id not in context.fields:
            raise SpecError(f"'{name.id}' is not a field{did_you_mean(name.id, context.fields)}",
                            name.span)
    for coord in statement.coords:
        if coord.id not in context.coords:
            raise SpecError(f"'{coord.id}' is not a coordinate"
                            f"{did_you_mean(coord.id, context.coords)}; a field is periodic in "
                            f"a coordinate of a domain", coord.span)
    for coord in statement.coords:
        length = period if period is not None else _interval_length(context, coord)
        for name in statement.fields:
            field = context.fields[name.id]
            if coord.id not in field.coords:
                raise SpecError(f"field '{field.name}' does not depend on '{coord.id}' (its "
                                f"coordinates are {', '.join(field.coords)})", coord.span)
            if any(p.coord == coord.id for p in field.periodic):
                raise SpecError(f"field '{field.name}' is already periodic in '{coord.id}'",
                                coord.span)
            made = ir.Periodic(coord.id, length, harmonics)
            context.fields[name.id] = dataclasses.replace(field,
                                                          periodic=(*field.periodic, made))


def _options(context: Context, statement: s.Periodic) -> tuple[float | None, int]:
    """``with period = L, harmonics = K`` -> (L or None, K)."""
    allowed = ("period", "harmonics")
    found = named_keywords(statement.options, allowed, lambda name: (
        f"unknown option '{name}' of periodic{did_you_mean(name, allowed)}; use period=... "
        f"or harmonics=..."))
    period, harmonics = None, 1
    if "period" in found:
        node = found["period"].value
        period = constant(context.translator("in a period").scalar(node), node.span,
                          "a number (the period)")
        if period <= 0:
            raise SpecError("a period must be positive", node.span)
    if "harmonics" in found:
        harmonics = integer(found["harmonics"].value, "harmonics", maximum=MAX_HARMONICS)
    return period, harmonics


def _interval_length(context: Context, coord: s.Name) -> float:
    """The length of ``coord``'s interval in the program's domains; refused where it has
    none, or intervals of different lengths."""
    lengths = {length for named in context.domains.values()
               if (length := _length_in(named.domain, coord.id)) is not None}
    if not lengths:
        raise SpecError(f"'{coord.id}' has no interval in the program's domains (a box, or a "
                        f"product with an interval in '{coord.id}') to give its period: name "
                        f"it, e.g. 'with period = 2*pi'", coord.span)
    if len(lengths) > 1:
        shown = ", ".join(f"{length:g}" for length in sorted(lengths))
        raise SpecError(f"'{coord.id}' spans intervals of different lengths ({shown}) in the "
                        f"program's domains: name the period, e.g. 'with period = 2*pi'",
                        coord.span)
    (length,) = lengths
    assert math.isfinite(length) and length > 0
    return length


def _length_in(domain: ir.Domain, coord: str) -> float | None:
    if isinstance(domain, ir.Box) and coord in domain.coords:
        low, high = domain.bounds[domain.coords.index(coord)]
        return high - low
    if isinstance(domain, ir.Product):
        return _length_in(domain.left, coord) or _length_in(domain.right, coord)
    return None
