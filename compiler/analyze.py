"""Stage 2: syntax tree -> `ir.Problem`. Resolves names, coordinates, domains, regions and
options, and builds each term's SymPy residual. Every mistake is a `SpecError` at its place.
"""
from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Sequence

import numpy as np
import sympy

from . import ir
from . import syntax as s
from .errors import Span, SpecError, did_you_mean
from .expressions import (MAX_DERIVATIVE_ORDER, RESERVED, Scope, Translator, check_size,
                          constant)
from .limits import (MAX_COMPARISONS, MAX_EXPRESSION_NODES, MAX_FIELDS, MAX_POLYGON_VERTICES,
                     MAX_TERMS)
from .tables import read_table
from .options import MAX_POINTS, integer, literal, model as read_model, options as read_options

_BOUNDARY = "boundary"
# Names that are never called may be D: the derivative is always called, D(u, x), so a use of D
# without arguments is the domain, let or param. A field may not: its values are called.
_MAY_BE_D = ("domain", "let", "param")
# The columns of a run's history.csv besides one per term label (runtime/train.py).
_HISTORY_COLUMNS = ("step", "loss")
# The statements that add terms to the loss.
_TERM_STATEMENTS = (s.Equation, s.Minimize, s.DataDecl)
# What SymPy gives for an undefined or infinite value (the derivative of 0^y, say).
_UNDEFINED = (sympy.nan, sympy.zoo, sympy.oo, -sympy.oo)


def analyze(program: s.Program, overrides: Sequence[s.SetOption] = ()) -> ir.Problem:
    """Check a parsed program and build its IR. Raises `SpecError` located in the program."""
    analysis = _Analysis(program, overrides)
    try:
        return analysis.run()
    except SpecError as error:
        raise error.located(program.source, program.filename) from None
    except RecursionError:
        span = analysis.statement.span if analysis.statement else None
        raise SpecError("expression nested too deeply", span).located(
            program.source, program.filename) from None


