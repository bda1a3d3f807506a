"""The intermediate representation: what a checked `.pde` program means.

Analysis (`analyze.py`) builds these from the syntax tree; the derivative plan and the code
generator read them; the runtime builds geometry and networks from them. Every type is a frozen
dataclass of plain data and SymPy expressions, with no reference back to the syntax tree except
the source spans kept for error messages.

Fields appear in residuals as applied SymPy functions, ``u(x, y)``, and their partial derivatives
as ``Derivative(u(x, y), x, x)``; coordinates and ``param``s are SymPy symbols. A table (a
function given as data) appears the same way, under its `Table`'s name.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

import numpy as np
import sympy
from sympy.core.function import AppliedUndef

from .errors import Span


# --- domains -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Box:
    """An axis-aligned box (an interval when it has one coordinate).

    ``bounds[i]`` is ``(low, high)`` for ``coords[i]``, as floats.
    """
    coords: tuple[str, ...]
    bounds: tuple[tuple[float, float], ...]

    @property
    def dim(self) -> int:
        return len(self.coords)


@dataclass(frozen=True)
class Ball:
    """``ball((x, y), center=[0, 0], radius=1)``: a disk in 2-D, a ball in n-D."""
    coords: tuple[str, ...]
    center: tuple[float, ...]
    radius: float

    @property
    def dim(self) -> int:
        return len(self.coords)


@dataclass(frozen=True)
class Polygon:
    """``polygon((x, y), [[0, 0], [1, 0], [0, 1]])``: a simple polygon, vertices in order."""
    coords: tuple[str, str]
    vertices: tuple[tuple[float, float], ...]

    @property
    def dim(self) -> int:
        return 2


@dataclass(frozen=True)
class Combination:
    """``left | right`` (op "union"), ``&`` ("intersection"), ``-`` ("difference"): both
    operands have the same coordinates, in the same order."""
    op: str
    left: "Domain"
    right: "Domain"

    @property
    def coords(self) -> tuple[str, ...]:
        return self.left.coords

    @property
    def dim(self) -> int:
        return len(self.coords)


@dataclass(frozen=True)
class Product:
    """``left * right``: the Cartesian product of domains with disjoint coordinates (a product
    of boxes is itself a `Box`)."""
    left: "Domain"
    right: "Domain"

    @property
    def coords(self) -> tuple[str, ...]:
        return self.left.coords + self.right.coords

    @property
    def dim(self) -> int:
        return len(self.coords)


Domain = Union[Box, Ball, Polygon, Combination, Product]


def describe(domain: Domain) -> str:
    """A domain in the language's own notation, e.g. ``box(x in [0, 1], y in [0, 1])``."""
    if isinstance(domain, Box):
        ranges = ", ".join(f"{c} in [{lo:g}, {hi:g}]" for c, (lo, hi) in zip(domain.coords, domain.bounds))
        return f"{'interval' if domain.dim == 1 else 'box'}({ranges})"
    if isinstance(domain, Ball):
        center = ", ".join(f"{c:g}" for c in domain.center)
        return f"ball(({', '.join(domain.coords)}), center=[{center}], radius={domain.radius:g})"
    if isinstance(domain, Polygon):
        vertices = ", ".join(f"[{a:g}, {b:g}]" for a, b in domain.vertices)
        return f"polygon(({', '.join(domain.coords)}), [{vertices}])"
    if isinstance(domain, Product):
        return f"({describe(domain.left)} * {describe(domain.right)})"
    symbol = {"union": "|", "intersection": "&", "difference": "-"}[domain.op]
    return f"({describe(domain.left)} {symbol} {describe(domain.right)})"


Bounds = tuple[tuple[float, float], ...]


def bounding_box(domain: Domain, known: dict | None = None) -> Bounds | None:
    """``(low, high)`` per coordinate of a box that holds ``domain``, or None when the domain
    certainly has no volume. Exact for boxes and their intersections and products; for a
    union, a difference or a curved shape it only bounds, so None only where that is sure.
    ``known`` holds the domains already seen and their boxes (by id, the domain kept so that
    its id is not reused), so that a chain A & B & ... costs one step per operation."""
    if known is None:
        known = {}
    if id(domain) not in known:
        known[id(domain)] = (domain, _bounding_box(domain, known))
    return known[id(domain)][1]


