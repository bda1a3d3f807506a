"""Stage 1: program text -> syntax tree (`syntax.Program`), with a position on every node.

The grammar lives in `grammar/pinnc.lark`. Lark's LALR parser builds a tree, a post-lexer lets
statements continue over newlines inside brackets, and `_ToSyntax` turns the tree into the typed
nodes of `syntax.py`. Every failure becomes a `SpecError` naming the line and what was expected.
"""
from __future__ import annotations

import functools
import re
from importlib import resources

import lark
from lark import Token, v_args
from lark.visitors import Transformer_NonRecursive

from . import syntax as s
from .errors import Span, SpecError, did_you_mean
from .limits import MAX_NESTING, MAX_PROGRAM_TOKENS, MAX_STATEMENT_TOKENS

# How expected terminals are named in messages; string terminals are shown quoted.
_TERMINAL_NAMES = {
    "NAME": "a name", "NUMBER": "a number", "STRING": 'a "quoted" file name',
    "_NL": "end of line", "$END": "end of input", "EQ_KIND": "'pde', 'bc' or 'ic'",
    "COMPARE": "a comparison (== < <= > >=)", "POW": "'^'",
}


def _grammar_text() -> str:
    return resources.files("pinnc").joinpath("grammar/pinnc.lark").read_text()


class _BracketNewlines:
    """Post-lexer: drop newlines inside () and [] and refuse absurd nesting or length; a
    reserved word is always its keyword, never a name."""

    # NAME everywhere, so that a word is read whole ('letx' is a name, not 'let' then 'x').
    always_accept = ("_NL", "NAME")

    def process(self, stream):
        depth = 0
        for token in _counted(stream):
            if token.type == "_NL":
                if depth == 0:
                    yield token
                continue
            if token.type == "NAME" and _keyword(token.value):
                token = Token.new_borrow_pos(_keyword(token.value), token.value, token)
            if token.value in ("(", "["):
                depth += 1
                if depth > MAX_NESTING:
                    raise SpecError(f"brackets nested too deeply (more than {MAX_NESTING} levels)",
                                    _token_span(token))
            elif token.value in (")", "]"):
                depth = max(0, depth - 1)
            yield token


def _counted(stream):
    """The tokens of ``stream``, refused past the limits on a statement's and a program's
    number of tokens (the parser's time grows with them)."""
    depth, in_statement, first = 0, 0, None
    for total, token in enumerate(stream, start=1):
        if total > MAX_PROGRAM_TOKENS:
            raise SpecError(f"the program is too long: more than {MAX_PROGRAM_TOKENS:,} tokens "
                            f"(names, numbers and symbols), the limit on a program",
                            _token_span(token))
        if token.value in ("(", "["):
            depth += 1
        elif token.value in (")", "]"):
            depth = max(0, depth - 1)
        if depth == 0 and (token.type == "_NL" or token.value == ";"):
            in_statement, first = 0, None
            yield token
            continue
        in_statement += 1
        first = first or token
        if in_statement > MAX_STATEMENT_TOKENS:
            raise SpecError(f"this statement is too long: more than {MAX_STATEMENT_TOKENS:,} "
                            f"tokens (names, numbers and symbols), the limit on one statement",
                            _token_span(first))
        yield token


def _keyword(word: str) -> str | None:
    """The terminal of a reserved word ('in' -> IN, 'pde' -> EQ_KIND), or None. 'boundary' is
    left a name: it is also the function in integral(EXPR, boundary(D))."""
    match = _keyword_pattern().fullmatch(word)
    return match.lastgroup if match and word != "boundary" else None


@functools.lru_cache(maxsize=1)
def _keyword_pattern() -> re.Pattern:
    """One pattern for every terminal but NAME, a named group each: one match per word (a
    program may hold many distinct names)."""
    groups = [f"(?P<{terminal.name}>{terminal.pattern.to_regexp()})"
              for terminal in _parser().terminals if terminal.name != "NAME"]
    return re.compile("|".join(groups))


@functools.lru_cache(maxsize=1)
def _parser() -> lark.Lark:
    return lark.Lark(_grammar_text(), parser="lalr", lexer="contextual",
                     postlex=_BracketNewlines(), propagate_positions=True,
                     maybe_placeholders=True)


def parse(source: str, filename: str = "<spec>") -> s.Program:
    """Parse program text. Raises `SpecError` (located in ``filename``) on any syntax error."""
    try:
        tree = _parser().parse(source)
        statements = _ToSyntax().transform(tree)
    except SpecError as error:
        raise error.located(source, filename) from None
    except lark.exceptions.VisitError as error:
        if isinstance(error.orig_exc, SpecError):
            raise error.orig_exc.located(source, filename) from None
        raise
    except lark.exceptions.UnexpectedInput as error:
        raise _syntax_error(error).located(source, filename) from None
    except RecursionError:
        raise SpecError("program nested too deeply to parse", None).located(source, filename) from None
    return s.Program(statements=tuple(statements), source=source, filename=filename)