class _Analysis:
    def __init__(self, program: s.Program, overrides: Sequence[s.SetOption]):
        self.program = program
        self.overrides = overrides
        self.declared: dict[str, tuple[str, Span]] = {}
        self.domains: dict[str, ir.NamedDomain] = {}
        self.coords: dict[str, sympy.Symbol] = {}
        self.fields: dict[str, ir.Field] = {}
        self.params: dict[str, ir.Param] = {}
        self.lets: dict[str, s.Let] = {}
        self.derived: dict[str, ir.Derived] = {}  # lets of fields that an exact names
        self.let_values: dict[str, sympy.Expr] = {}
        self.bounding_boxes: dict = {}  # of the domains built (ir.bounding_box's memory)
        # What names mean in expressions, kept up to date as declarations are read (a scope
        # per expression built anew would cost O(lets + fields) each time).
        self.field_values: dict[str, sympy.Expr] = {}
        self.param_symbols: dict[str, sympy.Symbol] = {}
        self.let_thunks: dict[str, object] = {}
        self.resolving: list[str] = []
        self.statement: s.Statement | None = None  # the one being checked, for RecursionError

    def of_type(self, kind):
        """The statements of one kind, in order; each is `statement` while it is worked on."""
        for statement in self.program.statements:
            if isinstance(statement, kind):
                self.statement = statement
                yield statement

    def run(self) -> ir.Problem:
        minimizes = any(isinstance(st, s.Minimize) for st in self.program.statements)
        options = read_options(self.of_type(s.SetOption), self.overrides, minimizes)
        kinds = {s.Let: "let", s.ParamDecl: "param", s.DomainDecl: "domain", s.FieldDecl: "field"}
        for statement in self.program.statements:  # in source order: a clash names the later
            if type(statement) in kinds:
                self.declare(statement.name, kinds[type(statement)])
        for statement in self.of_type(s.Let):
            self.lets[statement.name.id] = statement
            self.let_thunks[statement.name.id] = functools.partial(self.let_value,
                                                                   statement.name.id)
        term_statements = [st for st in self.program.statements
                           if isinstance(st, _TERM_STATEMENTS)]
        if len(term_statements) > MAX_TERMS:  # refused before any is built
            raise _too_many_terms(term_statements[MAX_TERMS].span)
        let_order = self.check_sizes()
        self.collect_coordinates()
        for statement in self.of_type(s.DomainDecl):
            domain = self.domain(statement.domain)
            self.domains[statement.name.id] = ir.NamedDomain(statement.name.id, domain, statement.span)
        for statement in self.of_type(s.ParamDecl):
            value = constant(self.translator("in a param's start value").scalar(statement.value),
                             statement.value.span, "a number (the start value)")
            self.params[statement.name.id] = ir.Param(statement.name.id, value, statement.span)
            self.param_symbols[statement.name.id] = sympy.Symbol(statement.name.id, real=True)
        for statement in self.of_type(s.FieldDecl):
            if len(self.fields) == MAX_FIELDS:
                raise SpecError(f"more than {MAX_FIELDS:,} fields: at most {MAX_FIELDS:,} are "
                                f"supported in a program", statement.name.span)
            field = self.fields[statement.name.id] = self.field(statement, options.model)
            self.field_values[field.name] = sympy.Function(field.name)(
                *(self.coords[c] for c in field.coords))
        for name in let_order:  # every let is checked, used or not; in an order that needs
            self.statement = self.lets[name]  # no recursion from one let into the next
            self.let_value(name)
        terms = self.terms()
        exact = tuple(self.exact(st) for st in self.of_type(s.ExactDecl))
        if not self.fields:
            raise SpecError("the program declares no field: add e.g. 'field u(x, y)'",
                            Span(1, 1))
        if not terms:
            raise SpecError("the program has nothing to train: add a pde, bc, ic or minimize "
                            "statement", Span(1, 1))
        return ir.Problem(
            name=_stem(self.program.filename), coords=tuple(self.coords),
            domains=tuple(self.domains.values()), fields=tuple(self.fields.values()),
            params=tuple(self.params.values()), terms=terms, exact=exact, options=options,
            source_text=self.program.source, derived=tuple(self.derived.values()))

    # --- names ---
    def declare(self, name: s.Name, kind: str) -> None:
        if name.id in RESERVED and not (name.id == "D" and kind in _MAY_BE_D):
            raise SpecError(f"'{name.id}' is a built-in name and cannot be redefined"
                            + (f" as a {kind} (a domain, let or param may be called D)"
                               if name.id == "D" else ""), name.span)
        if name.id in self.declared:
            earlier, span = self.declared[name.id]
            raise SpecError(f"'{name.id}' is already declared as a {earlier} on line {span.line}",
                            name.span)
        self.declared[name.id] = (kind, name.span)

    def collect_coordinates(self) -> None:
        """Coordinates are the names bound by ``x in [a, b]`` in domain constructors."""
        def visit(node):
            if isinstance(node, s.DomainOp):
                visit(node.left), visit(node.right)
            elif isinstance(node, s.Call):
                names = [r.name for r in node.ranges]
                if node.func.id in ("ball", "polygon") and node.args:
                    first = node.args[0]
                    names += list(first.items) if isinstance(first, s.Tuple) else [first]
                for name in names:
                    if not isinstance(name, s.Name):
                        raise SpecError("expected a coordinate name", name.span)
                    if name.id not in self.coords:
                        if name.id in RESERVED:
                            self.declare(name, "coordinate")  # raises the right message
                        if name.id in self.declared:
                            kind, span = self.declared[name.id]
                            raise SpecError(f"the {kind} '{name.id}' has the name of a "
                                            f"coordinate ('{name.id}' in the domain on line "
                                            f"{name.span.line}): give the {kind} another name",
                                            span)
                        self.declared[name.id] = ("coordinate", name.span)
                        self.coords[name.id] = sympy.Symbol(name.id, real=True)
        for statement in self.of_type(s.DomainDecl):
            visit(statement.domain)
        for statement in self.of_type(s.Equation):
            visit(statement.region.domain)

    def check_sizes(self) -> list[str]:
        """Refuse an expression that, with the lets it uses written out, has more than
        MAX_EXPRESSION_NODES nodes (lets that double at each step grow without end), before
        SymPy builds it. Returns the lets in an order where each follows those it uses."""
        order, sizes = _let_order(self.lets)
        for statement in self.program.statements:
            for nodes, span in _expression_parts(statement):
                size = sum(s.expanded_size(node, sizes) for node in nodes)
                if size > MAX_EXPRESSION_NODES:
                    raise SpecError(f"this expression is too large: written out with the lets "
                                    f"it uses, it has {size:,} nodes (the limit on an expression "
                                    f"is {MAX_EXPRESSION_NODES:,})", span)
        return order

    def scope(self, where: str, integral=None, normals=None) -> Scope:
        return Scope(self.coords, self.field_values, self.param_symbols, self.let_thunks,
                     integral=integral, where=where, normals=normals)

    def translator(self, where: str, integral=None, normals=None) -> Translator:
        return Translator(self.scope(where, integral, normals))

    def let_value(self, name: str) -> sympy.Expr:
        if name in self.let_values:
            return self.let_values[name]
        statement = self.lets[name]
        if name in self.resolving:
            cycle = " -> ".join(self.resolving[self.resolving.index(name):] + [name])
            raise SpecError(f"'let {name}' refers to itself: {cycle}", statement.name.span)
        self.resolving.append(name)
        try:
            value = self.translator("in a let").scalar(statement.value)
        finally:
            self.resolving.pop()
        self.let_values[name] = value
        return value

    # --- domains and fields ---
    def domain(self, node: s.DomainExpr) -> ir.Domain:
        if isinstance(node, s.Name):
            if node.id not in self.domains:
                raise SpecError(f"unknown domain '{node.id}'{did_you_mean(node.id, self.domains)}",
                                node.span)
            return self.domains[node.id].domain
        if isinstance(node, s.DomainOp):
            left, right = self.domain(node.left), self.domain(node.right)
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
            if ir.bounding_box(combined, self.bounding_boxes) is None:
                raise SpecError(f"this domain is empty: {_why_empty(combined)}", node.span)
            return combined
        if isinstance(node, s.Call) and node.func.id in ("box", "interval"):
            return self.box(node)
        if isinstance(node, s.Call) and node.func.id == "ball":
            return self.ball(node)
        if isinstance(node, s.Call) and node.func.id == "polygon":
            return self.polygon(node)
        known = {"box", "interval", "ball", "polygon"} | set(self.domains)
        hint = did_you_mean(_callee_name(node), known) if _callee_name(node) else ""
        raise SpecError("expected a domain: box(x in [a, b], ...), interval(x in [a, b]), "
                        f"ball(...), polygon(...), or the name of a domain{hint}", node.span)

    def constant(self, node: s.Expr, what: str) -> float:
        return constant(self.translator("in a domain").scalar(node), node.span, what)

    def domain_coordinates(self, node: s.Call, usage: str) -> tuple[str, ...]:
        if not node.args:
            raise SpecError(f"{node.func.id} takes its coordinates first: {usage}", node.span)
        first = node.args[0]
        names = first.items if isinstance(first, s.Tuple) else (first,)
        coords = []
        for name in names:
            if not isinstance(name, s.Name) or name.id not in self.coords:
                raise SpecError(f"expected a coordinate name: {usage}", name.span)
            if name.id in coords:
                raise SpecError(f"coordinate '{name.id}' appears twice", name.span)
            coords.append(name.id)
        return tuple(coords)

    def point(self, node: s.Expr, dim: int, what: str) -> tuple[float, ...]:
        if not isinstance(node, s.Vector) or len(node.items) != dim:
            raise SpecError(f"{what} must be a list of {dim} numbers", node.span)
        return tuple(self.constant(item, "a number") for item in node.items)

    def ball(self, node: s.Call) -> ir.Ball:
        usage = "ball((x, y), center=[0, 0], radius=1)"
        coords = self.domain_coordinates(node, usage)
        if len(node.args) != 1 or node.ranges:
            raise SpecError(f"ball takes coordinates, center= and radius=: {usage}", node.span)
        keywords = {k.name.id: k for k in node.keywords}
        for name, keyword in keywords.items():
            if name not in ("center", "radius"):
                raise SpecError(f"ball has no setting '{name}'"
                                f"{did_you_mean(name, ('center', 'radius'))}", keyword.name.span)
        center = (self.point(keywords["center"].value, len(coords), "center")
                  if "center" in keywords else (0.0,) * len(coords))
        radius = self.constant(keywords["radius"].value, "a number (the radius)") \
            if "radius" in keywords else 1.0
        if radius <= 0:
            raise SpecError("the radius must be positive", keywords["radius"].value.span)
        return ir.Ball(coords, center, radius)

    def polygon(self, node: s.Call) -> ir.Polygon:
        usage = "polygon((x, y), [[0, 0], [1, 0], [0, 1]])"
        coords = self.domain_coordinates(node, usage)
        if len(coords) != 2 or len(node.args) != 2 or node.keywords or node.ranges:
            raise SpecError(f"polygon takes two coordinates and a list of vertices: {usage}",
                            node.span)
        corners = node.args[1]
        if not isinstance(corners, s.Vector) or len(corners.items) < 3:
            raise SpecError(f"polygon needs a list of at least 3 vertices: {usage}", corners.span)
        if len(corners.items) > MAX_POLYGON_VERTICES:
            raise SpecError(f"a polygon of {len(corners.items):,} vertices: at most "
                            f"{MAX_POLYGON_VERTICES:,} are supported", corners.span)
        vertices = tuple(self.point(v, 2, "a vertex") for v in corners.items)
        problem = _polygon_problem(vertices)
        if problem:
            raise SpecError(f"not a simple polygon: {problem}", corners.span)
        return ir.Polygon(coords, vertices)

    def box(self, node: s.Call) -> ir.Box:
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
            translate = self.translator("in a domain").scalar
            low = constant(translate(r.low), r.low.span, "a number (the lower bound)")
            high = constant(translate(r.high), r.high.span, "a number (the upper bound)")
            if not low < high:
                raise SpecError(f"empty range: {low:g} is not below {high:g}", r.span)
            coords.append(r.name.id)
            bounds.append((low, high))
        return ir.Box(tuple(coords), tuple(bounds))

    def field(self, statement: s.FieldDecl, default_model: ir.Model) -> ir.Field:
        if not statement.coords:
            raise SpecError(f"field '{statement.name.id}' needs coordinates: "
                            f"field {statement.name.id}(x, y)", statement.span)
        seen = []
        for coordinate in statement.coords:
            if coordinate.id not in self.coords:
                raise SpecError(f"unknown coordinate '{coordinate.id}'"
                                f"{did_you_mean(coordinate.id, self.coords)}; coordinates are "
                                f"named by domains, e.g. box({coordinate.id} in [0, 1])",
                                coordinate.span)
            if coordinate.id in seen:
                raise SpecError(f"coordinate '{coordinate.id}' appears twice", coordinate.span)
            seen.append(coordinate.id)
        model = read_model(statement.model) if statement.model is not None else default_model
        return ir.Field(statement.name.id, tuple(seen), model, statement.span)

    # --- regions ---
    def region(self, node: s.Region) -> ir.Region:
        return self.make_region(node.domain, node.on_boundary, node.where)

    def make_region(self, domain_node: s.DomainExpr, on_boundary: bool,
                    where: s.Predicate | None) -> ir.Region:
        domain = self.domain(domain_node)
        name = domain_node.id if isinstance(domain_node, s.Name) else _text(self.program, domain_node.span)
        predicate = self.predicate(where, domain) if where is not None else None
        if predicate is not None and not on_boundary and _has_no_volume(predicate):
            raise SpecError("an interior region narrowed by '==' has no volume, so no point of "
                            "it can be sampled: a condition with '==' belongs on a boundary, "
                            "e.g. 'bc ... on boundary(D) where x == 0' (or narrow the interior "
                            "with < or >)", where.span)
        return ir.Region(name, domain, on_boundary, predicate)

    def predicate(self, node: s.Predicate, domain: ir.Domain) -> sympy.Basic:
        comparisons = sum(isinstance(n, s.Compare) for n in s.nodes(node))
        if comparisons > MAX_COMPARISONS:  # SymPy's And and Or compare their terms pairwise
            raise SpecError(f"a condition of {comparisons:,} comparisons: at most "
                            f"{MAX_COMPARISONS:,} are supported after one 'where'", node.span)
        result = self._predicate(node, domain)
        if result is sympy.false:
            raise SpecError("this condition is never true", node.span)
        if _never_in_box(result, domain):
            raise SpecError(f"this condition is never true in {ir.describe(domain)}", node.span)
        return None if result is sympy.true else result

    def _predicate(self, node: s.Predicate, domain: ir.Domain) -> sympy.Basic:
        negated = False
        while isinstance(node, s.Not):  # not not ... p, in a loop
            negated, node = not negated, node.operand
        if isinstance(node, s.BoolOp):
            # A chain p and q and ... is a left-deep tree: one n-ary And (Or), built in a loop.
            parts, link = [], node
            while isinstance(link, s.BoolOp) and link.op == node.op:
                parts.append(link.right)
                link = link.left
            parts.append(link)
            combine = sympy.And if node.op == "and" else sympy.Or
            result = combine(*(self._predicate(part, domain) for part in reversed(parts)))
        else:
            result = self._comparison(node, domain)
        return sympy.Not(result) if negated else result

    def _comparison(self, node: s.Compare, domain: ir.Domain) -> sympy.Basic:
        translate = self.translator("in a condition").scalar
        left, right = translate(node.left), translate(node.right)
        for side, value in ((node.left, left), (node.right, right)):
            if value.has(*_UNDEFINED):
                raise SpecError("this is not a finite real number", side.span)
            if value.atoms(sympy.core.function.AppliedUndef):
                raise SpecError("a condition may use coordinates only, not fields", side.span)
            outside = {str(c) for c in value.free_symbols} - set(domain.coords)
            if outside:
                raise SpecError(f"'{sorted(outside)[0]}' is not a coordinate of this domain "
                                f"({', '.join(domain.coords)})", side.span)
        relation = {"==": sympy.Eq, "<": sympy.Lt, "<=": sympy.Le, ">": sympy.Gt,
                    ">=": sympy.Ge}[node.op]
        # SymPy decides a relation of numbers; with a coordinate its assumptions cannot, but
        # asking them costs milliseconds.
        return relation(left, right, evaluate=not (left - right).free_symbols)

    # --- terms ---
    def terms(self) -> tuple[ir.Term, ...]:
        terms: list[ir.Term] = []
        counters: dict[str, int] = {}
        labels: dict[str, Span] = {}
        for statement in self.program.statements:
            self.statement = statement
            if len(terms) >= MAX_TERMS and isinstance(statement, _TERM_STATEMENTS):
                raise _too_many_terms(statement.span)
            if isinstance(statement, s.Equation):
                kind, label_node = statement.kind, statement.label
            elif isinstance(statement, (s.Minimize, s.DataDecl)):
                kind = "minimize" if isinstance(statement, s.Minimize) else "data"
                counters[kind] = counters.get(kind, 0) + 1
                build = self.minimize if kind == "minimize" else self.data_terms
                for term in build(statement, f"{kind}{counters[kind]}"):
                    if term.label in labels:
                        raise SpecError(f"label '{term.label}' is already used on line "
                                        f"{labels[term.label].line}", statement.span)
                    labels[term.label] = statement.span
                    terms.append(term)
                continue
            else:
                continue
            counters[kind] = counters.get(kind, 0) + 1
            label = label_node.id if label_node else f"{kind}{counters[kind]}"
            span = label_node.span if label_node else statement.span
            if label in _HISTORY_COLUMNS:
                raise SpecError(f"label '{label}' is the name of a column of history.csv "
                                f"({', '.join(_HISTORY_COLUMNS)}, then one column per term): "
                                f"choose another label", span)
            if label in labels:
                raise SpecError(f"label '{label}' is already used on line {labels[label].line}",
                                span)
            labels[label] = span
            terms.append(self.equation(statement, label))
        return tuple(terms)

    def term_options(self, keywords: tuple[s.Keyword, ...]) -> tuple[float, int | None]:
        weight, points, seen = 1.0, None, set()
        for keyword in keywords:
            name = keyword.name.id
            if name in seen:
                raise SpecError(f"'{name}' is given twice", keyword.name.span)
            seen.add(name)
            if name == "weight":
                weight = literal(keyword.value)
                if weight < 0:
                    raise SpecError("weight must not be negative", keyword.value.span)
            elif name == "points":
                points = integer(keyword.value, "points", maximum=MAX_POINTS)
            else:
                raise SpecError(f"unknown term option '{name}'"
                                f"{did_you_mean(name, ('weight', 'points'))}; use weight=... or "
                                f"points=...", keyword.name.span)
        return weight, points

    def equation(self, statement: s.Equation, label: str) -> ir.Term:
        region = self.region(statement.region)
        if statement.kind == "pde" and region.on_boundary:
            raise SpecError("a pde holds in a domain: write 'in D' (use bc for 'on boundary(D)')",
                            statement.region.span)
        if statement.kind in ("bc", "ic") and not region.on_boundary:
            raise SpecError(f"a {statement.kind} holds on a boundary: write 'on boundary(D)'",
                            statement.region.span)
        integrals: list[ir.Integral] = []

        def integral(node: s.Call, translator: Translator) -> sympy.Expr:
            integrand, integral_region = self.integral_parts(node, translator)
            if any("@normal" in str(s_) for s_ in integrand.free_symbols):
                raise SpecError("dn(...) inside an integral is not supported", node.span)
            self.check_term(integrand, integral_region, node.span, need_field=False)
            symbol = sympy.Symbol(f"integral{len(integrals)}@{label}", real=True)
            integrals.append(ir.Integral(symbol, integrand, integral_region))
            return symbol

        normals = ({c: ir.normal_symbol(c) for c in region.coords} if region.on_boundary
                   else None)
        translate = self.translator("here", integral, normals).scalar
        residual = translate(statement.lhs) - translate(statement.rhs)
        self.check_term(residual, region, statement.span, allowed=integrals)
        weight, points = self.term_options(statement.options)
        return ir.Term(label, statement.kind, residual, region, weight, points,
                       _text(self.program, statement.span), statement.span,
                       integrals=tuple(integrals))

    def integral_parts(self, node: s.Call, translator: Translator) -> tuple[sympy.Expr, ir.Region]:
        if not 1 <= len(node.args) <= 2 or node.keywords or node.ranges:
            raise SpecError("integral takes an expression and optionally a region: "
                            "integral(EXPR) or integral(EXPR, D) or integral(EXPR, boundary(D))",
                            node.span)
        inner = Translator(dataclasses.replace(translator.scope, normals=None,
                                               integral=None, where="inside an integral"))
        return inner.scalar(node.args[0]), self.integral_region(node)

    def minimize(self, statement: s.Minimize, label: str) -> list[ir.Term]:
        """A functional: a sum of integrals with constant factors. One term per region its
        integrals are over (an energy and its boundary penalty: two), each on its own points."""
        integrals: list[tuple[sympy.Symbol, sympy.Expr, ir.Region, Span]] = []

        def integral(node: s.Call, translator: Translator) -> sympy.Expr:
            integrand, region = self.integral_parts(node, translator)
            placeholder = sympy.Dummy(f"integral{len(integrals)}")
            integrals.append((placeholder, integrand, region, node.span))
            return placeholder

        functional = self.translator("here", integral).scalar(statement.expr)
        if not integrals:
            raise SpecError("minimize takes integrals, e.g. minimize integral(Dx(u)^2)",
                            statement.expr.span)
        placeholders = [i[0] for i in integrals]
        try:
            poly = sympy.Poly(functional, *placeholders) if functional.free_symbols else None
        except sympy.PolynomialError:  # an integral inside a function: sqrt(integral(u))
            poly = None
        if (poly is None or poly.total_degree() != 1 or poly.coeff_monomial(1) != 0
                or any(c.free_symbols for c in poly.coeffs())):
            raise SpecError("minimize takes a sum of integrals with constant factors, e.g. "
                            "integral(a) - 2*integral(b)", statement.expr.span)
        parts: dict[ir.Region, sympy.Expr] = {}  # one sum of integrands per region
        for placeholder, part, region, _ in integrals:
            parts[region] = parts.get(region, sympy.Integer(0)) + poly.coeff_monomial(placeholder) * part
        weight, points = self.term_options(statement.options)
        text = _text(self.program, statement.span)
        terms = []
        for name, (region, integrand) in zip(_part_labels(label, list(parts)), parts.items()):
            self.check_term(integrand, region, statement.span)
            terms.append(ir.Term(name, "minimize", integrand, region, weight, points, text,
                                 statement.span))
        return terms

    def data_terms(self, statement: s.DataDecl, label: str) -> list[ir.Term]:
        """One term per field column of the CSV: that field's misfit at the measured points."""
        path = _relative_path(self.program.filename, statement.path.value)
        table = read_table(path, statement.path.span)
        header = table.header
        for name in header:
            if name not in self.coords and name not in self.fields:
                raise SpecError(f"{path.name}: column '{name}' is neither a coordinate nor a field"
                                f"{did_you_mean(name, set(self.coords) | set(self.fields))}",
                                statement.path.span)
        coords = tuple(c for c in self.coords if c in header)
        fields = [f for f in self.fields if f in header]
        if not fields:
            raise SpecError(f"{path.name}: no column names a field ({', '.join(self.fields)})",
                            statement.path.span)
        weight, points = self.term_options(statement.options)
        if points is not None:
            raise SpecError("a data term uses the points of its file; 'points' does not apply",
                            statement.span)
        terms = []
        for name in fields:
            missing = [c for c in self.fields[name].coords if c not in coords]
            if missing:
                raise SpecError(f"{path.name}: field {name} needs column '{missing[0]}'",
                                statement.path.span)
            observations = ir.Observations(
                str(path), coords, name, table.columns([header.index(c) for c in coords]),
                table.columns([header.index(name)])[:, 0])
            residual = (sympy.Function(name)(*(self.coords[c] for c in self.fields[name].coords))
                        - ir.observed_symbol(name))
            terms.append(ir.Term(label if len(fields) == 1 else f"{label}_{name}", "data",
                                 residual, None, weight, None,
                                 _text(self.program, statement.span), statement.span,
                                 data=observations))
        return terms

    def integral_region(self, node: s.Call) -> ir.Region:
        if len(node.args) == 2:
            where = node.args[1]
            if isinstance(where, s.Call) and where.func.id == _BOUNDARY:
                if len(where.args) != 1:
                    raise SpecError("boundary takes one domain: boundary(D)", where.span)
                return self.make_region(where.args[0], True, None)
            return self.make_region(where, False, None)
        if len(self.domains) != 1:
            raise SpecError("integral over which domain? Write integral(EXPR, D)", node.span)
        only = next(iter(self.domains.values()))
        return ir.Region(only.name, only.domain, False, None)

    def check_term(self, residual: sympy.Expr, region: ir.Region, span: Span,
                   allowed: Sequence[ir.Integral] = (), need_field: bool = True) -> None:
        check_size(residual, span, "this term")
        fields = residual.atoms(sympy.core.function.AppliedUndef)
        order = max((sum(int(c) for _, c in d.variable_count)
                     for d in residual.atoms(sympy.Derivative)), default=0)
        if order > MAX_DERIVATIVE_ORDER:
            raise SpecError(f"a derivative of order {order}; at most {MAX_DERIVATIVE_ORDER} is "
                            f"supported", span)
        if residual.has(*_UNDEFINED):
            raise SpecError("this term holds an undefined or infinite value (e.g. the "
                            "derivative of 0^y)", span)
        if need_field and not fields and not allowed:
            raise SpecError("this term involves no field, so training cannot change it", span)
        for f in fields:
            missing = [str(a) for a in f.args if str(a) not in region.coords]
            if missing:
                raise SpecError(f"field '{f.func}' depends on '{missing[0]}', which is not a "
                                f"coordinate of the region ({', '.join(region.coords)})", span)
        outside = ({str(c) for c in residual.free_symbols} - set(region.coords) - set(self.params)
                   - {str(i.symbol) for i in allowed}
                   - {str(ir.normal_symbol(c)) for c in region.coords})
        if outside:
            raise SpecError(f"'{sorted(outside)[0]}' is not a coordinate of the region "
                            f"({', '.join(region.coords)})", span)

    def exact(self, statement: s.ExactDecl) -> ir.Exact:
        name = statement.name
        if name.id in self.fields:
            coords = self.fields[name.id].coords
        elif name.id in self.lets:
            if statement.expr is None:
                raise SpecError(f"'exact {name.id}' reads a file only for a field; for the let "
                                f"'{name.id}' give a formula", name.span)
            coords = self.derive(name).coords
        else:
            lets = [n for n in self.lets if self.let_value(n).atoms(
                sympy.core.function.AppliedUndef)]
            raise SpecError(f"'exact' names a field or a let of fields; '{name.id}' is neither"
                            f"{did_you_mean(name.id, [*self.fields, *lets])}", name.span)
        if statement.expr is None:
            return self.exact_from_file(statement)
        value = self.translator("in an exact solution").scalar(statement.expr)
        check_size(value, statement.expr.span)
        if value.atoms(sympy.core.function.AppliedUndef) or value.free_symbols & {
                sympy.Symbol(p, real=True) for p in self.params}:
            raise SpecError("an exact solution may use coordinates and constants only",
                            statement.expr.span)
        outside = {str(c) for c in value.free_symbols} - set(coords)
        if outside:
            what = "field" if name.id in self.fields else "let"
            raise SpecError(f"'{sorted(outside)[0]}' is not a coordinate of {what} '{name.id}' "
                            f"({', '.join(coords)})", statement.expr.span)
        return ir.Exact(name.id, value, statement.span)

    def derive(self, name: s.Name) -> ir.Derived:
        """The let ``name`` as a quantity computed from the fields (an `exact` names it)."""
        if name.id in self.derived:
            return self.derived[name.id]
        value = self.let_value(name.id)
        fields = {str(f.func) for f in value.atoms(sympy.core.function.AppliedUndef)}
        if not fields:
            raise SpecError(f"'let {name.id}' involves no field: its exact value is known "
                            f"without training; 'exact' names a field or a let of fields",
                            name.span)
        used = {str(c) for c in value.free_symbols} | {
            c for f in fields for c in self.fields[f].coords}
        coords = tuple(c for c in self.coords if c in used)
        statement = self.lets[name.id]
        self.derived[name.id] = ir.Derived(name.id, coords, value, statement.span)
        return self.derived[name.id]

    def exact_from_file(self, statement: s.ExactDecl) -> ir.Exact:
        field = self.fields[statement.name.id]
        path = _relative_path(self.program.filename, statement.path.value)
        table = read_table(path, statement.path.span)
        _exact_columns(table, field, path, statement.path.span)
        header = list(table.header)
        reference = ir.Observations(
            str(path), field.coords, field.name,
            table.columns([header.index(c) for c in field.coords]),
            table.columns([header.index(field.name)])[:, 0])
        return ir.Exact(field.name, None, statement.span, data=reference)


