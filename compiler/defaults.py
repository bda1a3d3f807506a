"""Defaults chosen by the program: what a step of each optimizer costs, and the rule that picks
the optimizer, its steps and a time limit where the program sets none.

The cost model counts floating-point operations from the program alone (no JAX, no machine):
a network of P weights costs 2P per point and forward pass; a residual needing derivatives of
total order k (summed over the distinct partials, each a Taylor pass of its order) costs
1 + k passes; its gradient by reverse mode about 3 times that; a Jacobian formed row by row
that, plus `JACOBIAN_ENTRY_FLOPS` per entry. A Gauss–Newton step (`engd`)
forms the Jacobian and the smaller of its Gram matrices (M²P or MP²) and solves it; a Nyström
step (`nystrom`) forms the Jacobian (of the rows it draws, with ``rows``), takes 2k products
with it and O((M + P)k²) of dense algebra, and the loss's gradient;
first-order steps take a loss and its gradient. Seconds are flops over `FLOPS_PER_SECOND`,
what 2 CPU cores sustain in float64 on these kernels: an accelerator is one to two orders of
magnitude faster, so the estimates are an upper bound there.

The rule (where the program sets no ``optimizer``, and every term is a mean square): `engd`
while at least `MIN_STEPS` of its steps fit in `TIME_LIMIT_S`, else `nystrom` with the
backtracking search, whose step costs grow linearly in M and P, sketching the whole Jacobian
while `MIN_SKETCHED` of its steps fit, else `SAMPLED_ROWS` rows of it drawn each step with
`SAMPLED_CG` conjugate-gradient iterations on the whole Gauss–Newton matrix (`sketched`); ``time_limit`` then defaults to
`TIME_LIMIT_S`, so that a default run ends in about five minutes on 2 cores whatever the
network and points. A program that sets its
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
MIN_SKETCHED = 100     # nystrom steps that must fit in it, else its sketch takes sampled rows
LINE_SEARCH = 16       # loss evaluations of the grid search, at most (`engd.GRID`)
BACKTRACKING = 2       # loss evaluations of the backtracking search (search=1), typically
NYSTROM_RANK = 64
# Forming a Jacobian row by row (reverse mode at single points) costs, beyond its flops, about
# this many flops' time per entry written: 15-35 ns an entry on 2 cores (3x50 and 5x100 nets),
# 20 times a batched gradient's time on 5x100 with 10,240 points.
JACOBIAN_ENTRY_FLOPS = 200
SAMPLED_ROWS = 512     # residual rows of a sampled sketch, chosen where the whole J is too dear
SAMPLED_CG = 4         # its iterations on the whole JᵀJ: without them it stalls far above engd


@dataclass(frozen=True)
class Estimate:
    """What a step costs on a program: M residual rows, P trained numbers, the flops of one
    residual row and of a forward pass over every row; `seconds` of a step of an optimizer."""
    residuals: int
    parameters: int
    row_flops: float
    flops: float

    def step_flops(self, optimizer: str | ir.Phase) -> float:
        """Flops of one step of ``optimizer`` (a name: its language defaults)."""
        phase = optimizer if isinstance(optimizer, ir.Phase) else ir.Phase(optimizer, 1, ())
        m, p, flops = self.residuals, self.parameters, self.flops
        gradient = 3 * flops  # reverse mode, for one output
        jacobian = gradient + JACOBIAN_ENTRY_FLOPS * m * p  # one per row
        search = flops * (BACKTRACKING if phase.get("search", 1) <= 1
                          else min(phase.get("search", 1), LINE_SEARCH))
        if phase.name == "engd":
            gram = 2 * min(m * m * p, m * p * p) + min(m, p) ** 3 / 3
            return jacobian + gram + search
        if phase.name == "nystrom":
            rows = int(phase.get("rows", 0))
            k = min(int(phase.get("rank", NYSTROM_RANK)), m, p)
            iterations = phase.get("cg", 0) * (2 + 3) * flops  # a JVP and a VJP each
            if rows > 0:  # the Jacobian of the rows drawn, its sketch, and the gradient
                rows = min(rows, m)
                return (jacobian * rows / m + 4 * rows * p * k + 4 * (rows + p) * k * k
                        + gradient + iterations + search)
            # the Jacobian formed, k products with it and k with its transpose, QR and SVD
            return jacobian + 4 * m * p * k + 4 * (m + p) * k * k + iterations + search
        return {"adam": 1, "lbfgs": 2, "ssbroyden": 2}.get(phase.name, 1) * gradient

    def seconds(self, optimizer: str | ir.Phase) -> float:
        return self.step_flops(optimizer) / FLOPS_PER_SECOND


def network_size(model: ir.Model, inputs: int) -> int:
    """The trained numbers of a network from ``inputs`` coordinates to one output
    (`runtime.model.networks`): weights and biases, weight scales where factorized, and a
    pirate net's block weights alpha. Fourier features are not trained."""
    width = 2 * model.fourier if model.fourier else inputs
    dense = lambda a, b: (a + 1) * b + (b if model.factorized else 0)
    encoders = 2 * dense(width, model.hidden[0]) if model.form != "mlp" else 0
    if model.form == "pirate":
        h = model.hidden[0]
        block = dense(width, h) + dense(h, h) + dense(h, width) + 1
        return encoders + len(model.hidden) * block + dense(width, 1)
    widths = (width, *model.hidden, 1)
    return encoders + sum(dense(a, b) for a, b in zip(widths, widths[1:]))


