"""compiler/expressions.py (with arithmetic.py and calculus.py): expressions of the language ->
SymPy, in a scope of names."""
import pytest
import sympy

from pinnc import SpecError
from pinnc.compiler.calculus import Directional, check_size, tree_size
from pinnc.compiler.expressions import Scope, Translator, Vector, constant
from pinnc.compiler.parse import parse

x, y, k = sympy.symbols("x y k", real=True)
u = sympy.Function("u")(x, y)


def translate(text, integral=None, normals=None, lets=None):
    """The SymPy value of expression ``text`` where u(x, y) is a field and k a param."""
    node = parse(f"let value = {text}", "expr.pde").statements[0].value
    scope = Scope({"x": x, "y": y}, {"u": u}, {"k": k}, lets or {}, integral=integral,
                  where="in this test", normals=normals)
    return Translator(scope).value(node)


def test_calculus_is_done_at_compile_time_leaving_partials_of_fields():
    assert translate("lap(u)") == u.diff(x, 2) + u.diff(y, 2)
    assert translate("D(sin(u), x)") == sympy.cos(u) * u.diff(x)
    assert translate("Dxy(u)") == u.diff(x, y)
    assert translate("div(grad(u))") == translate("lap(u)")
    assert translate("D(x^3 + k*y, x, x)") == 6 * x


def test_numbers_are_exact():
    assert translate("0.1 + 0.2") == sympy.Rational(3, 10)
    assert translate("2^-2") == sympy.Rational(1, 4)


def test_a_derivative_along_a_constant_vector_is_one_directional_node():
    value = translate("dot(grad(u), [1, k])")
    assert isinstance(value, Directional)
    assert value.expanded() == u.diff(x) + k * u.diff(y)
    assert sympy.diff(value, x) == u.diff(x, 2) + k * u.diff(x, y)


def test_vectors_are_values_of_their_own():
    assert translate("[x, 1] + [1, y]") == Vector((x + 1, y + 1))
    assert translate("norm([3, 4])") == 5
    with pytest.raises(SpecError, match="expected a scalar here, got a vector"):
        Translator(Scope({"x": x}, {}, {}, {})).scalar(
            parse("let v = [x, 1]", "v.pde").statements[0].value)


def test_a_normal_derivative_needs_a_boundary():
    n_x, n_y = sympy.symbols("n_x n_y", real=True)
    assert translate("dn(u)", normals={"x": n_x, "y": n_y}).expanded() == (
        n_x * u.diff(x) + n_y * u.diff(y))
    with pytest.raises(SpecError, match="derivative along the outward normal of a boundary"):
        translate("dn(u)")


def test_an_integral_is_the_scopes_to_build():
    assert translate("2*integral(u)", integral=lambda node, translator: k) == 2 * k
    with pytest.raises(SpecError, match="integral\\(...\\) is not allowed in this test"):
        translate("integral(u)")


def test_lets_are_asked_for_their_value_when_used():
    asked = []
    lets = {"f": lambda: asked.append("f") or x * y}
    assert translate("f + 1", lets=lets) == x * y + 1 and asked == ["f"]


@pytest.mark.parametrize("text, reason", [
    ("1/(x - x)", "division by zero"),
    ("log(0)", "log(0) is not a finite real number"),
    ("1e999", "number 1e999 is out of range"),
    ("uu + 1", "unknown name 'uu' (did you mean 'u'?)"),
    ("u(x)", "u takes 2 arguments (x, y), got 1"),
    ("u(x, u)", "a coordinate of a point may depend on the coordinates and on constants, not on "
                "fields"),
    ("sin(x, y)", "'sin' takes 1 argument, got 2"),
    ("D(u, x, x, x, x, x, x, x, x, x)", "a derivative of order 9; at most 8 is supported"),
    ("u^1000", "exponent too large: at most 100 is supported on a coordinate or field"),
])
def test_mistakes_are_refused_at_their_place(text, reason):
    with pytest.raises(SpecError) as caught:
        translate(text)
    assert caught.value.reason == reason
    assert caught.value.line == 1


def test_sizes_count_a_field_as_one_node():
    assert tree_size(u) == 1
    assert tree_size(sympy.sin(u) + x) == 4  # Add, sin, u, x
    check_size(u, None)
    with pytest.raises(SpecError, match="this term is too large"):
        check_size(sympy.Add(*sympy.symbols("a0:20001")), None, "this term")


def test_a_constant_is_a_finite_number():
    assert constant(sympy.pi / 2, None) == pytest.approx(1.5707963267948966)
    with pytest.raises(SpecError, match="expected a constant"):
        constant(x + 1, None)
