"""Defaults chosen by the program: what a step of each optimizer costs, and the rule that picks
the optimizer, its steps and a time limit where the program sets none.

The cost model counts floating-point operations from the program alone (no JAX, no machine):
a network of P weights costs 2P per point and forward pass; a residual needing derivatives of
total order k (summed over the distinct partials, each a Taylor pass of its order) costs
1 + k passes; its gradient by reverse mode about 3 times that. A Gauss–Newton step (`engd`)
forms the Jacobian and the smaller of its Gram matrices (M²P or MP²) and solves it; a Nyström
step (`nystrom`) takes 2k products with the Jacobian and O((M + P)k²) of dense algebra;
first-order steps take a loss and its gradient. Seconds are flops over `FLOPS_PER_SECOND`,
what 2 CPU cores sustain in float64 on these kernels: an accelerator is one to two orders of
magnitude faster, so the estimates are an upper bound there.

The rule (where the program sets no ``optimizer``, and every term is a mean square): `engd`
while at least `MIN_STEPS` of its steps fit in `TIME_LIMIT_S`, else `nystrom`, whose step costs
grow linearly in M and P; ``time_limit`` then defaults to `TIME_LIMIT_S`, so that a default run
ends in about five minutes on 2 cores whatever the network and points. A program that sets its
optimizer gets exactly what it set.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import sympy

from . import ir

FLOPS_PER_SECOND = 1e10
TIME_LIMIT_S = 300.0   # a default run's training time, at most
MIN_STEPS = 500        # engd steps that must fit in it: fewer reach less than the sketched step
LINE_SEARCH = 16       # loss evaluations of the natural-gradient line search (`engd.GRID`)
NYSTROM_RANK = 64


@dataclass(frozen=True)
class Estimate:
    """What a step costs on a program: M residual rows, P trained numbers, and the flops of
    one residual row and of one step of each optimizer."""
    residuals: int
    parameters: int
    row_flops: float
    step_flops: dict[str, float]

    def seconds(self, optimizer: str) -> float:
        return self.step_flops[optimizer] / FLOPS_PER_SECOND


def network_size(model: ir.Model, inputs: int) -> int:
    """Weights and biases of an MLP from ``inputs`` coordinates to one output."""
    widths = (inputs, *model.hidden, 1)
    return sum((a + 1) * b for a, b in zip(widths, widths[1:]))


def estimate(problem: ir.Problem) -> Estimate:
    """The cost model (module docstring) on ``problem`` with its options."""
    sizes = {f.name: network_size(f.model, len(f.coords)) for f in problem.fields}
    parameters = sum(sizes.values()) + len(problem.params)
    residuals, flops = 0, 0.0
    for term in problem.terms:
        n = _rows(problem, term)
        residuals += n
        flops += n * point_flops(term.residual, sizes)
    row = flops / max(residuals, 1)
    m, p = residuals, parameters
    gradient = jacobian = 3 * flops  # reverse mode, for one output or one per row
    gram = 2 * min(m * m * p, m * p * p) + min(m, p) ** 3 / 3
    k = min(NYSTROM_RANK, m, p)
    sketch = k * (2 * flops + 3 * flops) + 4 * (m + p) * k * k  # k JVPs, k VJPs, QR and SVD
    search = LINE_SEARCH * flops
    steps = {
        "adam": gradient,
        "lbfgs": 2 * gradient,
        "ssbroyden": 2 * gradient,
        "engd": jacobian + gram + search,
        "nystrom": sketch + gradient + search,
    }
    return Estimate(residuals, parameters, row, steps)


def _rows(problem: ir.Problem, term: ir.Term) -> int:
    if term.data is not None:
        return len(term.data.values)
    return problem.options.points_in(term.region, term.points)


def point_flops(residual: sympy.Expr, sizes: dict[str, int]) -> float:
    """Forward passes of each field's network a residual needs at one point, times 2P."""
    passes = {name: 0 for name in sizes}
    for function in residual.atoms(sympy.core.function.AppliedUndef):
        name = function.func.__name__
        if name in passes:
            passes[name] = max(passes[name], 1)
    for derivative in residual.atoms(sympy.Derivative):
        name = derivative.expr.func.__name__
        if name in passes:
            passes[name] += derivative.derivative_count
    return sum(2 * sizes[name] * count for name, count in passes.items())


def choose(problem: ir.Problem, unset: frozenset[str]) -> ir.Problem:
    """``problem`` with the options it leaves unset chosen by the rule (module docstring), and
    what was chosen, with why, in ``options.chosen``."""
    options = problem.options
    if "optimizer" not in unset or options.optimizer[0].name != "engd":
        return problem
    cost = estimate(problem)
    engd_s = cost.seconds("engd")
    why = (f"every term is a mean square: natural gradient; an engd step takes about "
           f"{duration(engd_s)} ({cost.residuals:,} residuals, {cost.parameters:,} weights)")
    optimizer = options.optimizer
    if engd_s * MIN_STEPS > TIME_LIMIT_S:
        phase = optimizer[0]
        optimizer = (ir.Phase("nystrom", phase.steps,
                              (("rank", float(NYSTROM_RANK)), *phase.settings)),)
        why += (f", too long for {MIN_STEPS} steps in {duration(TIME_LIMIT_S)}: nystrom "
                f"(rank {NYSTROM_RANK}), about {duration(cost.seconds('nystrom'))} a step")
    chosen = [("optimizer", why)]
    time_limit = options.time_limit
    if "time_limit" in unset:
        time_limit = TIME_LIMIT_S
        chosen.append(("time_limit", f"a default run trains for at most "
                                     f"{duration(TIME_LIMIT_S)}"))
    options = dataclasses.replace(options, optimizer=optimizer, time_limit=time_limit,
                                  chosen=tuple(chosen))
    return dataclasses.replace(problem, options=options)


def duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds:.2g} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.0f} h"
