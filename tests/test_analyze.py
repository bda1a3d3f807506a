"""Stage 2: names, coordinates, regions, terms and options; mistakes name their place."""
from pathlib import Path

import pytest
import sympy

from pinnc import SpecError
from pinnc.compiler.analyze import analyze
from pinnc.compiler.parse import parse
from pinnc.compiler.pipeline import compile_text

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
x, y, t = sympy.symbols("x y t", real=True)
HEADER = "domain Omega = box(x in [0, 1], y in [0, 2])\nfield u(x, y)\n"


def problem(source, **overrides):
    return compile_text(source, "spec.pde", overrides).problem


def test_poisson_residuals_and_regions():
    p = problem((EXAMPLES / "poisson.pde").read_text())
    u = sympy.Function("u")(x, y)
    pde, bc = p.terms
    expected = u.diff(x, 2) + u.diff(y, 2) + 2 * sympy.pi ** 2 * sympy.sin(sympy.pi * x) * sympy.sin(sympy.pi * y)
    assert sympy.simplify(pde.residual - expected) == 0
    assert (pde.label, pde.kind, pde.region.on_boundary) == ("pde1", "pde", False)
    assert (bc.label, bc.kind, bc.region.on_boundary, bc.residual) == ("bc1", "bc", True, u)
    assert p.exact[0].field == "u"
    # trained with engd by default: its smaller network and fewer points
    assert p.options.points == 1000 and p.options.boundary_points == 200
    assert p.options.model.hidden == (64,)


def test_burgers_predicates_and_options():
    p = problem((EXAMPLES / "burgers.pde").read_text())
    ic, bc = p.terms[1:]
    assert ic.region.predicate == sympy.Eq(t, 0)
    assert bc.region.predicate == sympy.Or(sympy.Eq(x, -1), sympy.Eq(x, 1))
    assert p.options.points == 8000
    assert [(ph.name, ph.steps) for ph in p.options.optimizer] == [("adam", 2000), ("lbfgs", 5000)]
    assert p.options.optimizer[0].get("lr", 0) == pytest.approx(1e-3)


def test_chain_and_product_rules_are_symbolic():
    p = problem(HEADER + "pde Dx(sin(x)*u) + D(u^2, y, y) = 0 in Omega\n")
    u = sympy.Function("u")(x, y)
    expected = sympy.cos(x) * u + sympy.sin(x) * u.diff(x) + (u ** 2).diff(y, 2)
    assert sympy.simplify(p.terms[0].residual - expected) == 0


def test_lap_grad_div_dot_norm():
    p = problem(HEADER + "pde lap(u) - div(grad(u)) + dot(grad(u), [1, 0]) - norm([3, 4]) = 0 in Omega\n")
    u = sympy.Function("u")(x, y)
    assert sympy.simplify(p.terms[0].residual - (u.diff(x) - 5)) == 0


def test_lap_excludes_time():
    p = problem("domain O = box(x in [0, 1], t in [0, 1])\nfield u(x, t)\npde Dt(u) = lap(u) in O\n")
    u = sympy.Function("u")(x, t)
    assert sympy.simplify(p.terms[0].residual - (u.diff(t) - u.diff(x, 2))) == 0


def test_lets_resolve_in_any_order_and_params_stay_symbols():
    p = problem(HEADER + "let a = 2*b\nlet b = k + 1\nparam k = 0.5\npde a*u = 0 in Omega\n")
    u = sympy.Function("u")(x, y)
    k = sympy.Symbol("k", real=True)
    assert sympy.simplify(p.terms[0].residual - 2 * (k + 1) * u) == 0
    assert p.params[0].init == 0.5


def test_minimize_functional_and_weights():
    p = problem(HEADER + "minimize 0.5*integral(Dx(u)^2) - integral(u) with weight=3\n")
    (term,) = p.terms
    u = sympy.Function("u")(x, y)
    assert sympy.simplify(term.residual - (u.diff(x) ** 2 / 2 - u)) == 0
    assert term.kind == "minimize" and term.weight == 3


def test_labels_and_term_options():
    p = problem(HEADER + "pde inner: lap(u) = 0 in Omega with points=50\nbc u = 0 on boundary(Omega) with weight=10\n")
    assert [t.label for t in p.terms] == ["inner", "bc1"]
    assert p.terms[0].points == 50 and p.terms[1].weight == 10


def test_overrides_replace_options():
    p = problem(HEADER + "set points = 100\npde lap(u) = 0 in Omega\n", points=7, optimizer="lbfgs(steps=3)",
                model="mlp(hidden=[4], activation=sin)")
    assert p.options.points == 7
    assert p.options.optimizer[0].name == "lbfgs" and p.options.optimizer[0].steps == 3
    assert p.fields[0].model.hidden == (4,) and p.fields[0].model.activation == "sin"