def _bounding_box(domain: Domain, known: dict) -> Bounds | None:
    if isinstance(domain, Box):
        return domain.bounds
    if isinstance(domain, Ball):
        return tuple((c - domain.radius, c + domain.radius) for c in domain.center)
    if isinstance(domain, Polygon):
        xs, ys = zip(*domain.vertices)
        return ((min(xs), max(xs)), (min(ys), max(ys)))
    left, right = bounding_box(domain.left, known), bounding_box(domain.right, known)
    if isinstance(domain, Product):
        return None if left is None or right is None else left + right
    if domain.op == "union":
        if left is None or right is None:
            return left or right
        return tuple((min(a, c), max(b, d)) for (a, b), (c, d) in zip(left, right))
    if domain.op == "intersection":
        if left is None or right is None:
            return None
        overlap = tuple((max(a, c), min(b, d)) for (a, b), (c, d) in zip(left, right))
        return None if any(low >= high for low, high in overlap) else overlap
    # difference: empty when the part taken away is the same domain or a box that holds it all
    if left is None or domain.left == domain.right:
        return None
    if isinstance(domain.right, Box) and all(
            c <= a and b <= d for (a, b), (c, d) in zip(left, domain.right.bounds)):
        return None
    return left


@dataclass(frozen=True)
class NamedDomain:
    name: str
    domain: Domain
    span: Span


# --- regions -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Clause:
    """One disjunct of a `where` condition in disjunctive normal form, as geometry reads it:
    ``equalities`` holds (coord, value) for each of its ``coord == value`` atoms that fixes one
    coordinate to a number; ``bare``: the clause is one such atom and nothing else."""
    equalities: tuple[tuple[str, float], ...]
    bare: bool


@dataclass(frozen=True)
class Where:
    """A `where` condition on a region's points, ``coords`` their columns.

    ``predicate`` is a SymPy boolean over the coordinate symbols (``Eq(t, 0)``,
    ``Or(Eq(x, -1), Eq(x, 1))``, ``x > 0``): code generation prints it as a numpy function of
    the points (the generated module's ``WHERE``). ``clauses`` is its structure, found with
    SymPy here so that the runtime never walks it: the flat pieces of a boundary its
    equalities select. ``text`` is the condition as messages show it.
    """
    predicate: sympy.Basic
    coords: tuple[str, ...]
    text: str
    clauses: tuple[Clause, ...]

    @property
    def no_volume(self) -> bool:
        """Whether every clause pins a coordinate with ``==``: the region has zero volume."""
        return all(clause.equalities for clause in self.clauses)

    @property
    def only_equalities(self) -> bool:
        """Whether the condition is a disjunction of bare ``coord == value`` atoms: nothing is
        left to filter once the planes they name are sampled."""
        return all(clause.bare for clause in self.clauses)


@dataclass(frozen=True)
class Region:
    """Where a term holds: the interior of ``domain`` or its boundary, optionally narrowed by
    a `where` condition (None: the whole interior or boundary)."""
    domain_name: str
    domain: Domain
    on_boundary: bool
    where: Where | None = None
    # ``at [[...]]``: the listed points (coordinates in the domain's order) and nothing else
    points: tuple[tuple[float, ...], ...] | None = None

    @property
    def coords(self) -> tuple[str, ...]:
        return self.domain.coords

    @property
    def predicate(self) -> sympy.Basic | None:
        """The condition as a SymPy boolean, or None."""
        return None if self.where is None else self.where.predicate


# --- unknowns ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Factorization:
    """Random weight factorization ``rwf(mean=m, std=s)``: every weight matrix is trained as
    V scaled by exp(s) per output unit, with s drawn from N(m, s²) at the start."""
    mean: float = 1.0
    std: float = 0.1


@dataclass(frozen=True)
class Model:
    """A network architecture (`runtime.model.networks`).

    ``form``: ``mlp`` (layers of ``hidden`` widths), ``gated`` (the same, each layer gating
    between two encoders of the inputs) or ``pirate`` (residual blocks of width ``hidden[0]``,
    one per entry of ``hidden``). ``fourier``: the number of random Fourier features
    cos(Bz), sin(Bz) of the inputs z, B fixed and drawn from N(0, ``sigma``²); 0 for none.
    """
    hidden: tuple[int, ...] = (32, 32, 32)
    activation: str = "tanh"
    output: str = "identity"
    form: str = "mlp"
    fourier: int = 0
    sigma: float = 1.0
    factorized: Factorization | None = None

    def describe(self) -> str:
        """The model as a program writes it, e.g. ``gated(hidden=[64, 64], activation=tanh,
        output=identity, fourier=32, sigma=2)``."""
        if self.form == "pirate":
            shape = f"blocks={len(self.hidden)}, width={self.hidden[0]}"
        else:
            shape = f"hidden=[{', '.join(map(str, self.hidden))}]"
        extra = f", fourier={self.fourier}, sigma={self.sigma:g}" if self.fourier else ""
        if self.factorized is not None:
            extra += (f", factorized=rwf(mean={self.factorized.mean:g}, "
                      f"std={self.factorized.std:g})")
        return (f"{self.form}({shape}, activation={self.activation}, output={self.output}"
                f"{extra})")