def _expression_parts(statement: s.Statement) -> list[tuple[tuple, Span]]:
    """The expressions of a statement that SymPy builds, each as (its nodes, where to point).
    Domains are left out: each of their numbers is translated alone."""
    if isinstance(statement, s.Equation):
        parts = [((statement.lhs, statement.rhs), statement.span)]
        if statement.region.where is not None:
            parts.append(((statement.region.where,), statement.region.where.span))
        return parts
    if isinstance(statement, (s.Let, s.ParamDecl)):
        return [((statement.value,), statement.span)]
    if isinstance(statement, s.Minimize):
        return [((statement.expr,), statement.span)]
    if isinstance(statement, s.ExactDecl) and statement.expr is not None:
        return [((statement.expr,), statement.span)]
    if isinstance(statement, s.SetOption):
        return [((value,), value.span) for value in statement.values]
    return []


def _let_order(lets: dict[str, s.Let]) -> tuple[list[str], dict[str, int]]:
    """The lets in an order where each follows the lets it uses, and each let's size written
    out in full (`syntax.expanded_size`). A let that refers to itself is refused here."""
    uses = {name: [n for n in s.names_used(let.value) if n in lets] for name, let in lets.items()}
    order, sizes = [], {}
    for root in lets:  # a depth-first walk with a stack of its own: chains may be long
        path, pending = [root], [iter(uses[root])] if root not in sizes else []
        while pending:
            used = next(pending[-1], None)
            if used is None:
                name = path.pop()
                pending.pop()
                sizes[name] = s.expanded_size(lets[name].value, sizes)
                order.append(name)
            elif used in path:
                cycle = " -> ".join(path[path.index(used):] + [used])
                raise SpecError(f"'let {used}' refers to itself: {cycle}", lets[used].name.span)
            elif used not in sizes:
                path.append(used)
                pending.append(iter(uses[used]))
    return order, sizes