def _syntax_error(error: lark.exceptions.UnexpectedInput) -> SpecError:
    span = Span(error.line, error.column) if error.line and error.line > 0 else None
    if isinstance(error, lark.exceptions.UnexpectedCharacters):
        char = error.char
        reason = f"unexpected character {char!r}"
        if char == "'":
            reason += ' (file names are written in double quotes)'
        return SpecError(reason, span)
    token = getattr(error, "token", None)
    acceptable = _acceptable(error)
    expected = sorted(_describe(t) for t in _summarize(acceptable))
    if token is None or token.type == "$END":
        found = "end of input"
    elif token.type == "_NL":
        found = "end of line"
        span = _token_span(token)
    else:
        found = repr(str(token))
        span = _token_span(token)
    reason = f"unexpected {found}"
    if expected:
        reason += f"; expected {_join(expected)}"
    return SpecError(reason + _hint(token, acceptable), span)


def _hint(token: Token | None, acceptable: set[str]) -> str:
    """A word on the likely mistake behind an unexpected token, or ''."""
    if token is None:
        return ""
    if token.type == "_NL":
        return " (a statement continues on the next line only inside ( ) or [ ])"
    if token.type == "COMPARE" and "COMPARE" not in acceptable:
        return (" (comparisons appear only in a condition after 'where' or as the condition of "
                "ifelse(COND, A, B))")
    if token.type == "NAME" and _STATEMENT_START <= acceptable:
        return did_you_mean(str(token), _STATEMENT_WORDS)
    if token.type != "NAME" and _keyword(str(token)) and acceptable == {"NAME"}:
        return f" ('{token}' is a reserved word)"
    return ""


def _acceptable(error: lark.exceptions.UnexpectedInput) -> set[str]:
    """The terminals that could really come next (an LALR state's own list may hold more)."""
    parser = getattr(error, "interactive_parser", None)
    if parser is not None:
        try:
            return set(parser.accepts())
        except Exception:  # the simulation is a nicety; fall back to the state's list
            pass
    return set(getattr(error, "expected", None) or ())


# Terminals that can start an expression; where all of these are expected, say so in a word.
_EXPRESSION_START = {"NAME", "NUMBER", "LPAR", "LSQB", "MINUS", "PLUS"}
_OPERATORS = {"PLUS", "MINUS", "STAR", "SLASH", "POW"}
# Terminals that can start a statement, and the words they stand for.
_STATEMENT_START = {"LET", "PARAM", "DOMAIN", "FIELD", "EQ_KIND", "MINIMIZE", "DATA", "EXACT",
                    "SET", "PERIODIC"}
_STATEMENT_WORDS = ("let", "param", "domain", "field", "pde", "bc", "ic", "minimize", "data",
                    "exact", "set", "periodic")


def _summarize(expected: set[str]) -> set[str]:
    if _STATEMENT_START <= expected:  # between statements: separators go without saying
        expected = (expected - _STATEMENT_START - {"SEMICOLON", "_NL", "$END"}) | {"a statement"}
    if {"NAME", "NUMBER", "LPAR"} <= expected:  # a quoted file name (table's) goes unsaid
        expected = (expected - _EXPRESSION_START - {"STRING"}) | {"an expression"}
    if _OPERATORS <= expected:
        expected = (expected - _OPERATORS) | {"an operator"}
    return expected


def _describe(terminal: str) -> str:
    if terminal in ("an expression", "an operator"):
        return terminal
    if terminal == "a statement":
        return f"a statement ({', '.join(_STATEMENT_WORDS)})"
    if terminal in _TERMINAL_NAMES:
        return _TERMINAL_NAMES[terminal]
    for definition in _parser().terminals:
        if definition.name == terminal and definition.pattern.type == "str":
            return repr(definition.pattern.value)
    return terminal.lower()


def _join(items: list[str]) -> str:
    if len(items) > 6:
        items = items[:6] + ["..."]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _token_span(token: Token) -> Span:
    return Span(token.line, token.column, token.end_line, token.end_column)


def _span(meta) -> Span:
    return Span(meta.line, meta.column, meta.end_line, meta.end_column)


def _name(token: Token) -> s.Name:
    return s.Name(str(token), _token_span(token))


def _options(node) -> tuple[s.Keyword, ...]:
    return node if node is not None else ()


