"""The cost of the model forms: a loss-and-gradient step of each against a plain mlp of about
as many trained numbers.

    python bench/architectures.py [--points 2048] [--repeats 5] [--width 64]

On Burgers' equation (``Dt(u) + u*Dx(u) = nu*Dxx(u)``, a forward-Laplacian pass for the second
derivative) and on Poisson in 2-D (``lap(u) = f``), for each model form below, the time of one
jitted ``jax.value_and_grad`` of `Problem.loss` at ``--points`` interior points (plus the
boundary terms' own), steady state; and the same for 3 hidden tanh layers of the width whose
parameter count is nearest. Each pair is timed in alternation (`timing.in_alternation`),
``--repeats`` rounds; a time is the median over the rounds, the ratio the median of the
rounds' ratios (the form's time over the mlp's).

``--accuracy`` instead trains each form on u'' = -k² sin(kx) on [0, 1], k = 6 pi, u = 0 at both
ends (256 points, Adam, 3000 steps, lr 2e-3), and prints the relative L2 error against
sin(kx) on 501 points and the training time: spectral bias on a solution of three periods.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import jax
import numpy as np

import pinnc
from pinnc.compiler import defaults, ir

from timing import in_alternation, timed

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CASES = {"burgers": EXAMPLES / "burgers.pde", "poisson": EXAMPLES / "poisson.pde"}


def forms(width: int) -> list[str]:
    return [f"mlp(hidden=[{width}, {width}, {width}], fourier={width // 2}, sigma=1)",
            f"mlp(hidden=[{width}, {width}, {width}], factorized=true)",
            f"gated(hidden=[{width}, {width}, {width}])",
            f"pirate(blocks=1, width={width}, fourier={width // 2})",
            f"pirate(blocks=2, width={width}, fourier={width // 2}, factorized=true)"]


def matching_mlp(count: int, inputs: int) -> str:
    """The 3-layer tanh mlp from ``inputs`` coordinates with about ``count`` parameters."""
    size = lambda w: defaults.network_size(ir.Model(hidden=(w, w, w)), inputs)
    width = min(range(1, 1025), key=lambda w: abs(size(w) - count))
    return f"mlp(hidden=[{width}, {width}, {width}])"


def step(path: Path, model: str, points: int):
    """A jitted loss-and-gradient step of ``path`` with ``model``, its arguments and P."""
    problem = pinnc.compile_file(path, model=model, points=points, precision="float64")
    params = problem.init(jax.random.key(0))
    batch = problem.sample(jax.random.key(1))
    count = sum(leaf.size for leaf in jax.tree.leaves(params["fields"]))
    return jax.jit(jax.value_and_grad(problem.loss)), (params, batch), count


OSCILLATION = """let k = 6*pi
domain O = box(x in [0, 1])
field u(x)
pde Dxx(u) = -k^2*sin(k*x) in O
bc u = 0 on boundary(O)
set points = 256
set boundary_points = 2
set optimizer = adam(steps=3000, lr=2e-3)
"""
ACCURACY_MODELS = ["mlp(hidden=[32, 32, 32])", "mlp(hidden=[32, 32, 32], fourier=16, sigma=5)",
                   "gated(hidden=[32, 32, 32])", "pirate(blocks=2, width=32, fourier=16, sigma=5)"]


def print_accuracy() -> None:
    print("| model | rel. L2 | final loss | train s |")
    print("| --- | --- | --- | --- |")
    X = np.linspace(0, 1, 501)[:, None]
    exact = np.sin(6 * np.pi * X[:, 0])
    for model in ACCURACY_MODELS:
        result = pinnc.compile_source(OSCILLATION, name="oscillation", model=model).train(
            progress=False)
        error = np.linalg.norm(np.asarray(result.field("u")(X)) - exact) / np.linalg.norm(exact)
        print(f"| `{model}` | {error:.2e} | {result.metrics['loss']:.2e} | "
              f"{result.metrics['time_s']:.0f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--accuracy", action="store_true")
    args = parser.parse_args()
    if args.accuracy:
        return print_accuracy()
    print("| case | model | P | ms | mlp of about P | P | ms | ratio |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for case, path in CASES.items():
        for model in forms(args.width):
            runs, counts = {}, {}
            function, arguments, counts[model] = step(path, model, args.points)
            plain = matching_mlp(counts[model], 2)
            for name in (model, plain):
                if name != model:
                    function, arguments, counts[name] = step(path, name, args.points)
                jax.block_until_ready(function(*arguments))
                runs[name] = timed(function, arguments)
            seconds = in_alternation(runs, args.repeats)
            ratio = float(np.median(np.asarray(seconds[model]) / np.asarray(seconds[plain])))
            ms = {name: 1e3 * float(np.median(s)) for name, s in seconds.items()}
            print(f"| {case} | `{model}` | {counts[model]} | {ms[model]:.1f} | `{plain}` | "
                  f"{counts[plain]} | {ms[plain]:.1f} | {ratio:.2f} |", flush=True)


if __name__ == "__main__":
    main()