def estimate(problem: ir.Problem) -> Estimate:
    """The cost model (module docstring) on ``problem`` with its options."""
    sizes = {f.name: network_size(f.model, len(f.coords)) for f in problem.fields}
    parameters = sum(sizes.values()) + len(problem.params)
    residuals, flops = 0, 0.0
    for term in problem.terms:
        n = _rows(problem, term)
        residuals += n
        flops += n * point_flops(term.residual, sizes)
    return Estimate(residuals, parameters, flops / max(residuals, 1), flops)


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
        phase, reason = sketched(optimizer[0], cost)
        optimizer = (phase,)
        why += f", too long for {MIN_STEPS} steps in {duration(TIME_LIMIT_S)}: {reason}"
    chosen = [("optimizer", why)]
    time_limit = options.time_limit
    if "time_limit" in unset:
        time_limit = TIME_LIMIT_S
        chosen.append(("time_limit", f"a default run trains for at most "
                                     f"{duration(TIME_LIMIT_S)}"))
    options = dataclasses.replace(options, optimizer=optimizer, time_limit=time_limit,
                                  chosen=tuple(chosen))
    return dataclasses.replace(problem, options=options)


def sketched(engd: ir.Phase, cost: Estimate) -> tuple[ir.Phase, str]:
    """The `nystrom` phase that stands in for ``engd`` (its steps and settings), and why: a
    sketch of the whole Jacobian while `MIN_SKETCHED` of its steps fit in `TIME_LIMIT_S`, else
    of `SAMPLED_ROWS` rows drawn at random; either with the backtracking search."""
    settings = (("rank", float(NYSTROM_RANK)), *engd.settings)
    phase = ir.Phase("nystrom", engd.steps, settings)
    why = f"nystrom (rank {NYSTROM_RANK}), about {duration(cost.seconds(phase))} a step"
    if cost.seconds(phase) * MIN_SKETCHED > TIME_LIMIT_S and cost.residuals > SAMPLED_ROWS:
        phase = ir.Phase("nystrom", engd.steps, (("rows", float(SAMPLED_ROWS)),
                                                 ("cg", float(SAMPLED_CG)), *settings))
        why = (f"nystrom sketching {SAMPLED_ROWS} residuals drawn each step, with "
               f"{SAMPLED_CG} iterations on the whole Gauss–Newton matrix (the whole "
               f"Jacobian's sketch would allow fewer than {MIN_SKETCHED} steps), about "
               f"{duration(cost.seconds(phase))} a step")
    return phase, why


def duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds:.2g} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.0f} h"
