"""Domains: the constructors (box, interval, ball, polygon), their products and combinations
(`|`, `&`, `-`), each checked to be non-empty; a polygon checked to be simple."""
from __future__ import annotations

import numpy as np

from .. import ir
from .. import syntax as s
from ..errors import SpecError, did_you_mean
from ..expressions import constant
from ..limits import MAX_POLYGON_VERTICES
from .names import Context

# Edges of a polygon tested against all others at once in the simple-polygon test.
_CROSSING_BLOCK = 256
_CONSTRUCTORS = ("box", "interval", "ball", "polygon")


def domain(context: Context, node: s.DomainExpr) -> ir.Domain:
    """A domain expression -> `ir.Domain`; a name is a domain declared before."""
    if isinstance(node, s.Name):
        if node.id not in context.domains:
            raise SpecError(f"unknown domain '{node.id}'{did_you_mean(node.id, context.domains)}",
                            node.span)
        return context.domains[node.id].domain
    if isinstance(node, s.DomainOp):  # one frame per level of nesting: products may be long
        return _operation(context, node, domain(context, node.left), domain(context, node.right))
    if isinstance(node, s.Call) and node.func.id in ("box", "interval"):
        return _box(context, node)
    if isinstance(node, s.Call) and node.func.id == "ball":
        return _ball(context, node)
    if isinstance(node, s.Call) and node.func.id == "polygon":
        return _polygon(context, node)
    known = set(_CONSTRUCTORS) | set(context.domains)
    hint = did_you_mean(_callee_name(node), known) if _callee_name(node) else ""
    raise SpecError("expected a domain: box(x in [a, b], ...), interval(x in [a, b]), "
                    f"ball(...), polygon(...), or the name of a domain{hint}", node.span)


def extent(context: Context) -> dict[str, tuple[float, float]]:
    """Coordinate -> (low, high) over the bounding boxes of the declared domains that have it:
    where a field may be evaluated at a given point."""
    found: dict[str, tuple[float, float]] = {}
    for named in context.domains.values():
        box = ir.bounding_box(named.domain, context.bounding_boxes)
        for coord, (low, high) in zip(named.domain.coords, box or ()):
            known = found.get(coord, (low, high))
            found[coord] = (min(low, known[0]), max(high, known[1]))
    return found


def _operation(context: Context, node: s.DomainOp, left: ir.Domain,
               right: ir.Domain) -> ir.Domain:
    """A product ``A * B`` of domains of other coordinates, or a union, intersection or
    difference of domains of the same coordinates (refused where it is empty)."""
    if node.op == "*":
        shared = set(left.coords) & set(right.coords)
        if shared:
            raise SpecError(f"a product of domains that share coordinate "
                            f"'{sorted(shared)[0]}'", node.span)
        if isinstance(left, ir.Box) and isinstance(right, ir.Box):
            return ir.Box(left.coords + right.coords, left.bounds + right.bounds)
        return ir.Product(left, right)
    if left.coords != right.coords:
        relation = ("name them in a different order" if set(left.coords) == set(right.coords)
                    else "have different coordinates")
        raise SpecError(f"'{node.op}' joins domains of the same coordinates; these "
                        f"{relation}: ({', '.join(left.coords)}) and "
                        f"({', '.join(right.coords)})", node.span)
    op = {"|": "union", "&": "intersection", "-": "difference"}[node.op]
    combined = ir.Combination(op, left, right)
    if ir.bounding_box(combined, context.bounding_boxes) is None:
        raise SpecError(f"this domain is empty: {_why_empty(combined)}", node.span)
    return combined


def _number(context: Context, node: s.Expr, what: str) -> float:
    return constant(context.translator("in a domain").scalar(node), node.span, what)


def _coordinates(context: Context, node: s.Call, usage: str) -> tuple[str, ...]:
    """The coordinates a ball or polygon names first: ``ball((x, y), ...)``."""
    if not node.args:
        raise SpecError(f"{node.func.id} takes its coordinates first: {usage}", node.span)
    first = node.args[0]
    names = first.items if isinstance(first, s.Tuple) else (first,)
    coords = []
    for name in names:
        if not isinstance(name, s.Name) or name.id not in context.coords:
            raise SpecError(f"expected a coordinate name: {usage}", name.span)
        if name.id in coords:
            raise SpecError(f"coordinate '{name.id}' appears twice", name.span)
        coords.append(name.id)
    return tuple(coords)


def _point(context: Context, node: s.Expr, dim: int, what: str) -> tuple[float, ...]:
    if not isinstance(node, s.Vector) or len(node.items) != dim:
        raise SpecError(f"{what} must be a list of {dim} numbers", node.span)
    return tuple(_number(context, item, "a number") for item in node.items)


def _ball(context: Context, node: s.Call) -> ir.Ball:
    usage = "ball((x, y), center=[0, 0], radius=1)"
    coords = _coordinates(context, node, usage)
    if len(node.args) != 1 or node.ranges:
        raise SpecError(f"ball takes coordinates, center= and radius=: {usage}", node.span)
    keywords = {k.name.id: k for k in node.keywords}
    for name, keyword in keywords.items():
        if name not in ("center", "radius"):
            raise SpecError(f"ball has no setting '{name}'"
                            f"{did_you_mean(name, ('center', 'radius'))}", keyword.name.span)
    center = (_point(context, keywords["center"].value, len(coords), "center")
              if "center" in keywords else (0.0,) * len(coords))
    radius = (_number(context, keywords["radius"].value, "a number (the radius)")
              if "radius" in keywords else 1.0)
    if radius <= 0:
        raise SpecError("the radius must be positive", keywords["radius"].value.span)
    return ir.Ball(coords, center, radius)


