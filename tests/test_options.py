"""compiler/options.py: `set` statements, their overrides and a term's options -> values."""
import pytest

from pinnc import SpecError
from pinnc.compiler import ir
from pinnc.compiler import syntax as s
from pinnc.compiler.options import options, term_options
from pinnc.compiler.parse import parse

HEAD = "domain O = box(x in [0, 1])\nfield u(x)\n"


def settings(text):
    return [st for st in parse(text, "spec.pde").statements if isinstance(st, s.SetOption)]


def term_keywords(text):
    return parse(HEAD + f"pde u = 0 in O {text}\n", "spec.pde").statements[-1].options


def test_unset_options_take_the_defaults_of_the_program():
    least_squares = options([])
    assert least_squares.optimizer == ir.default_optimizer(False)
    assert {phase.name for phase in least_squares.optimizer} == {"engd"}
    assert least_squares.points == 1000 and least_squares.model.hidden == (64,)
    general = options([], minimizes=True)
    assert general.optimizer == ir.default_optimizer(True)
    assert general.points == ir.Options().points and general.model == ir.Model()


def test_set_options_are_read_and_checked():
    read = options(settings("set points = 500\nset sampler = halton\n"
                            "set optimizer = adam(steps=10, lr=1e-2) then lbfgs\n"
                            "set model = mlp(hidden=[8, 8], activation=sin)\n"))
    assert (read.points, read.sampler, read.boundary_points) == (500, "halton", 400)
    adam, lbfgs = read.optimizer
    assert (adam.name, adam.steps, adam.get("lr", 0)) == ("adam", 10, 1e-2)
    assert (lbfgs.name, lbfgs.steps, lbfgs.get("memory", 0)) == ("lbfgs", 1000, 10)
    assert read.model == ir.Model(hidden=(8, 8), activation="sin")


def test_an_override_replaces_the_programs_value_but_setting_twice_is_a_mistake():
    assert options(settings("set seed = 1\n"), settings("set seed = 7\n")).seed == 7
    with pytest.raises(SpecError) as caught:
        options(settings("set seed = 1\nset seed = 2\n"))
    assert caught.value.reason == "option 'seed' is already set on line 1"
    assert (caught.value.line, caught.value.column) == (2, 5)


@pytest.mark.parametrize("text, reason", [
    ("set pionts = 10", "unknown option 'pionts' (did you mean 'points'?); options are points, "
                        "boundary_points, sampler, resample_every, refine, weighting, optimizer, "
                        "precision, seed, model, time_limit, devices, causal"),
    ("set points = 0", "points must be an integer >= 1, got 0"),
    ("set points = 2.5", "points must be an integer >= 1, got 2.5"),
    ("set points = 1e9", "points must be at most 10,000,000, got 1,000,000,000"),
    ("set sampler = sobel", "sampler must be one of uniform, sobol, halton, lhs, grid "
                            "(did you mean 'sobol'?)"),
    ("set optimizer = adam(lr=-1)", "lr must not be negative"),
    ("set optimizer = adam(rate=1)", "'adam' has no setting 'rate'; it takes steps, lr, "
                                     "loss_tol, grad_tol"),
    ("set weighting = gradnorm(smoothing=1)", "smoothing must be in [0, 1), got 1"),
    ("set seed = 1 then 2", "'then' joins optimizers only; 'seed' takes one value"),
])
def test_a_wrong_value_is_refused_at_its_place(text, reason):
    with pytest.raises(SpecError) as caught:
        options(settings(text))
    assert caught.value.reason == reason
    assert caught.value.line == 1


def test_a_terms_options_are_its_weight_and_points():
    assert term_options(()) == (1.0, None)
    assert term_options(term_keywords("with weight=2.5, points=300")) == (2.5, 300)


@pytest.mark.parametrize("text, reason", [
    ("with weight=-1", "weight must not be negative"),
    ("with weight=1, weight=2", "'weight' is given twice"),
    ("with wieght=1", "unknown term option 'wieght' (did you mean 'weight'?); use weight=... "
                      "or points=..."),
])
def test_a_wrong_term_option_is_refused(text, reason):
    with pytest.raises(SpecError) as caught:
        term_options(term_keywords(text))
    assert caught.value.reason == reason