@v_args(meta=True)
class _ToSyntax(Transformer_NonRecursive):
    """Lark tree -> `syntax` nodes. Method names are the grammar's rule names and aliases."""

    def start(self, meta, children):
        return [c for c in children if c is not None]

    # statements
    def let_stmt(self, meta, c):
        return s.Let(_name(c[0]), c[1], _span(meta))

    def param_stmt(self, meta, c):
        return s.ParamDecl(_name(c[0]), c[1], _span(meta))

    def domain_stmt(self, meta, c):
        return s.DomainDecl(_name(c[0]), c[1], _span(meta))

    def field_stmt(self, meta, c):
        coords = tuple(_name(t) for t in c[1:-1] if t is not None)
        return s.FieldDecl(_name(c[0]), coords, c[-1], _span(meta))

    def equation(self, meta, c):
        kind, label, lhs, rhs, region, opts = c
        return s.Equation(str(kind), label, lhs, rhs, region, _options(opts), _span(meta))

    def label(self, meta, c):
        return _name(c[0])

    def with_opts(self, meta, c):
        return tuple(c)

    def minimize_stmt(self, meta, c):
        return s.Minimize(c[0], _options(c[1]), _span(meta))

    def data_stmt(self, meta, c):
        return s.DataDecl(self._string(c[0]), _options(c[1]), _span(meta))

    def exact_expr(self, meta, c):
        return s.ExactDecl(_name(c[0]), c[1], None, _span(meta))

    def exact_file(self, meta, c):
        return s.ExactDecl(_name(c[0]), None, self._string(c[1]), _span(meta))

    def set_stmt(self, meta, c):
        return s.SetOption(_name(c[0]), tuple(c[1:]), _span(meta))

    def periodic_stmt(self, meta, c):
        fields, coords, opts = c
        return s.Periodic(fields, coords, _options(opts), _span(meta))

    def names(self, meta, c):
        return tuple(_name(token) for token in c)

    @staticmethod
    def _string(token: Token) -> s.String:
        return s.String(str(token)[1:-1], _token_span(token))

    # regions and domains
    def region_in(self, meta, c):
        return s.Region(False, c[0], c[1], _span(meta))

    def region_at(self, meta, c):
        return s.Region(False, None, None, _span(meta), points=c[0])

    def region_on(self, meta, c):
        return s.Region(True, c[0], c[1], _span(meta))

    def where(self, meta, c):
        return c[0]

    def _domain_op(op):
        def build(self, meta, c):
            return s.DomainOp(op, c[0], c[1], _span(meta))
        return build

    union, difference = _domain_op("|"), _domain_op("-")
    intersection, product = _domain_op("&"), _domain_op("*")

    def domain_ref(self, meta, c):
        return _name(c[0])

    def domain_call(self, meta, c):
        return self.call(meta, c)

    # predicates
    def or_(self, meta, c):
        return s.BoolOp("or", c[0], c[1], _span(meta))

    def and_(self, meta, c):
        return s.BoolOp("and", c[0], c[1], _span(meta))

    def not_(self, meta, c):
        return s.Not(c[0], _span(meta))

    def compare(self, meta, c):
        return s.Compare(str(c[1]), c[0], c[2], _span(meta))

    # expressions
    def _binary(op):
        def build(self, meta, c):
            return s.BinOp(op, c[0], c[-1], _span(meta))
        return build

    add, sub, mul, div, pow = _binary("+"), _binary("-"), _binary("*"), _binary("/"), _binary("^")

    def neg(self, meta, c):
        return s.Neg(c[0], _span(meta))

    def number(self, meta, c):
        return s.Number(str(c[0]), _token_span(c[0]))

    def name(self, meta, c):
        return _name(c[0])

    def call(self, meta, c):
        arguments = [a for a in c[1:] if a is not None]
        return s.Call(
            func=_name(c[0]),
            args=tuple(a for a in arguments if not isinstance(a, (s.Keyword, s.CoordinateRange))),
            keywords=tuple(a for a in arguments if isinstance(a, s.Keyword)),
            ranges=tuple(a for a in arguments if isinstance(a, s.CoordinateRange)),
            span=_span(meta))

    def value_at(self, meta, c):
        arguments = [a for a in c[1:] if a is not None]
        for argument in arguments:
            if isinstance(argument, (s.Keyword, s.CoordinateRange)):
                raise SpecError("a value at a point takes one coordinate value per argument, "
                                "e.g. Dx(u)(1, t)", argument.span)
        return s.ValueAt(c[0], tuple(arguments), _span(meta))

    def vector(self, meta, c):
        return s.Vector(tuple(c), _span(meta))

    def tuple(self, meta, c):
        return s.Tuple(tuple(c), _span(meta))

    def string(self, meta, c):
        return self._string(c[0])

    def keyword(self, meta, c):
        return s.Keyword(_name(c[0]), c[1], _span(meta))

    def coordinate_range(self, meta, c):
        return s.CoordinateRange(_name(c[0]), c[1], c[2], _span(meta))

    del _domain_op, _binary
