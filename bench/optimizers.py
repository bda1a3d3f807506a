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
excluded) passes the largest budget. After every chunk of steps the error is measured (that
time is not counted): relative L2 against the exact solution on 10,000 fresh points (Burgers:
against the Cole–Hopf solution on a 201 x 101 grid; seed: the largest spread of u along x).
The table gives the error reached within each budget; one PNG per problem plots error
against time (``OUT_<problem>.png``).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import pinnc  # noqa: E402
from pinnc.runtime.train import field_errors, train  # noqa: E402

import references  # noqa: E402  (bench/references.py)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
OPTIMIZERS = {
    "adam-lbfgs": "adam(steps=1000, lr=1e-3) then lbfgs(steps=10000000)",
    "adam-engd": "adam(steps=1000, lr=1e-3) then engd(steps=10000000)",
    "ssbroyden": "ssbroyden(steps=10000000)",
}
PROBLEMS = ("poisson", "seed", "heat", "burgers", "helmholtz")


class Budget(Exception):
    pass


def error_function(name: str, problem):
    if name == "seed":
        x, y = np.linspace(-3, 3, 121), np.linspace(-2.5, 2.5, 101)
        X, Y = np.meshgrid(x, y)
        grid = np.stack([X.ravel(), Y.ravel()], axis=1)

        def spread(params):
            u = np.asarray(problem.field("u", params)(grid)).reshape(X.shape)
            return float(np.max(u.max(axis=1) - u.min(axis=1)))
        return spread
    if name == "burgers":
        points, expected = references.burgers_grid()

        def burgers(params):
            u = np.asarray(problem.field("u", params)(points), np.float64)
            return float(np.linalg.norm(u - expected) / np.linalg.norm(expected))
        return burgers
    return lambda params: field_errors(problem, params)["u"]["rel_l2"]


def run(name: str, optimizer: str, budget: float):
    problem = pinnc.compile_file(EXAMPLES / f"{name}.pde", optimizer=OPTIMIZERS[optimizer],
                                 precision="float64")
    error = error_function(name, problem)
    curve = []

    def measure(step, params, seconds):
        curve.append((seconds, error(params), step))
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
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "optimizers"))
    args = parser.parse_args()
    budgets = [float(b) for b in args.budgets.split(",")]
    header = " ".join(f"{'<= %gs' % b:>10}" for b in budgets)
    print(f"{'problem':10} {'optimizer':11} {header} {'steps':>7}  status", flush=True)
    for name in args.problems.split(","):
        figure, axes = plt.subplots(figsize=(6.5, 4.2))
        for optimizer in args.optimizers.split(","):
            curve, status = run(name, optimizer, max(budgets))
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
