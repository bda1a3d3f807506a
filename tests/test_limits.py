"""Hostile or huge programs: each is either checked (in seconds) or refused at its place with
the limit it passes named (compiler/limits.py). bench/limits.py times the same shapes."""
import math

import pytest
import sympy

from pinnc import SpecError
from pinnc.compiler import limits
from pinnc.compiler.analyze import domains
from pinnc.compiler import parse as parse_module
from pinnc.compiler.pipeline import compile_text

HEAD = "domain Omega = box(x in [0, 1], y in [0, 1])\nfield u(x, y)\n"
x = sympy.Symbol("x", real=True)


def refused(source: str) -> SpecError:
    with pytest.raises(SpecError) as caught:
        compile_text(source, "case.pde")
    return caught.value


def doubling_lets(levels: int, step: str) -> str:
    """let a0 = x, then let a{i+1} = step(a{i}) on lines 4, 5, ...: each twice the last."""
    lets = "".join(f"let a{i + 1} = {step.format(a=f'a{i}')}\n" for i in range(levels))
    return HEAD + "let a0 = x\n" + lets + f"pde u = a{levels} in Omega\n"


def circle(n: int) -> list[list[float]]:
    return [[round(math.cos(2 * math.pi * k / n), 6), round(math.sin(2 * math.pi * k / n), 6)]
            for k in range(n)]


def polygon_program(vertices) -> str:
    return (f"domain Omega = polygon((x, y), {vertices})\nfield u(x, y)\n"
            "pde lap(u) = 1 in Omega\nbc u = 0 on boundary(Omega)\n")


# --- tokens ---------------------------------------------------------------------------------------

def test_a_statement_past_the_token_limit_is_refused_at_its_start(monkeypatch):
    monkeypatch.setattr(parse_module, "MAX_STATEMENT_TOKENS", 50)
    error = refused(HEAD + "pde u = " + "+".join(["x"] * 30) + " in Omega\n")
    assert (error.line, error.column) == (3, 1)
    assert "this statement is too long: more than 50 tokens" in error.reason


def test_a_program_past_the_token_limit_is_refused_at_the_token_that_passes_it(monkeypatch):
    monkeypatch.setattr(parse_module, "MAX_PROGRAM_TOKENS", 40)
    source = HEAD + "".join(f"let a{i} = {i}\n" for i in range(10)) + "pde u = 0 in Omega\n"
    error = refused(source)  # HEAD is 30 tokens with its ends of line, each let 5
    assert (error.line, error.column) == (5, 1)
    assert "the program is too long: more than 40 tokens" in error.reason


def test_the_token_limits_hold_a_polygon_of_the_most_vertices():
    tokens_per_vertex = 8  # [ - x , - y ] ,
    assert tokens_per_vertex * limits.MAX_POLYGON_VERTICES < limits.MAX_STATEMENT_TOKENS
    assert limits.MAX_STATEMENT_TOKENS <= limits.MAX_PROGRAM_TOKENS


# --- expression sizes -----------------------------------------------------------------------------

def test_a_long_sum_is_one_add():
    terms = 2000
    problem = compile_text(HEAD + "pde u = " + " + ".join(f"{i}*x*y^{i % 7}" for i in range(terms))
                           + " in Omega\n").problem
    residual = problem.terms[0].residual
    assert isinstance(residual, sympy.Add) and len(residual.args) == 8  # u and y^0 ... y^6


def test_a_sum_past_the_node_limit_is_refused_at_its_statement():
    error = refused(HEAD + "pde u = " + "+".join(["x"] * 10_001) + " in Omega\n")
    assert (error.line, error.column) == (3, 1)
    assert "it has 20,002 nodes (the limit on an expression is 20,000)" in error.reason


@pytest.mark.parametrize("step, line", [
    ("sin({a}) + cos({a})", 16),  # 2^(k+2) - 3 nodes: a13 is the first past 20,000
    ("{a}*{a}", 17),  # 2^(k+1) - 1 nodes: a14
    ("{a} + {a}", 17),
], ids=["sin-plus-cos", "square", "double"])
def test_lets_that_double_are_refused_at_the_first_past_the_limit(step, line):
    error = refused(doubling_lets(60, step))
    assert (error.line, error.column) == (line, 1)
    assert error.reason.startswith("this expression is too large: written out with the lets it "
                                   "uses, it has")
    assert "(the limit on an expression is 20,000)" in error.reason


def test_lets_that_double_below_the_limit_are_checked():
    problem = compile_text(doubling_lets(10, "sin({a}) + cos({a})")).problem
    assert problem.terms[0].residual.has(sympy.sin)


def test_a_derivative_past_the_node_limit_is_refused_at_its_call():
    source = doubling_lets(8, "sin({a}) + cos({a})").replace("pde u = a8", "pde u*Dxx(a8) = 1")
    error = refused(source)
    assert (error.line, error.column) == (12, 7)
    assert error.reason.startswith("this derivative is too large: written out it has")


def test_a_high_derivative_is_refused_before_every_order_is_taken():
    source = doubling_lets(10, "sin({a}) + cos({a})").replace("pde u = a10",
                                                                "pde u = D(a10, x, x, x, x, x, x)")
    error = refused(source)
    assert (error.line, error.column) == (14, 9) and "this derivative is too large" in error.reason


