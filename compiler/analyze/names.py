"""The program's names: declarations, coordinates, fields, lets (their order and values) and the
`Context` that says what every name means, which the other parts of analysis read and fill in."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import sympy

from .. import ir
from .. import syntax as s
from ..errors import Span, SpecError, did_you_mean
from ..expressions import RESERVED, Scope, Translator
from ..limits import MAX_EXPRESSION_NODES
from ..options import model as read_model
from .tables import table_value

# Names that are never called may be D: the derivative is always called, D(u, x), so a use of D
# without arguments is the domain, let or param. A field may not: its values are called.
_MAY_BE_D = ("domain", "let", "param")


@dataclass
class Context:
    """What analysis knows of a program so far, filled in as its declarations are read, and the
    statement being checked (for the message of an expression nested too deeply)."""
    program: s.Program
    declared: dict[str, tuple[str, Span]] = field(default_factory=dict)
    domains: dict[str, ir.NamedDomain] = field(default_factory=dict)
    coords: dict[str, sympy.Symbol] = field(default_factory=dict)
    fields: dict[str, ir.Field] = field(default_factory=dict)
    params: dict[str, ir.Param] = field(default_factory=dict)
    lets: dict[str, s.Let] = field(default_factory=dict)
    derived: dict[str, ir.Derived] = field(default_factory=dict)  # lets of fields an exact names
    tables: dict[str, ir.Table] = field(default_factory=dict)  # by name, as read (`tables`)
    let_values: dict[str, sympy.Expr] = field(default_factory=dict)
    bounding_boxes: dict = field(default_factory=dict)  # of the domains built (ir.bounding_box's)
    extent: dict = field(default_factory=dict)  # coordinate -> (low, high) over the domains
    # What names mean in expressions, kept up to date as declarations are read (a scope per
    # expression built anew would cost O(lets + fields) each time).
    field_values: dict[str, sympy.Expr] = field(default_factory=dict)
    param_symbols: dict[str, sympy.Symbol] = field(default_factory=dict)
    let_thunks: dict[str, object] = field(default_factory=dict)
    resolving: list[str] = field(default_factory=list)
    statement: s.Statement | None = None

    def of_type(self, kind):
        """The statements of one kind, in order; each is `statement` while it is worked on."""
        for statement in self.program.statements:
            if isinstance(statement, kind):
                self.statement = statement
                yield statement

    def text(self, span: Span) -> str:
        """The source text of a span (single line: up to its end; else the first line)."""
        line = self.program.source.split("\n")[span.line - 1]  # lines as the parser counts them
        end = span.end_column - 1 if span.end_line == span.line and span.end_column else len(line)
        return " ".join(line[span.column - 1:end].split())

    def translator(self, where: str, integral=None, normals=None) -> Translator:
        return Translator(Scope(self.coords, self.field_values, self.param_symbols,
                                self.let_thunks, integral=integral, where=where, normals=normals,
                                extent=self.extent,
                                table=functools.partial(table_value, self)))

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

    def add_let(self, statement: s.Let) -> None:
        """Make a let's name known; its value is built when first used (`let_value`)."""
        self.lets[statement.name.id] = statement
        self.let_thunks[statement.name.id] = functools.partial(self.let_value, statement.name.id)

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

    def add_field(self, field_: ir.Field) -> None:
        self.fields[field_.name] = field_
        self.field_values[field_.name] = sympy.Function(field_.name)(
            *(self.coords[c] for c in field_.coords))

    def add_param(self, param: ir.Param) -> None:
        self.params[param.name] = param
        self.param_symbols[param.name] = sympy.Symbol(param.name, real=True)


def collect_coordinates(context: Context) -> None:
    """Coordinates are the names bound by ``x in [a, b]`` in domain constructors."""
    def visit(node):
        if isinstance(node, s.DomainOp):
            visit(node.left), visit(node.right)
        elif isinstance(node, s.Call):
            for name in _bound_names(node):
                _add_coordinate(context, name)
    for statement in context.of_type(s.DomainDecl):
        visit(statement.domain)
    for statement in context.of_type(s.Equation):
        visit(statement.region.domain)


def _bound_names(node: s.Call) -> list[s.Expr]:
    """The names a domain constructor binds: its ranges' and, for ball and polygon, its first
    argument's."""
    names = [r.name for r in node.ranges]
    if node.func.id in ("ball", "polygon") and node.args:
        first = node.args[0]
        names += list(first.items) if isinstance(first, s.Tuple) else [first]
    return names


def _add_coordinate(context: Context, name: s.Expr) -> None:
    if not isinstance(name, s.Name):
        raise SpecError("expected a coordinate name", name.span)
    if name.id in context.coords:
        return
    if name.id in RESERVED:
        context.declare(name, "coordinate")  # raises the right message
    if name.id in context.declared:
        kind, span = context.declared[name.id]
        raise SpecError(f"the {kind} '{name.id}' has the name of a coordinate ('{name.id}' in "
                        f"the domain on line {name.span.line}): give the {kind} another name",
                        span)
    context.declared[name.id] = ("coordinate", name.span)
    context.coords[name.id] = sympy.Symbol(name.id, real=True)


def field_of(context: Context, statement: s.FieldDecl, default_model: ir.Model) -> ir.Field:
    """A field declaration -> `ir.Field`: its coordinates checked, its model read."""
    if not statement.coords:
        raise SpecError(f"field '{statement.name.id}' needs coordinates: "
                        f"field {statement.name.id}(x, y)", statement.span)
    seen = []
    for coordinate in statement.coords:
        if coordinate.id not in context.coords:
            raise SpecError(f"unknown coordinate '{coordinate.id}'"
                            f"{did_you_mean(coordinate.id, context.coords)}; coordinates are "
                            f"named by domains, e.g. box({coordinate.id} in [0, 1])",
                            coordinate.span)
        if coordinate.id in seen:
            raise SpecError(f"coordinate '{coordinate.id}' appears twice", coordinate.span)
        seen.append(coordinate.id)
    model = read_model(statement.model) if statement.model is not None else default_model
    return ir.Field(statement.name.id, tuple(seen), model, statement.span)


def check_sizes(context: Context) -> list[str]:
    """Refuse an expression that, with the lets it uses written out, has more than
    MAX_EXPRESSION_NODES nodes (lets that double at each step grow without end), before
    SymPy builds it. Returns the lets in an order where each follows those it uses."""
    order, sizes = let_order(context.lets)
    for statement in context.program.statements:
        for nodes, span in _expression_parts(statement):
            size = sum(s.expanded_size(node, sizes) for node in nodes)
            if size > MAX_EXPRESSION_NODES:
                raise SpecError(f"this expression is too large: written out with the lets "
                                f"it uses, it has {size:,} nodes (the limit on an expression "
                                f"is {MAX_EXPRESSION_NODES:,})", span)
    return order


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


def let_order(lets: dict[str, s.Let]) -> tuple[list[str], dict[str, int]]:
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
