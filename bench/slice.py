"""The end-to-end slice's figures: seed.pde and poisson.pde trained with their own options.

    python bench/slice.py [--float32]

Prints one table: problem, precision, the figure of merit (seed: the largest spread of u along
x over y in [-2.5, 2.5]; Poisson: relative L2 error against the exact solution on 10,000 fresh
points), optimizer steps, training and compile seconds, and the time to compile the spec
(parse, analysis, SymPy, code generation).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import pinnc

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def seed_spread(result) -> float:
    x = np.linspace(-3, 3, 121)
    y = np.linspace(-2.5, 2.5, 101)
    X, Y = np.meshgrid(x, y)
    u = np.asarray(result.field("u")(np.stack([X.ravel(), Y.ravel()], axis=1))).reshape(X.shape)
    return float(np.max(u.max(axis=1) - u.min(axis=1)))


def run(name: str, figure, **overrides) -> dict:
    started = time.perf_counter()
    problem = pinnc.compile_file(EXAMPLES / f"{name}.pde", **overrides)
    spec_s = time.perf_counter() - started
    result = problem.train(progress=False)
    m = result.metrics
    return {"problem": name, "precision": problem.options.precision, "figure": figure(result),
            "steps": m["steps"], "train_s": m["time_s"], "compile_s": m["compile_s"],
            "spec_s": spec_s, "status": m["status"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--float32", action="store_true", help="also train in float32")
    args = parser.parse_args()
    precisions = ["float64", "float32"] if args.float32 else ["float64"]
    rows = []
    for precision in precisions:
        rows.append(run("seed", seed_spread, precision=precision))
        rows.append(run("poisson", lambda r: r.metrics["fields"]["u"]["rel_l2"], precision=precision))
    print(f"{'problem':10} {'precision':9} {'figure':>10}  {'what':22} {'steps':>6} "
          f"{'train s':>8} {'compile s':>9} {'spec s':>7}  status")
    for row in rows:
        what = "spread of u along x" if row["problem"] == "seed" else "relative L2 error"
        print(f"{row['problem']:10} {row['precision']:9} {row['figure']:10.3e}  {what:22} "
              f"{row['steps']:6d} {row['train_s']:8.1f} {row['compile_s']:9.1f} "
              f"{row['spec_s']:7.2f}  {row['status']}")


if __name__ == "__main__":
    main()
