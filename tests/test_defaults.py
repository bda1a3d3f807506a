"""Defaults chosen by the program: the cost model and the rule (`compiler.defaults`)."""
from __future__ import annotations

from pathlib import Path

import pytest
import sympy

from pinnc.compiler import defaults, ir, options
from pinnc.compiler.pipeline import compile_text

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
POISSON = (EXAMPLES / "poisson.pde").read_text()


def analysed(text: str, **overrides) -> ir.Problem:
    return compile_text(text, "p.pde", overrides).problem


def test_network_size_counts_weights_and_biases():
    assert defaults.network_size(ir.Model(hidden=(64,)), 2) == 3 * 64 + 65
    assert defaults.network_size(ir.Model(hidden=(50, 50, 50)), 2) == 150 + 2 * 2550 + 51


def test_a_residual_costs_one_pass_per_order_of_each_derivative():
    x, y = sympy.symbols("x y")
    u = sympy.Function("u")(x, y)
    residual = sympy.diff(u, x, 4) + 2 * sympy.diff(u, x, 2, y, 2) + sympy.diff(u, y, 4) - 1
    assert defaults.point_flops(residual, {"u": 100}) == 2 * 100 * (1 + 12)
    assert defaults.point_flops(u - x, {"u": 100}) == 2 * 100


def test_poisson_by_default_trains_with_engd_for_at_most_five_minutes():
    problem = analysed(POISSON)
    assert [p.name for p in problem.options.optimizer] == ["engd"]
    assert problem.options.time_limit == defaults.TIME_LIMIT_S == 300
    chosen = dict(problem.options.chosen)
    assert set(chosen) == {"optimizer", "time_limit"}
    assert "1,200 residuals, 257 weights" in chosen["optimizer"]
    cost = defaults.estimate(problem)
    assert (cost.residuals, cost.parameters) == (1200, 257)
    assert cost.seconds("engd") * defaults.MIN_STEPS < defaults.TIME_LIMIT_S


# the step-length search a phase that does not set one takes
SEARCH = options.OPTIMIZERS["nystrom"]["search"]


def test_a_network_engd_cannot_afford_gets_the_sketched_step():
    text = POISSON + "set model = mlp(hidden=[50, 50, 50])\nset points = 4000\n"
    problem = analysed(text)
    (phase,) = problem.options.optimizer
    assert phase.name == "nystrom" and phase.get("rank", 0) == defaults.NYSTROM_RANK
    assert phase.get("search", SEARCH) == 1 and phase.get("rows", 0) == 0
    assert phase.steps == 5000
    assert "nystrom" in dict(problem.options.chosen)["optimizer"]
    cost = defaults.estimate(problem)
    assert cost.seconds(phase) < cost.seconds("engd") / 2
    assert cost.seconds(phase) * defaults.MIN_SKETCHED < defaults.TIME_LIMIT_S


def test_a_network_whose_whole_sketch_is_too_dear_gets_sampled_rows():
    # PINNacle's network and points: a sketch of the whole Jacobian takes about half a minute
    text = (POISSON + "set model = mlp(hidden=[100, 100, 100, 100, 100])\n"
            "set points = 8192\nset boundary_points = 2048\n")
    problem = analysed(text)
    (phase,) = problem.options.optimizer
    assert phase.name == "nystrom" and phase.get("rows", 0) == defaults.SAMPLED_ROWS
    assert phase.get("search", SEARCH) == 1 and phase.get("cg", 0) == defaults.SAMPLED_CG
    assert "512 residuals drawn each step" in dict(problem.options.chosen)["optimizer"]
    cost = defaults.estimate(problem)
    whole = ir.Phase("nystrom", 1, (("rank", 64.0), ("search", 1.0)))
    assert cost.seconds(whole) * defaults.MIN_SKETCHED > defaults.TIME_LIMIT_S
    assert cost.seconds(phase) < cost.seconds(whole) / 2


def test_what_a_program_sets_is_kept():
    problem = analysed(POISSON + "set optimizer = adam(steps=10)\n")
    assert problem.options.chosen == () and problem.options.time_limit is None
    assert [p.name for p in problem.options.optimizer] == ["adam"]
    problem = analysed(POISSON, time_limit=20)
    assert problem.options.time_limit == 20
    assert set(dict(problem.options.chosen)) == {"optimizer"}


def test_an_energy_keeps_first_order_training_with_no_time_limit():
    problem = analysed((EXAMPLES / "variational.pde").read_text())
    assert problem.options.chosen == () and problem.options.time_limit is None