def test_a_long_chain_of_lets_in_any_order_is_resolved_without_recursion():
    lets = [f"let a{i + 1} = a{i} + 1" for i in range(3000)]
    source = HEAD + "let a0 = x\n" + "\n".join(reversed(lets)) + "\npde u = a3000 in Omega\n"
    residual = compile_text(source).problem.terms[0].residual
    assert residual == sympy.Function("u")(x, sympy.Symbol("y", real=True)) - x - 3000


def test_a_let_cycle_through_a_long_chain_names_the_cycle():
    lets = "".join(f"let a{i + 1} = a{i} + 1\n" for i in range(2000))
    error = refused(HEAD + "let a0 = a2000\n" + lets + "pde u = a1 in Omega\n")
    assert (error.line, error.column) == (3, 5)
    assert error.reason.startswith("'let a0' refers to itself: a0 -> a2000 -> a1999")


def test_long_exact_numbers_become_floats():
    primes = list(sympy.primerange(2, 20_000))[:2000]
    problem = compile_text(HEAD + "pde u = " + " + ".join(f"1/{p}" for p in primes)
                           + " in Omega\n").problem
    (number,) = [a for a in problem.terms[0].residual.args if a.is_number]
    assert isinstance(number, sympy.Float)


# --- counts ---------------------------------------------------------------------------------------

def test_fields_past_the_limit_are_refused_at_the_first_too_many():
    fields = "".join(f"field v{i}(x, y)\n" for i in range(limits.MAX_FIELDS))
    error = refused(HEAD + fields + "pde u = 0 in Omega\n")
    assert (error.line, error.column) == (3 + limits.MAX_FIELDS - 1, 7)
    assert error.reason == "more than 1,000 fields: at most 1,000 are supported in a program"


def test_the_most_fields_are_checked():
    fields = "".join(f"field v{i}(x, y)\n" for i in range(limits.MAX_FIELDS - 1))
    assert len(compile_text(HEAD + fields + "pde u = v7 in Omega\n").problem.fields) == 1000


def test_terms_past_the_limit_are_refused_before_any_is_built():
    terms = "".join(f"pde u = {i} in Omega\n" for i in range(limits.MAX_TERMS + 5))
    error = refused(HEAD + terms)
    assert (error.line, error.column) == (3 + limits.MAX_TERMS, 1)
    assert error.reason == "more than 1,000 terms: at most 1,000 are supported in a program"


def test_a_where_past_the_comparison_limit_is_refused_at_the_condition():
    condition = " and ".join(f"x > {i / 1000}" for i in range(limits.MAX_COMPARISONS + 1))
    error = refused(HEAD + f"pde u = 0 in Omega where {condition}\n")
    assert (error.line, error.column) == (3, 26)
    assert error.reason == "a condition of 501 comparisons: at most 500 are supported after one 'where'"


@pytest.mark.parametrize("joint, kind", [("and", sympy.And), ("or", sympy.Or)])
def test_a_long_chain_of_conditions_is_one_node(joint, kind):
    condition = f" {joint} ".join(f"x > {i / 1000}" for i in range(400))
    problem = compile_text(HEAD + f"pde u = 0 in Omega where {condition}\n").problem
    predicate = problem.terms[0].region.predicate
    assert isinstance(predicate, kind) and len(predicate.args) == 400


def test_many_negations_are_read_in_a_loop():
    problem = compile_text(HEAD + "pde u = 0 in Omega where " + "not " * 2001 + "x > 0.5\n").problem
    assert problem.terms[0].region.predicate == sympy.Le(x, sympy.Rational(1, 2))


def test_a_product_of_500_intervals_is_checked():
    factors = " * ".join(f"interval(x{i} in [0, 1])" for i in range(500))
    coords = ", ".join(f"x{i}" for i in range(500))
    problem = compile_text(f"domain Omega = {factors}\nfield u({coords})\n"
                           "pde lap(u) = 1 in Omega\n").problem
    assert len(problem.coords) == 500 and len(problem.terms[0].residual.args) == 501


# --- polygons -------------------------------------------------------------------------------------

def test_a_polygon_of_5000_vertices_is_checked():
    problem = compile_text(polygon_program(circle(5000))).problem
    assert len(problem.domains[0].domain.vertices) == 5000


def test_a_crossing_among_thousands_of_edges_is_found():
    vertices = circle(3000)
    vertices[1000], vertices[1001] = vertices[1001], vertices[1000]
    error = refused(polygon_program(vertices))
    assert (error.line, error.column) == (1, 32)
    assert error.reason == "not a simple polygon: edges 1000 and 1002 cross"


def test_a_polygon_past_the_vertex_limit_is_refused_at_its_vertices(monkeypatch):
    monkeypatch.setattr(domains, "MAX_POLYGON_VERTICES", 100)
    error = refused(polygon_program(circle(101)))
    assert (error.line, error.column) == (1, 32)
    assert error.reason == "a polygon of 101 vertices: at most 100 are supported"