def _polygon(context: Context, node: s.Call) -> ir.Polygon:
    usage = "polygon((x, y), [[0, 0], [1, 0], [0, 1]])"
    coords = _coordinates(context, node, usage)
    if len(coords) != 2 or len(node.args) != 2 or node.keywords or node.ranges:
        raise SpecError(f"polygon takes two coordinates and a list of vertices: {usage}",
                        node.span)
    corners = node.args[1]
    if not isinstance(corners, s.Vector) or len(corners.items) < 3:
        raise SpecError(f"polygon needs a list of at least 3 vertices: {usage}", corners.span)
    if len(corners.items) > MAX_POLYGON_VERTICES:
        raise SpecError(f"a polygon of {len(corners.items):,} vertices: at most "
                        f"{MAX_POLYGON_VERTICES:,} are supported", corners.span)
    vertices = tuple(_point(context, v, 2, "a vertex") for v in corners.items)
    problem = _polygon_problem(vertices)
    if problem:
        raise SpecError(f"not a simple polygon: {problem}", corners.span)
    return ir.Polygon(coords, vertices)


def _box(context: Context, node: s.Call) -> ir.Box:
    kind = node.func.id
    if node.args or node.keywords or not node.ranges:
        raise SpecError(f"{kind} takes coordinate ranges: {kind}(x in [a, b]"
                        f"{', y in [c, d]' if kind == 'box' else ''})", node.span)
    if kind == "interval" and len(node.ranges) != 1:
        raise SpecError("interval takes one coordinate range; use box for more",
                        node.ranges[1].span)
    coords, bounds = [], []
    for r in node.ranges:
        if r.name.id in coords:
            raise SpecError(f"coordinate '{r.name.id}' appears twice", r.name.span)
        low = _number(context, r.low, "a number (the lower bound)")
        high = _number(context, r.high, "a number (the upper bound)")
        if not low < high:
            raise SpecError(f"empty range: {low:g} is not below {high:g}", r.span)
        coords.append(r.name.id)
        bounds.append((low, high))
    return ir.Box(tuple(coords), tuple(bounds))


def _why_empty(combination: ir.Combination) -> str:
    """Why an intersection or difference of non-empty domains has no volume."""
    if combination.op == "difference":
        return "the part taken away covers all of it"
    left, right = ir.bounding_box(combination.left), ir.bounding_box(combination.right)
    for coord, (a, b), (c, d) in zip(combination.coords, left, right):
        if max(a, c) >= min(b, d):
            return (f"its two sides share no volume ({coord} spans [{a:g}, {b:g}] in one and "
                    f"[{c:g}, {d:g}] in the other)")
    return "its two sides share no volume"


def _callee_name(node) -> str | None:
    if isinstance(node, s.Call):
        return node.func.id
    return node.id if isinstance(node, s.Name) else None


def _polygon_problem(vertices: tuple[tuple[float, float], ...]) -> str | None:
    """Why ``vertices`` do not make a simple polygon, or None."""
    points = np.asarray(vertices, dtype=float)
    following = np.roll(points, -1, axis=0)
    area = float(np.sum(points[:, 0] * following[:, 1] - following[:, 0] * points[:, 1])) / 2
    if abs(area) < 1e-14:
        return "its area is zero"
    if len(set(vertices)) != len(vertices):
        return "a vertex repeats"
    crossing = _first_crossing(points, following)
    return f"edges {crossing[0] + 1} and {crossing[1] + 1} cross" if crossing else None


def _first_crossing(starts: np.ndarray, ends: np.ndarray) -> tuple[int, int] | None:
    """The first pair (i, j), i < j, of edges ``starts[k] -> ends[k]`` that are not adjacent
    and properly cross, or None. A block of edges is tested against the later ones at a time
    (numpy): first their bounding boxes, then the pairs whose boxes meet."""
    n = len(starts)
    low, high = np.minimum(starts, ends), np.maximum(starts, ends)
    for first in range(0, n, _CROSSING_BLOCK):
        i = np.arange(first, min(first + _CROSSING_BLOCK, n))[:, None]
        j = np.arange(first + 2, n)[None, :]
        meet = ((low[i, 0] <= high[j, 0]) & (low[j, 0] <= high[i, 0])
                & (low[i, 1] <= high[j, 1]) & (low[j, 1] <= high[i, 1])
                & (j >= i + 2) & ~((i == 0) & (j == n - 1)))  # later, not adjacent edges
        rows, columns = np.nonzero(meet)
        a, b = i[rows, 0], j[0, columns]
        crosses = _properly_cross(starts[a], ends[a], starts[b], ends[b])
        if crosses.any():
            k = int(np.argmax(crosses))
            return int(a[k]), int(b[k])
    return None


def _properly_cross(p1, p2, q1, q2) -> np.ndarray:
    """Whether segments p1-p2 and q1-q2 cross at a point inside both, for arrays (m, 2)."""
    def cross(o, a, b):
        return ((a[:, 0] - o[:, 0]) * (b[:, 1] - o[:, 1])
                - (a[:, 1] - o[:, 1]) * (b[:, 0] - o[:, 0]))
    return ((cross(q1, q2, p1) * cross(q1, q2, p2) < 0)
            & (cross(p1, p2, q1) * cross(p1, p2, q2) < 0))