def _text(program: s.Program, span: Span) -> str:
    """The source text of a span (single line: up to its end; else the first line)."""
    line = program.source.split("\n")[span.line - 1]  # lines as the parser counts them
    end = span.end_column - 1 if span.end_line == span.line and span.end_column else len(line)
    return " ".join(line[span.column - 1:end].split())


def _exact_columns(table, field: ir.Field, path: Path, span: Span) -> None:
    for name in table.header:
        if name not in field.coords and name != field.name:
            raise SpecError(f"{path.name}: column '{name}' is neither a coordinate of "
                            f"{field.name} nor {field.name}"
                            f"{did_you_mean(name, (*field.coords, field.name))}", span)
    for name in (*field.coords, field.name):
        if name not in table.header:
            raise SpecError(f"{path.name}: no column '{name}'; the header must name "
                            f"{', '.join((*field.coords, field.name))}", span)


_MOST_RELATIONS_TRIED = 20
# Edges of a polygon tested against all others at once in the simple-polygon test.
_CROSSING_BLOCK = 256


def _never_in_box(predicate: sympy.Basic, domain: ir.Domain) -> bool:
    """Whether a condition on one coordinate of a box, linear in it, holds nowhere in the box
    (``where x > 2`` on x in [0, 1]). Other conditions are left to the sampler.

    Its truth changes only at the roots of its relations, so trying the ends of the range,
    the roots in it and the points between them settles it. Past _MOST_RELATIONS_TRIED
    relations (each point tried costs them all) the condition is left to the sampler too."""
    if not isinstance(domain, ir.Box) or len(predicate.free_symbols) != 1:
        return False
    relations = predicate.atoms(sympy.core.relational.Relational)
    if len(relations) > _MOST_RELATIONS_TRIED:
        return False
    (symbol,) = predicate.free_symbols
    low, high = domain.bounds[domain.coords.index(str(symbol))]
    slack = 1e-9 * max(1.0, abs(low), abs(high))
    points = [sympy.Float(low), sympy.Float(high)]
    try:
        for relation in relations:
            difference = relation.lhs - relation.rhs
            slope = sympy.diff(difference, symbol)
            if slope.has(symbol):  # not linear
                return False
            if slope != 0:
                root = -difference.subs(symbol, 0) / slope
                if low - slack <= root <= high + slack:
                    points.append(root)
        points.sort(key=float)
        points += [(a + b) / 2 for a, b in zip(points, points[1:])]
        return not any(predicate.subs(symbol, p) is sympy.true for p in points)
    except TypeError:  # undefined at a point tried (0^y at y = 0): left to the sampler
        return False


