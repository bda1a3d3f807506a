"""The syntax tree of a `.pde` program: what was written, with where it was written.

`parse.py` builds these from Lark's tree; `analyze.py` gives them meaning. Every node carries
the `Span` of its text so that any later stage can point at it in an error.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from .errors import Span


# --- expressions ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Number:
    text: str
    span: Span


@dataclass(frozen=True)
class Name:
    id: str
    span: Span


@dataclass(frozen=True)
class String:
    value: str
    span: Span


@dataclass(frozen=True)
class Keyword:
    """``name=value`` inside a call or after ``with``."""
    name: Name
    value: "Expr"
    span: Span


@dataclass(frozen=True)
class CoordinateRange:
    """``x in [a, b]`` inside a domain constructor."""
    name: Name
    low: "Expr"
    high: "Expr"
    span: Span


@dataclass(frozen=True)
class Call:
    func: Name
    args: tuple["Expr", ...]
    keywords: tuple[Keyword, ...]
    ranges: tuple[CoordinateRange, ...]
    span: Span


@dataclass(frozen=True)
class ValueAt:
    """``Dx(u)(1, t)``: a call's value at the point its arguments give (``u(0, t)``, a field's
    name called, is a `Call`)."""
    of: Call
    args: tuple["Expr", ...]
    span: Span


@dataclass(frozen=True)
class BinOp:
    op: str  # one of + - * / ^
    left: "Expr"
    right: "Expr"
    span: Span


@dataclass(frozen=True)
class Neg:
    operand: "Expr"
    span: Span


@dataclass(frozen=True)
class Vector:
    items: tuple["Expr", ...]
    span: Span


@dataclass(frozen=True)
class Tuple:
    items: tuple["Expr", ...]
    span: Span


Expr = Union[Number, Name, Call, ValueAt, BinOp, Neg, Vector, Tuple]


# --- predicates (after `where`) ------------------------------------------------------------------

@dataclass(frozen=True)
class Compare:
    op: str  # one of == < <= > >=
    left: Expr
    right: Expr
    span: Span


@dataclass(frozen=True)
class BoolOp:
    op: str  # "and" or "or"
    left: "Predicate"
    right: "Predicate"
    span: Span


@dataclass(frozen=True)
class Not:
    operand: "Predicate"
    span: Span


Predicate = Union[Compare, BoolOp, Not]


# --- domains and regions -------------------------------------------------------------------------

@dataclass(frozen=True)
class DomainOp:
    op: str  # one of | & - *
    left: "DomainExpr"
    right: "DomainExpr"
    span: Span


DomainExpr = Union[Name, Call, DomainOp]


@dataclass(frozen=True)
class Region:
    """``in D [where P]``, ``on boundary(D) [where P]``, or ``at [[X, Y], ...]`` (``points``
    set, ``domain`` None)."""
    on_boundary: bool
    domain: DomainExpr | None
    where: Predicate | None
    span: Span
    points: Expr | None = None


# --- statements ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Let:
    name: Name
    value: Expr
    span: Span


@dataclass(frozen=True)
class ParamDecl:
    name: Name
    value: Expr
    span: Span


@dataclass(frozen=True)
class DomainDecl:
    name: Name
    domain: DomainExpr
    span: Span


@dataclass(frozen=True)
class FieldDecl:
    name: Name
    coords: tuple[Name, ...]
    model: Expr | None
    span: Span


@dataclass(frozen=True)
class Equation:
    kind: str  # "pde", "bc" or "ic"
    label: Name | None
    lhs: Expr
    rhs: Expr
    region: Region
    options: tuple[Keyword, ...]
    span: Span


@dataclass(frozen=True)
class Minimize:
    expr: Expr
    options: tuple[Keyword, ...]
    span: Span


@dataclass(frozen=True)
class DataDecl:
    path: String
    options: tuple[Keyword, ...]
    span: Span


@dataclass(frozen=True)
class ExactDecl:
    """``exact u = EXPR`` (``expr`` set) or ``exact u from "FILE"`` (``path`` set)."""
    name: Name
    expr: Expr | None
    path: String | None
    span: Span


@dataclass(frozen=True)
class SetOption:
    """``set NAME = VALUE [then VALUE ...]``; ``values`` has one item unless ``then`` chains."""
    name: Name
    values: tuple[Expr, ...]
    span: Span


@dataclass(frozen=True)
class Periodic:
    """``periodic u, v in x, y [with period = L]``."""
    fields: tuple[Name, ...]
    coords: tuple[Name, ...]
    options: tuple[Keyword, ...]
    span: Span


Statement = Union[Let, ParamDecl, DomainDecl, FieldDecl, Equation, Minimize, DataDecl,
                  ExactDecl, SetOption, Periodic]


@dataclass(frozen=True)
class Program:
    statements: tuple[Statement, ...]
    source: str
    filename: str


# --- walking the tree ----------------------------------------------------------------------------

def children(node) -> tuple:
    """The syntax nodes directly inside ``node``, in order (none for a leaf)."""
    names = _CHILD_FIELDS.get(type(node))
    if names is None:
        return ()
    inner = []
    for name in names:
        value = getattr(node, name)
        if isinstance(value, tuple):
            inner.extend(value)
        elif value is not None:
            inner.append(value)
    return tuple(inner)


# The fields of each node type that hold nodes (a Call's function name is not one).
_CHILD_FIELDS = {
    Keyword: ("value",), CoordinateRange: ("low", "high"), Call: ("args", "keywords", "ranges"),
    ValueAt: ("of", "args"),    BinOp: ("left", "right"), Neg: ("operand",), Vector: ("items",), Tuple: ("items",),
    Compare: ("left", "right"), BoolOp: ("left", "right"), Not: ("operand",),
    DomainOp: ("left", "right"), Region: ("domain", "where", "points"),
    Let: ("value",), ParamDecl: ("value",), DomainDecl: ("domain",), FieldDecl: ("model",),
    Equation: ("lhs", "rhs", "region", "options"), Minimize: ("expr", "options"),
    DataDecl: ("options",), ExactDecl: ("expr",), SetOption: ("values",),
    Periodic: ("options",),
}


def expanded_size(node, let_sizes: dict[str, int]) -> int:
    """The number of nodes under ``node`` (itself included) with every name in ``let_sizes``
    counted as that many nodes: the size of the expression with those lets written out."""
    return sum(let_sizes.get(current.id, 1) if isinstance(current, Name) else 1
               for current in nodes(node))


def nodes(node):
    """``node`` and every node under it (in no particular order)."""
    stack = [node]
    while stack:  # a loop, not recursion: a long chain a + b + ... is a deep tree
        current = stack.pop()
        yield current
        stack.extend(children(current))


def names_used(node) -> set[str]:
    """The names that appear under ``node`` (functions called excluded)."""
    return {current.id for current in nodes(node) if isinstance(current, Name)}