@pytest.mark.parametrize("body, line, words", [
    ("pde lap(uu) = 0 in Omega", 3, "unknown name 'uu' (did you mean 'u'?)"),
    ("pde lap(u) = 0 in Omga", 3, "unknown domain 'Omga' (did you mean 'Omega'?)"),
    ("set pionts = 10\npde u = 0 in Omega", 3, "unknown option 'pionts' (did you mean 'points'?)"),
    ("set points = -3\npde u = 0 in Omega", 3, "points must be an integer >= 1"),
    ("set sampler = sobl\npde u = 0 in Omega", 3, "did you mean 'sobol'"),
    ("set optimizer = adan(steps=1)\npde u = 0 in Omega", 3, "did you mean 'adam'"),
    ("set optimizer = adam(step=1)\npde u = 0 in Omega", 3, "no setting 'step' (did you mean 'steps'?)"),
    ("set points = 10\nset points = 20\npde u = 0 in Omega", 4, "already set on line 3"),
    ("let sin = 2\npde u = 0 in Omega", 3, "built-in name"),
    ("let u = 2\npde u = 0 in Omega", 3, "already declared"),
    ("let a = b\nlet b = a\npde u = a in Omega", 3, "refers to itself"),
    ("bc u = 0 in Omega", 3, "a bc holds on a boundary"),
    ("pde u = 0 on boundary(Omega)", 3, "a pde holds in a domain"),
    ("pde x = 0 in Omega", 3, "involves no field"),
    ("pde Dz(u) = 0 in Omega", 3, "unknown function 'Dz'"),
    ("pde u(x) = 0 in Omega", 3, "u takes 2 arguments (x, y), got 1"),
    ("pde lap(u) = 0 in Omega where z > 0", 3, "unknown name 'z'"),
    ("pde u = 0 in Omega with weigth=2", 3, "did you mean 'weight'"),
    ("pde u = 1e999 in Omega", 3, "out of range"),
    ("pde u = 1/0 in Omega", 3, "division by zero"),
    ("pde u = 0 in Omega where x < 0 and x > 1", 3, None),
    ("exact v = x", 3, "'v' is neither"),
    ("pde u = 0 in Omega\nexact u = u", 4, "coordinates and constants only"),
    ("pde sin(grad(u)) = 0 in Omega", 3, "expected a scalar"),
    ("pde u = 0 in Omega where x == 2", 3, None),
])
def test_mistakes_name_their_line(body, line, words):
    source = HEADER + body + "\n"
    try:
        problem(source)
    except SpecError as error:
        assert error.line == line, str(error)
        if words:
            assert words in str(error)
        assert str(error).startswith(f"spec.pde:{line}:")
    else:
        if words is not None:
            pytest.fail("no error")


def test_field_on_unknown_coordinate():
    with pytest.raises(SpecError) as caught:
        problem("domain O = box(x in [0, 1])\nfield u(y)\npde u = 0 in O\n")
    assert caught.value.line == 2 and "unknown coordinate 'y'" in str(caught.value)


def test_program_without_terms_is_an_error():
    with pytest.raises(SpecError, match="nothing to train"):
        problem(HEADER)


def test_analyze_keeps_integers_exact():
    program = parse("domain O = interval(x in [0, 1])\nfield u(x)\npde 0.1*u = 1/3 in O\n", "a.pde")
    (term,) = analyze(program).terms
    u = sympy.Function("u")(x)
    assert term.residual == sympy.Rational(1, 10) * u - sympy.Rational(1, 3)


def test_engd_defaults_apply_only_to_what_a_program_leaves_unset():
    text = HEADER + "pde lap(u) = 1 in Omega\nbc u = 0 on boundary(Omega)\n"
    natural = problem(text).options
    assert (natural.model.hidden, natural.points, natural.boundary_points) == ((64,), 1000, 200)
    assert problem(text).fields[0].model.hidden == (64,)
    chosen = problem(text + "set points = 3000\nset model = mlp(hidden=[8, 8])\n")
    assert (chosen.options.points, chosen.options.boundary_points) == (3000, 200)
    assert chosen.fields[0].model.hidden == (8, 8)
    chained = problem(text + "set optimizer = adam(steps=5) then engd(steps=5)\n").options
    assert (chained.model.hidden, chained.points) == ((64,), 1000)
    general = problem(text + "set optimizer = lbfgs(steps=5)\n").options
    assert (general.model.hidden, general.points, general.boundary_points) == \
        ((32, 32, 32), 2000, 400)
    variational = problem(HEADER + "minimize integral(Dx(u)^2)\n").options
    assert (variational.model.hidden, variational.points) == ((32, 32, 32), 2000)


def test_default_optimizer_depends_on_the_terms():
    least_squares = problem(HEADER + "pde lap(u) = 1 in Omega\nbc u = 0 on boundary(Omega)\n")
    assert [ph.name for ph in least_squares.options.optimizer] == ["engd"]
    variational = problem(HEADER + "minimize integral(Dx(u)^2)\n")
    assert [ph.name for ph in variational.options.optimizer] == ["adam", "lbfgs"]
    chosen = problem(HEADER + "pde lap(u) = 1 in Omega\nset optimizer = lbfgs(steps=7)\n")
    assert [(ph.name, ph.steps) for ph in chosen.options.optimizer] == [("lbfgs", 7)]


def test_a_let_param_or_domain_may_be_named_D_and_D_called_is_the_derivative():
    result = problem("let D = 2\nparam k = 1\ndomain Q = interval(x in [0, 1])\n"
                           "field u(x)\npde D*D(u, x) = k*D in Q\n")
    (term,) = result.terms
    x = sympy.Symbol("x", real=True)
    assert term.residual == 2 * sympy.Derivative(sympy.Function("u")(x), x) - 2 * sympy.Symbol("k", real=True)


def test_a_minimize_over_several_regions_is_one_term_per_region():
    result = problem("domain Omega = box(x in [0, 1], y in [0, 1])\nfield u(x, y)\n"
                           "minimize integral(u^2) + 3*integral(u, boundary(Omega)) "
                           "- integral(Dx(u), Omega)\n")
    labels = {t.label: t.region.on_boundary for t in result.terms}
    assert labels == {"minimize1_Omega": False, "minimize1_boundary_Omega": True}
    inside, boundary = result.terms
    x, y = sympy.symbols("x y", real=True)
    u = sympy.Function("u")(x, y)
    assert sympy.simplify(inside.residual - (u**2 - sympy.Derivative(u, x))) == 0
    assert sympy.simplify(boundary.residual - 3 * u) == 0