@dataclass(frozen=True)
class Periodic:
    """A field periodic in ``coord`` with ``period``: the network sees that coordinate only
    through cos(2 pi k x / period) and sin(2 pi k x / period), k = 1 .. ``harmonics``, so the
    field and all its derivatives agree exactly one period apart."""
    coord: str
    period: float
    harmonics: int = 1


@dataclass(frozen=True)
class Field:
    """An unknown function of ``coords``, represented by a network; ``periodic``: the
    coordinates it is periodic in."""
    name: str
    coords: tuple[str, ...]
    model: Model
    span: Span
    periodic: tuple[Periodic, ...] = ()


@dataclass(frozen=True)
class Param:
    """An unknown scalar trained with the networks; ``init`` is its start value."""
    name: str
    init: float
    span: Span


# --- loss terms ----------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Observations:
    """Measurements from a CSV: ``points`` (N, len(coords)) and ``values`` (N,) of ``field``."""
    path: str
    coords: tuple[str, ...]
    field: str
    points: np.ndarray
    values: np.ndarray


@dataclass(frozen=True, eq=False)
class Table:
    """``table("FILE.csv")``: a function of ``coords`` given on a rectilinear grid, interpolated
    multilinearly. ``axes``: one increasing array (n_i,) per coordinate, n_i >= 2; ``values``
    (n_0, ..., n_{d-1}) at the grid's nodes. In residuals it is ``name(*coords)``, like a
    field; the runtime hands generated code its interpolant among the fields."""
    name: str
    coords: tuple[str, ...]
    axes: tuple[np.ndarray, ...]
    values: np.ndarray
    path: str
    span: Span


def observed_symbol(field: str) -> sympy.Symbol:
    """The symbol that stands for the measured value of ``field`` in a data term's residual
    (its name cannot be written in the language, so it never clashes with a user's name)."""
    return sympy.Symbol(f"{field}@observed", real=True)


def normal_symbol(coord: str) -> sympy.Symbol:
    """The symbol for the component along ``coord`` of the outward unit normal at a boundary
    point, as ``dn(u)`` expands to ``sum(normal_symbol(c) * D(u, c))``."""
    return sympy.Symbol(f"{coord}@normal", real=True)


@dataclass(frozen=True)
class Integral:
    """``integral(integrand, region)`` inside an equation: a scalar per batch, which appears in
    the term's residual as ``symbol``."""
    symbol: sympy.Symbol
    integrand: sympy.Expr
    region: Region
    points: int | None = None


@dataclass(frozen=True)
class Term:
    """One summand of the loss.

    kind ``pde``, ``bc``, ``ic``: ``weight * mean(residual**2)`` over points of ``region``.
    kind ``minimize``: ``weight * measure(region) * mean(residual)``, the Monte Carlo estimate
    of ``integral(residual, region)``; ``residual`` is then the integrand.
    kind ``data``: ``weight * mean(residual**2)`` at the measured points of ``data`` (no region);
    the residual is ``u(x, t) - observed_symbol("u")``.
    ``points`` is the term's own number of points, or None for the option's default.
    """
    label: str
    kind: str
    residual: sympy.Expr
    region: Region | None
    weight: float
    points: int | None
    source: str
    span: Span
    data: Observations | None = None
    integrals: tuple[Integral, ...] = ()

    @property
    def uses_normals(self) -> bool:
        return any("@normal" in s.name for s in self.residual.free_symbols)

    @property
    def coords(self) -> tuple[str, ...]:
        """The coordinates of this term's points, in the order of their columns."""
        return self.data.coords if self.data is not None else self.region.coords


@dataclass(frozen=True)
class Exact:
    """A known solution of a field, for error reports only: a formula (``expr``) or reference
    values from a CSV (``data``)."""
    field: str
    expr: sympy.Expr | None
    span: Span
    data: Observations | None = None