def _why_empty(domain: ir.Combination) -> str:
    """Why an intersection or difference of non-empty domains has no volume."""
    if domain.op == "difference":
        return "the part taken away covers all of it"
    left, right = ir.bounding_box(domain.left), ir.bounding_box(domain.right)
    for coord, (a, b), (c, d) in zip(domain.coords, left, right):
        if max(a, c) >= min(b, d):
            return (f"its two sides share no volume ({coord} spans [{a:g}, {b:g}] in one and "
                    f"[{c:g}, {d:g}] in the other)")
    return "its two sides share no volume"


def _too_many_terms(span: Span) -> SpecError:
    return SpecError(f"more than {MAX_TERMS:,} terms: at most {MAX_TERMS:,} are supported in "
                     f"a program", span)


def _has_no_volume(predicate: sympy.Basic) -> bool:
    """Whether a condition certainly holds only on a set of zero volume: an equality, a
    conjunction with one, or a disjunction of such (the runtime cannot sample it inside)."""
    if isinstance(predicate, sympy.Eq):
        return True
    if isinstance(predicate, sympy.And):
        return any(_has_no_volume(p) for p in predicate.args)
    if isinstance(predicate, sympy.Or):
        return all(_has_no_volume(p) for p in predicate.args)
    return False


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


def _part_labels(label: str, regions: list[ir.Region]) -> list[str]:
    """Labels of a minimize's parts: its own label for one region, else the label and each
    region (``minimize1_Omega``, ``minimize1_boundary_Omega``), numbered where that is not unique."""
    if len(regions) == 1:
        return [label]
    names = [f"{label}_{'boundary_' if r.on_boundary else ''}{r.domain_name}" for r in regions]
    if len(set(names)) < len(names) or not all(r.domain_name for r in regions):
        return [f"{label}_{k}" for k in range(1, len(regions) + 1)]
    return names


def _relative_path(spec: str, name: str) -> Path:
    """A file named in a program: relative to the program's folder (or the working folder)."""
    path = Path(name)
    return path if path.is_absolute() else Path(spec).parent / path


def _stem(filename: str) -> str:
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    return base[:-4] if base.endswith(".pde") else base
