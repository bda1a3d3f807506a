"""Does adaptive term weighting help? Helmholtz (a1 = 1, a2 = 4 on [-1, 1]^2), trained with and
without `weighting = gradnorm(...)`, in one run.

    python bench/weighting.py [--steps 3000] [--optimizers adam,engd]

For each optimizer, the relative L2 error of u reached with fixed weights and with
gradient-norm balancing (every 100 steps for Adam, every 10 for ENGD), the final weights'
multipliers, and the training seconds. Adam is where Wang, Teng & Perdikaris (2021) showed the
imbalance: the PDE term's gradient dwarfs the boundary term's, and the boundary is learned late.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import pinnc

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000, help="Adam steps (ENGD: steps/20)")
    parser.add_argument("--optimizers", default="adam,engd")
    args = parser.parse_args()
    print(f"{'optimizer':24} {'weighting':22} {'u rel. L2':>10} {'train s':>8}", flush=True)
    for name in args.optimizers.split(","):
        if name == "adam":
            optimizer, every = f"adam(steps={args.steps}, lr=1e-3)", 100
        else:
            optimizer, every = f"engd(steps={max(1, args.steps // 20)})", 10
        for weighting in ("none", f"gradnorm(every={every})"):
            problem = pinnc.compile_file(EXAMPLES / "helmholtz.pde", optimizer=optimizer,
                                         weighting=weighting)
            result = problem.train(progress=False)
            m = result.metrics
            print(f"{optimizer:24} {weighting:22} {m['fields']['u']['rel_l2']:10.3e} "
                  f"{m['time_s']:8.1f}", flush=True)


if __name__ == "__main__":
    main()
