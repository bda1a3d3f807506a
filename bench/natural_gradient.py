"""Seconds per step of the Nyström natural gradient against ENGD, on the 2-D Poisson example.

    python bench/natural_gradient.py [--rank 64] [--cg 0] [--sampled 512] [--budget 60]
                                     [--engd-limit 1e12] [--rows 1x64:1000+250,...]
                                     [--form matrix-free]

Each row is `examples/poisson.pde` (float64) with a tanh network and interior + boundary
points. Columns: nystrom as set (its grid line search of 16 losses), with the backtracking
search (``search=1``), and with its sketch from ``--sampled`` rows drawn at random
(``rows=N``). A step is what the training step runs: the loss, then the optimizer's update with the
keywords its registry row takes (line search included), jitted with the points as an argument.
The first step (compilation) is not counted; then steps are timed until ``--budget`` seconds
have passed, at least one. ENGD is not run where its dense solve, min(M, P)²·max(M, P)
multiply-adds, exceeds ``--engd-limit``; the table then gives that count. The last row, 5×100
with 8,192 + 2,048 points, is PINNacle's network and points. Set OMP_NUM_THREADS=1 on a loaded
machine: LAPACK's threads otherwise wait on each other (a 2,000×64 QR then takes seconds).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import jax
import optax
from jax.flatten_util import ravel_pytree

import pinnc
from pinnc.compiler import ir, options
from pinnc.runtime.optim import registered
from pinnc.runtime.optim.nystrom import FORMS
from pinnc.runtime.training.step import keywords

jax.config.update("jax_enable_x64", True)
POISSON = Path(__file__).resolve().parent.parent / "examples" / "poisson.pde"
ROWS = ("1x64:1000+250,1x64:8000+2000,3x50:1000+250,3x50:4000+400,5x100:1000+250,"
        "5x100:8192+2048")


def phase(name: str, **settings: float) -> ir.Phase:
    """``name`` with its language defaults, ``settings`` over them."""
    defaults = {**options.OPTIMIZERS[name], **settings}
    return ir.Phase(name, 1, tuple((k, float(v)) for k, v in defaults.items() if k != "steps"))


def step_seconds(problem, phase: ir.Phase, budget: float, form: str | None = None
                 ) -> tuple[float, float, int]:
    """(compile s, s per step, steps timed) of ``phase``'s update on ``problem``; ``form``
    the registry row's form unless given."""
    row = registered(phase)
    transform = row.build(phase)
    params = problem.init(jax.random.key(0))
    batch = problem.sample(jax.random.key(1))
    if form is None and row.form is not None:
        form = row.form(problem, params, batch, phase)

    def one(params, state, batch):
        loss = lambda p: problem.loss(p, batch)
        value, grad = row.value_and_grad(loss, params, state, False)
        offered = keywords(problem, batch, None, loss, value, grad, form)
        updates, state = transform.update(grad, state, params,
                                          **{name: offered[name] for name in row.keywords})
        return optax.apply_updates(params, updates), state, value

    step = jax.jit(one)
    state = transform.init(params)
    started = time.perf_counter()
    params, state, value = jax.block_until_ready(step(params, state, batch))
    compiled = time.perf_counter() - started
    started, steps = time.perf_counter(), 0
    while steps == 0 or time.perf_counter() - started < budget:
        params, state, value = jax.block_until_ready(step(params, state, batch))
        steps += 1
    return compiled, (time.perf_counter() - started) / steps, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rank", type=int, default=int(options.OPTIMIZERS["nystrom"]["rank"]))
    parser.add_argument("--cg", type=int, default=int(options.OPTIMIZERS["nystrom"]["cg"]))
    parser.add_argument("--sampled", type=int, default=512,
                        help="rows of the sampled sketch (nystrom(rows=N))")
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--engd-limit", type=float, default=1e12)
    parser.add_argument("--rows", default=ROWS)
    parser.add_argument("--form", choices=FORMS, help="nystrom's form (default: its choice)")
    args = parser.parse_args()
    variants = {
        "nystrom": (phase("nystrom", rank=args.rank, cg=args.cg), args.form),
        "search=1": (phase("nystrom", rank=args.rank, cg=args.cg, search=1), args.form),
        f"rows={args.sampled}, search=1": (
            phase("nystrom", rank=args.rank, cg=args.cg, rows=args.sampled, search=1), None)}
    print(f"nystrom(rank={args.rank}, cg={args.cg}, form {args.form or 'its choice'}), with "
          f"the backtracking search and with a sampled sketch, against engd; seconds per step, "
          f"float64, {jax.device_count()} {jax.devices()[0].platform} device(s)\n")
    print(f"| network | points | M | P | {' | '.join(variants)} | engd | engd / fastest |")
    print(f"| --- | --- | --- | --- | {' | '.join('---' for _ in variants)} | --- | --- |")
    for spec in args.rows.split(","):
        network, points = spec.split(":")
        inside, edge = (int(n) for n in points.split("+"))
        depth, width = (int(n) for n in network.split("x"))
        problem = pinnc.compile_file(POISSON, points=inside, boundary_points=edge,
                                     model=f"mlp(hidden=[{', '.join([str(width)] * depth)}], "
                                           "activation=tanh)")
        size = int(ravel_pytree(problem.init(jax.random.key(0)))[0].shape[0])
        residuals = inside + edge
        ours = [step_seconds(problem, sketched, args.budget, form)[1]
                for sketched, form in variants.values()]
        dense = min(residuals, size) ** 2 * max(residuals, size)
        if dense > args.engd_limit:
            theirs, ratio = f"not run ({dense:.1e} multiply-adds)", "—"
        else:
            _, seconds, _ = step_seconds(problem, phase("engd"), args.budget)
            theirs, ratio = f"{seconds:.3g}", f"{seconds / min(ours):.3g}"
        print(f"| {network} | {inside:,} + {edge:,} | {residuals:,} | {size:,} | "
              f"{' | '.join(f'{s:.3g}' for s in ours)} | {theirs} | {ratio} |", flush=True)


if __name__ == "__main__":
    main()