@dataclass(frozen=True)
class Derived:
    """A `let` whose value involves fields and that an `exact` names (``let u = x*(1 - x)*w``,
    ``exact u = ...``): computed from the trained fields, and reported (errors, plots,
    ``pinnc eval``) like a field. ``coords``: those it depends on, in the program's order."""
    name: str
    coords: tuple[str, ...]
    expr: sympy.Expr
    span: Span


# --- options -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Phase:
    """One optimizer in a ``then`` chain, e.g. ``adam(steps=1000, lr=1e-3)``."""
    name: str
    steps: int
    settings: tuple[tuple[str, float], ...] = ()

    def get(self, key: str, default: float) -> float:
        return dict(self.settings).get(key, default)


@dataclass(frozen=True)
class Refine:
    """``rar(every=N, points=K)``: every N steps, add the K candidate points with the largest
    residual to each `pde` term's points (`runtime/training/points.py`)."""
    every: int
    points: int


@dataclass(frozen=True)
class Weighting:
    """``gradnorm(every=N, smoothing=a)``: every N steps, set each term's adaptive weight to
    (sum of every term's gradient norm) / (its own), smoothed as a*old + (1-a)*new."""
    every: int = 100
    smoothing: float = 0.9


@dataclass(frozen=True)
class Causal:
    """``causal(epsilon=e, slices=M)``: a pde term over time takes its mean square per time
    slice (M slices of t), slice i weighted by exp(-e * the sum of the earlier slices' mean
    squares), so that later times are fitted only once earlier ones are."""
    epsilon: float = 1.0
    slices: int = 32


@dataclass(frozen=True)
class Options:
    points: int = 2000
    boundary_points: int = 400
    sampler: str = "sobol"
    resample_every: int = 0
    refine: Refine | None = None
    weighting: Weighting | None = None
    # () until analysis picks the default for the program (`default_optimizer`).
    optimizer: tuple[Phase, ...] = ()
    precision: str = "float64"
    seed: int = 0
    model: Model = Model()
    time_limit: float | None = None  # seconds of training, compilation excluded
    # the options the program left unset that `defaults.choose` chose, each with why
    chosen: tuple[tuple[str, str], ...] = ()
    causal: Causal | None = None
    devices: str | int = "all"  # devices the points are split over: "all" or a number

    def points_in(self, region: Region, points: int | None = None) -> int:
        """How many points a term or integral on ``region`` gets: the listed points of an
        ``at`` region, else its own ``points``, else ``boundary_points`` on a boundary and
        ``points`` inside."""
        if region.points is not None:
            return len(region.points)
        return points or (self.boundary_points if region.on_boundary else self.points)


# The default optimizer: natural gradient where every term is a mean square (it reaches errors
# orders of magnitude below L-BFGS in the same time), else Adam then L-BFGS (engd takes only
# some minimize terms). Measured in bench/optimizers.py and bench/accuracy.py; see README.md.
LEAST_SQUARES_DEFAULT = (Phase("engd", 5000, (("damping", 1e-6), ("adaptive", 1.0))),)
GENERAL_DEFAULT = (Phase("adam", 1000, (("lr", 1e-3),)), Phase("lbfgs", 5000, (("memory", 10.0),)))

# Where a program trains with engd and does not set these, they default to a smaller network
# and fewer points than `Options`: one Gauss–Newton step costs about M·P² (M residuals, P
# parameters), and on the examples many cheap steps reach lower errors in the same time than
# few dear ones (bench/optimizers.py, README.md: Poisson 2-D at 120 s, 1×64 with 1000 + 200
# points 6e-8, 3×32 with 2000 + 400 points 8e-7). ENGD's published results use such networks.
NATURAL_GRADIENT_DEFAULTS = {"model": Model(hidden=(64,)), "points": 1000, "boundary_points": 200}


def default_optimizer(minimizes: bool) -> tuple[Phase, ...]:
    """The optimizer of a program that sets none; ``minimizes``: it has a minimize term."""
    return GENERAL_DEFAULT if minimizes else LEAST_SQUARES_DEFAULT


# --- the batch -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class EntryLayout:
    """What a term's batch entry (`runtime/model/batch.py`'s ``Entry``) holds beside its
    points and measure; ``integrals``: the layout of each integral's own entry."""
    normals: bool
    observed: bool
    masked: bool
    integrals: tuple["EntryLayout", ...] = ()


