"""Stage 1: text -> syntax tree; syntax errors name the line, the column and what was expected."""
from pathlib import Path

import pytest

from pinnc import SpecError
from pinnc.compiler import syntax as s
from pinnc.compiler.parse import MAX_NESTING, parse

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.pde")), ids=lambda p: p.name)
def test_examples_parse(path):
    program = parse(path.read_text(), path.name)
    assert program.statements


def test_statement_types_and_positions():
    program = parse(
        "let f = -2*pi^2*sin(pi*x)   # comment\n"
        "domain Omega = box(x in [0, 1], y in [0, 1])\n"
        "field u(x, y): mlp(hidden=[20], activation=sigmoid)\n"
        "pde inner: lap(u) = f in Omega with weight=2, points=10\n"
        "bc u = 0 on boundary(Omega) where x == 0 or not (y > 0.5)\n"
        "set optimizer = adam(steps=10, lr=1e-3) then lbfgs(steps=5); set seed = 3\n")
    kinds = [type(st).__name__ for st in program.statements]
    assert kinds == ["Let", "DomainDecl", "FieldDecl", "Equation", "Equation", "SetOption",
                     "SetOption"]
    pde = program.statements[3]
    assert pde.label.id == "inner" and pde.region.on_boundary is False
    assert [k.name.id for k in pde.options] == ["weight", "points"]
    assert pde.span.line == 4 and pde.lhs.span.column == 12
    bc = program.statements[4]
    assert isinstance(bc.region.where, s.BoolOp) and bc.region.where.op == "or"
    assert isinstance(bc.region.where.right, s.Not)
    assert len(program.statements[5].values) == 2


def test_a_call_followed_by_arguments_is_a_value_at_a_point():
    (let,) = parse("let a = Dx(u)(1, t) + u(0, t)^2 + sin(x)\n").statements
    at, rest = let.value.left.left, let.value.left.right.left
    assert isinstance(at, s.ValueAt) and isinstance(at.of, s.Call) and at.of.func.id == "Dx"
    assert [a.span.column for a in at.args] == [15, 18] and at.span.column == 9
    assert isinstance(rest, s.Call) and rest.func.id == "u" and len(rest.args) == 2
    assert isinstance(let.value.right, s.Call) and let.value.right.func.id == "sin"
    with pytest.raises(SpecError) as caught:
        parse("let a = u(0, t)(1, t)(2, t)\n")
    assert (caught.value.line, caught.value.column) == (1, 22)


def test_operator_precedence():
    (let,) = parse("let a = -2^3^2 * b + c / d").statements
    add = let.value
    assert add.op == "+"
    mul = add.left
    assert mul.op == "*" and isinstance(mul.left, s.Neg)
    power = mul.left.operand
    assert power.op == "^" and power.right.op == "^"  # right-associative


def test_newlines_continue_inside_brackets():
    program = parse("domain O = box(x in [0, 1],\n               y in [0, 1])\nfield u(x,\n y)\n")
    assert len(program.statements) == 2


def test_double_star_is_power():
    (let,) = parse("let a = x**2").statements
    assert let.value.op == "^"


@pytest.mark.parametrize("source, line, column, words", [
    ("let x = ", 1, 7, "expected an expression"),
    ("let a = 1\nlet b = 3 +* 2\n", 2, 12, "unexpected '*'"),
    ("domain O = box(x in [0, 1]\nfield u(x)\n", 2, 1, "unexpected 'field'"),
    ("let a = 1\n\n  let y = $\n", 3, 11, "unexpected character '$'"),
    ("set optimizer = adam() then\n", 1, 28, "end of line; expected an expression"),
    ("let a = 1 let b = 2\n", 1, 11, "unexpected 'let'"),
    ("data 'file.csv'\n", 1, 6, "double quotes"),
    ("pde u = 0\n", 1, 10, "expected 'at', 'in' or 'on'"),
    ("domain D = box(x in [0, 1])\nbc u = 0 on D\n", 2, 13, "'boundary'"),
])
def test_syntax_errors_name_the_place(source, line, column, words):
    with pytest.raises(SpecError) as caught:
        parse(source, "bad.pde")
    error = caught.value
    assert (error.line, error.column) == (line, column)
    assert words in str(error)
    assert str(error).startswith(f"bad.pde:{line}:{column}: error:")
    text_line = source.splitlines()[line - 1]
    assert text_line.strip() in str(error)  # the line is shown
    assert "^" in str(error).splitlines()[-1]  # with a caret


def test_deep_nesting_is_a_clean_error():
    source = "let a = " + "(" * 5000 + "1" + ")" * 5000
    with pytest.raises(SpecError) as caught:
        parse(source, "deep.pde")
    assert caught.value.line == 1
    assert str(MAX_NESTING) in str(caught.value)


def test_nesting_within_limit_parses():
    depth = MAX_NESTING - 1
    (let,) = parse("let a = " + "(" * depth + "1" + ")" * depth).statements
    assert isinstance(let.value, s.Number)


def test_empty_and_comment_only_programs_parse():
    assert parse("").statements == ()
    assert parse("# nothing\n\n;\n").statements == ()
