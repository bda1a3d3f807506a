"""Error against training time for three optimizers on five problems, in one run.

    python bench/optimizers.py [--budgets 30,120,300] [--problems poisson,seed,heat,burgers,helmholtz]
                               [--optimizers adam-lbfgs,adam-engd,ssbroyden] [--out bench/optimizers]

Each problem is its example file with its own options (points, network, precision float64)
and the optimizer replaced by one of:

- ``adam-lbfgs``: adam(steps=1000, lr=1e-3) then lbfgs (what DeepXDE, jinns and hand-written
  JAX do);
- ``adam-engd``: adam(steps=1000, lr=1e-3) then engd (natural gradient, Gauss–Newton);
- ``ssbroyden``: ssbroyden alone (self-scaled Broyden, strong Wolfe line search);

each given more steps than it can take, and stopped once its training time (compilation
excluded) passes the largest budget. After a chunk of steps, whenever training time has grown
by 5% since the last measurement, the error is measured (that time is not counted): relative L2 against the exact solution on 10,000 fresh points (Burgers:
against the Cole–Hopf solution on a 201 x 101 grid; seed: the largest spread of u along x).
The table gives the error reached within each budget; one PNG per problem plots error
against time (``OUT_<problem>.png``). ``--set OPTION=VALUE`` (repeatable) sets an option of
every run, as ``pinnc train --set`` does; ``engd`` runs engd alone.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import jax  # noqa: E402
import numpy as np  # noqa: E402

import pinnc  # noqa: E402
from pinnc.runtime.training import train  # noqa: E402
from pinnc.runtime.training.loop import exact_reference  # noqa: E402

import references  # noqa: E402  (bench/references.py)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
OPTIMIZERS = {
    "adam-lbfgs": "adam(steps=1000, lr=1e-3) then lbfgs(steps=10000000)",
    "adam-engd": "adam(steps=1000, lr=1e-3) then engd(steps=10000000)",
    "ssbroyden": "ssbroyden(steps=10000000)",
    "engd": "engd(steps=10000000)",
}
PROBLEMS = ("poisson", "seed", "heat", "burgers", "helmholtz")


class Budget(Exception):
    pass


def error_function(name: str, problem):
    """params -> the problem's error figure, with its points and reference values computed once
    and the field evaluated by one compiled function."""
    if name == "seed":
        x, y = np.linspace(-3, 3, 121), np.linspace(-2.5, 2.5, 101)
        X, Y = np.meshgrid(x, y)
        points = np.stack([X.ravel(), Y.ravel()], axis=1)
        u = jax.jit(lambda params: problem.field("u", params)(points))

        def spread(params):
            values = np.asarray(u(params)).reshape(X.shape)
            return float(np.max(values.max(axis=1) - values.min(axis=1)))
        return spread
    if name == "burgers":
        points, expected = references.burgers_grid()
    else:  # the points and values `field_errors` uses
        exact = next(e for e in problem.ir.exact if e.field == "u")
        rng = np.random.default_rng(2 ** 31 + problem.options.seed)
        points, expected = exact_reference(problem, exact, rng)
    u = jax.jit(lambda params: problem.field("u", params)(points))

    def relative_l2(params):
        difference = np.asarray(u(params), np.float64) - expected
        return float(np.linalg.norm(difference) / np.linalg.norm(expected))
    return relative_l2


def run(name: str, optimizer: str, budget: float, overrides: dict[str, str] | None = None):
    settings = {"precision": "float64", **(overrides or {}), "optimizer": OPTIMIZERS[optimizer]}
    problem = pinnc.compile_file(EXAMPLES / f"{name}.pde", **settings)
    error = error_function(name, problem)
    curve = []
    due = 0.0

    def measure(step, params, seconds):
        # measured each time training time has grown by 5% (each costs a little wall time,
        # none of it counted as training)
        nonlocal due
        if seconds >= due or seconds >= budget:
            curve.append((seconds, error(params), step))
            due = max(seconds * 1.05, seconds + 0.05)
        if seconds >= budget:
            raise Budget
    try:
        result = train(problem, progress=False, callback=measure)
        status = result.metrics["status"]
    except Budget:
        status = "budget"
    return curve, status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", default="30,120,300")
    parser.add_argument("--problems", default=",".join(PROBLEMS))
    parser.add_argument("--optimizers", default=",".join(OPTIMIZERS))
    parser.add_argument("--set", action="append", default=[], metavar="OPTION=VALUE",
                        help="an option for every run, as `pinnc train --set` takes it")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "optimizers"))
    args = parser.parse_args()
    budgets = [float(b) for b in args.budgets.split(",")]
    overrides = dict(item.split("=", 1) for item in args.set)
    header = " ".join(f"{'<= %gs' % b:>10}" for b in budgets)
    print(f"{'problem':10} {'optimizer':11} {header} {'steps':>7}  status", flush=True)
    for name in args.problems.split(","):
        figure, axes = plt.subplots(figsize=(6.5, 4.2))
        for optimizer in args.optimizers.split(","):
            curve, status = run(name, optimizer, max(budgets), overrides)
            times = np.array([c[0] for c in curve])
            errors = np.array([c[1] for c in curve])
            within = [f"{errors[times <= b][-1]:10.2e}" if np.any(times <= b) else f"{'-':>10}"
                      for b in budgets]  # the error where training stood at that time
            print(f"{name:10} {optimizer:11} {' '.join(within)} {curve[-1][2]:7d}  {status}",
                  flush=True)
            axes.semilogy(times, errors, label=optimizer)
        axes.set_xlabel("training time (s, compilation excluded)")
        axes.set_ylabel("seed: spread of u along x" if name == "seed" else "relative L2 error")
        axes.set_title(f"{name}.pde, float64")
        axes.grid(True, which="both", alpha=0.3)
        axes.legend()
        figure.tight_layout()
        figure.savefig(f"{args.out}_{name}.png", dpi=110)
        plt.close(figure)


if __name__ == "__main__":
    main()
