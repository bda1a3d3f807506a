"""Train every example with its own options and print one table.

    python bench/accuracy.py [NAME | FILE.pde ...] [--untuned] [--set OPTION=VALUE ...]

``--untuned`` trains instead the programs of `bench/untuned/`, written as their authors would
(their own networks and points, no optimizer), with pinnc's defaults.

Columns: problem; the figure of merit (relative L2 error of each field with an `exact`; for
`heat_inverse` the relative error of kappa against 0.1; for `seed` the largest spread of u
along x; for `burgers` the relative L2 error against the Cole–Hopf solution on a 201 x 101
grid, `bench/references.py`); optimizer steps; training and compile seconds; status (and why
training stopped early); the optimizer phases.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import pinnc
from pinnc.compiler.pipeline import parse_assignment

import references  # bench/references.py, beside this script

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
UNTUNED = Path(__file__).resolve().parent / "untuned"
KAPPA = 0.1  # heat_observations.csv was made with kappa = 0.1


def seed_spread(result) -> float:
    x, y = np.linspace(-3, 3, 121), np.linspace(-2.5, 2.5, 101)
    X, Y = np.meshgrid(x, y)
    u = np.asarray(result.field("u")(np.stack([X.ravel(), Y.ravel()], axis=1))).reshape(X.shape)
    return float(np.max(u.max(axis=1) - u.min(axis=1)))


def figures(name: str, result) -> list[tuple[str, float]]:
    metrics = result.metrics
    if name == "seed":
        return [("spread of u along x", seed_spread(result))]
    if name == "burgers":  # against the Cole–Hopf solution (bench/references.py)
        points, expected = references.burgers_grid()
        predicted = np.asarray(result.field("u")(points), np.float64)
        return [("u rel. L2 (Cole-Hopf)",
                 float(np.linalg.norm(predicted - expected) / np.linalg.norm(expected)))]
    if name == "heat_inverse":
        return [("kappa rel. error", abs(metrics["params"]["kappa"] - KAPPA) / KAPPA)]
    return [(f"{field} rel. L2", e["rel_l2"]) for field, e in metrics["fields"].items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="examples, or .pde files, to run (default: all)")
    parser.add_argument("--untuned", action="store_true", help="the programs of bench/untuned/")
    parser.add_argument("--set", action="append", default=[], metavar="OPTION=VALUE")
    args = parser.parse_args()
    overrides = dict(parse_assignment(a) for a in args.set)
    paths = [Path(n) if n.endswith(".pde") else EXAMPLES / f"{n}.pde" for n in args.names]
    paths = paths or sorted((UNTUNED if args.untuned else EXAMPLES).glob("*.pde"))
    print(f"{'problem':14} {'figure':22} {'value':>10} {'steps':>6} {'train s':>8} "
          f"{'compile s':>9}  status  optimizer", flush=True)
    for path in paths:
        problem = pinnc.compile_file(path, **overrides)
        result = problem.train(progress=False)
        m = result.metrics
        status = m["status"] + (f" ({m['stopped']})" if m.get("stopped") else "")
        phases = " then ".join(p.name for p in problem.options.optimizer)
        for what, value in figures(path.stem, result) or [("(no exact solution)", float("nan"))]:
            print(f"{path.stem:14} {what:22} {value:10.3e} {m['steps']:6d} {m['time_s']:8.1f} "
                  f"{m['compile_s']:9.1f}  {status}  {phases}", flush=True)


if __name__ == "__main__":
    main()