# --- the whole program ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """A checked program: everything code generation and the runtime need."""
    name: str
    coords: tuple[str, ...]
    domains: tuple[NamedDomain, ...]
    fields: tuple[Field, ...]
    params: tuple[Param, ...]
    terms: tuple[Term, ...]
    exact: tuple[Exact, ...]
    options: Options
    source_text: str = field(repr=False, default="")
    derived: tuple[Derived, ...] = ()
    tables: tuple[Table, ...] = ()

    def point_sets(self) -> tuple[tuple[str, ...], ...]:
        """The labels of the terms that share one set of points, in the order of the terms:
        terms on the same region with the same number of points are sampled once, and their
        residuals are computed together so that each derivative of a field is taken once for
        all of them. A data term (its own measured points) or a term holding integrals keeps
        its points to itself."""
        sets: list[tuple[object, list[str]]] = []
        for term in self.terms:
            if term.data is not None or term.integrals:
                sets.append((None, [term.label]))
                continue
            key = (term.region, self.options.points_in(term.region, term.points))
            found = next((labels for k, labels in sets if k is not None and k == key), None)
            if found is None:
                sets.append((key, [term.label]))
            else:
                found.append(term.label)
        return tuple(tuple(labels) for _, labels in sets)

    def wheres(self) -> tuple[Where, ...]:
        """Every distinct `where` condition of the program's regions (terms', then their
        integrals'), in the order of the generated module's ``WHERE`` functions."""
        regions = [r for t in self.terms for r in (t.region, *(i.region for i in t.integrals))]
        return tuple(dict.fromkeys(r.where for r in regions
                                   if r is not None and r.where is not None))

    def entry_layout(self, label: str) -> "EntryLayout":
        """What the batch entry of term ``label`` holds beside its points and measure: normals
        on a boundary, observed values for data, an entry per integral, and a mask where
        training moves points (``resample_every``, ``refine``) and data is not involved."""
        term = next(t for t in self.terms if t.label == label)
        if term.data is not None:
            return EntryLayout(normals=False, observed=True, masked=False)
        moving = bool(self.options.resample_every or self.options.refine)
        integrals = tuple(EntryLayout(i.region.on_boundary, False, moving)
                          for i in term.integrals)
        return EntryLayout(term.region.on_boundary, False, moving, integrals)

    def field_named(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    @property
    def quantities(self) -> tuple[Field | Derived, ...]:
        """What training reports: the fields, then the derived quantities (lets of fields that
        an `exact` names)."""
        return (*self.fields, *self.derived)

    def reported(self, name: str) -> Field | Derived:
        """The field or derived quantity called ``name`` (what an `exact` may name); KeyError
        naming the known ones where there is none."""
        for q in self.quantities:
            if q.name == name:
                return q
        raise KeyError(f"no field {name!r}; fields are "
                       f"{', '.join(q.name for q in self.quantities)}")

    def field_function(self, name: str) -> sympy.Expr:
        """The applied SymPy function that stands for field ``name`` in residuals."""
        f = self.field_named(name)
        return sympy.Function(name)(*sympy.symbols(f.coords, real=True))

    def report_domain(self, name: str) -> Domain:
        """The domain on which field (or derived quantity) ``name`` is reported (errors, plots):
        that of the first interior term (`pde`, `minimize ... in D`) that contains it, else of
        the first interior term over its coordinates, else the first declared domain with them.

        Not simply the first declared domain: in ``domain L = Square - Hole`` the equations
        hold in L, and Square is only a building block."""
        f = self.reported(name)
        wanted = set(f.coords)
        interior = [t for t in self.terms if t.region is not None
                    and not t.region.on_boundary and t.region.points is None
                    and wanted <= set(t.region.coords)]
        names = ({a.func.__name__ for a in f.expr.atoms(AppliedUndef)}
                 if isinstance(f, Derived) else {f.name})
        uses = [t for t in interior
                if any(a.func.__name__ in names for a in t.residual.atoms(AppliedUndef))]
        for term in uses + interior:
            return term.region.domain
        return next(d.domain for d in self.domains if wanted <= set(d.domain.coords))


def coordinate_symbols(coords: tuple[str, ...]) -> tuple[sympy.Symbol, ...]:
    """The SymPy symbols used for coordinates everywhere in the IR."""
    return tuple(sympy.Symbol(c, real=True) for c in coords)
