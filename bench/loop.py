"""What the training loop costs beyond the loss evaluations it makes, and L-BFGS on the device
against SciPy's L-BFGS-B driving the same jitted function from the host.

    python bench/loop.py [EXAMPLE] [--adam 1000] [--lbfgs 500]

For EXAMPLE (default poisson) with its own network and points, float64:

- the unit of work: one loss-and-gradient, timed as 100 of them in one compiled `lax.scan`
  (each moving the parameters by 1e-12 of the gradient, so none is skipped), which is what a
  loop that added nothing would cost (a lone jitted call also pays its dispatch);
- Adam's chunk: one compiled chunk of 200 steps, the loop's own function, against 200 units,
  the two timed in alternation (best of 8 each): the loop's cost without Python around it;
- Adam: the loop's training time for N steps (one loss-and-gradient each) against N units;
- L-BFGS (optax, zoom line search): the loss-and-gradient evaluations it makes are counted in a
  separate run (a host callback in the loss, which would distort timing); the timed run's
  L-BFGS phase (its training time after Adam's steps) is compared with that many units;
- optax's L-BFGS alone: the same steps from the same start in a bare ``lax.scan`` (no
  history, no checks, nothing around them), which tells the loop's cost from optax's own;
- SciPy ``minimize(method="L-BFGS-B", jac=True)`` on the same jitted function, from the same
  start (after the same Adam phase), with the same memory (10), for as many iterations: time
  per iteration and per evaluation.

Training, units and SciPy are timed in alternation, ``--repeats`` rounds, and the least time
of each is kept: on a machine whose load changes from one minute to the next, times taken
minutes apart would differ by that change, not by the loop.

Overhead = loop time / (evaluations x eval) - 1.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import scipy.optimize
from jax.flatten_util import ravel_pytree

import pinnc
from pinnc.runtime.training import train

from timing import best_time, in_alternation, timed  # noqa: E402  (bench/timing.py)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def counted(problem):
    """The problem with a loss that counts its evaluations on the host."""
    calls = []
    original = problem.loss

    def loss(params, batch, weights=None):
        value = original(params, batch, weights)
        jax.debug.callback(lambda: calls.append(1))
        return value
    problem.loss = loss
    return calls


def phase_seconds(problem, first_steps: int) -> float:
    """Training time (compilation excluded) after step ``first_steps``: the time of the
    phases after the first ``first_steps`` steps (0: the whole run)."""
    before = []

    def note(step, params, seconds):
        if step == first_steps:
            before.append(seconds)
    seconds = train(problem, progress=False, callback=note).metrics["time_s"]
    return seconds - (before[0] if first_steps else 0.0)


def least_in_alternation(runs: dict, repeats: int) -> dict:
    """The least time of each of ``runs`` over ``repeats`` rounds in alternation."""
    return {name: min(seconds) for name, seconds in in_alternation(runs, repeats).items()}


def units(evaluations: int, hundred, params, batch):
    """A function timing ``evaluations`` units (``hundred`` called evaluations/100 times)."""
    calls = max(1, round(evaluations / 100))

    def run() -> float:
        started = time.perf_counter()
        for _ in range(calls):
            jax.block_until_ready(hundred(params, batch))
        return (time.perf_counter() - started) * evaluations / (100 * calls)
    return run


def adam_chunk_against_unit(problem, params, batch, hundred, rounds: int = 8):
    """The best times of one compiled chunk of 200 Adam steps (the training loop's own
    function, `runtime.training.chunks.chunk_function`) and of 100 units, timed in
    alternation, so that the machine's changing load falls on both alike."""
    from pinnc.runtime.optim import optimizer
    from pinnc.runtime.training import chunks
    from pinnc.runtime.training.step import Carry
    phase = problem.options.optimizer[0]
    carry = Carry.start(params, optimizer(phase).init(params), 0, batch,
                        jnp.ones(len(problem.ir.terms), problem.dtype))
    end = jnp.asarray(200, jnp.int32)
    chunk = jax.jit(chunks.chunk_function(problem, phase, 200, None)).lower(carry, end, {}).compile()
    runs = {"chunk": timed(chunk, (carry, end, {})), "unit": timed(hundred, (params, batch))}
    seconds = in_alternation(runs, rounds + 1)  # the first round warms up
    return min(seconds["chunk"][1:]), min(seconds["unit"][1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("example", nargs="?", default="poisson")
    parser.add_argument("--adam", type=int, default=1000)
    parser.add_argument("--lbfgs", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    path = EXAMPLES / f"{args.example}.pde"
    # the network and points are those Adam and L-BFGS train with (engd's defaults differ)
    base = pinnc.compile_file(path, precision="float64", optimizer=f"adam(steps={args.adam})")
    key = jax.random.key(base.options.seed)
    init_key, sample_key = jax.random.split(key)
    params, batch = base.init(init_key), base.sample(sample_key)
    single = best_time(jax.jit(jax.value_and_grad(base.loss)), (params, batch), 5)

    @jax.jit
    def hundred(params, batch):  # 100 evaluations in one program: no dispatch in between
        def body(p, _):
            value, grad = jax.value_and_grad(base.loss)(p, batch)
            return jax.tree.map(lambda a, g: a - 1e-12 * g, p, grad), value
        return jax.lax.scan(body, params, None, length=100)
    unit = best_time(hundred, (params, batch), 8) / 100
    print(f"# {args.example}: {jax.devices()[0].platform}; one loss-and-gradient: "
          f"{1e3 * single:.2f} ms called alone, {1e3 * unit:.2f} ms inside a compiled loop "
          "(the unit below)", flush=True)
    print(f"{'loop':28} {'steps':>6} {'evals':>6} {'time s':>8} {'ms/step':>8} "
          f"{'overhead':>9}", flush=True)

    chunk_s, unit_s = adam_chunk_against_unit(base, params, batch, hundred)
    print(f"{'adam chunk (interleaved)':28} {200:6d} {200:6d} {chunk_s:8.2f} "
          f"{1e3 * chunk_s / 200:8.2f} {chunk_s / (2 * unit_s) - 1:9.1%}", flush=True)

    adam = base.with_options(optimizer=f"adam(steps={args.adam})")
    best = least_in_alternation({"train": lambda: phase_seconds(adam, 0),
                           "units": units(args.adam, hundred, params, batch)}, args.repeats)
    t = best["train"]
    print(f"{'pinnc adam (interleaved)':28} {args.adam:6d} {args.adam:6d} {t:8.2f} "
          f"{1e3 * t / args.adam:8.2f} {t / best['units'] - 1:9.1%}", flush=True)

    phases = f"adam(steps={args.adam}) then lbfgs(steps={args.lbfgs})"
    lbfgs = base.with_options(optimizer=phases)
    counting = base.with_options(optimizer=phases)
    calls = counted(counting)
    train(counting, progress=False)
    evaluations = len(calls) - args.adam  # adam's one per step

    start_params = train(adam, progress=False).params
    theta, unravel = ravel_pytree(start_params)
    value_and_grad = jax.jit(jax.value_and_grad(lambda th: base.loss(unravel(th), batch)))

    def fun(th):
        value, grad = value_and_grad(jnp.asarray(th))
        return float(value), np.asarray(grad, np.float64)
    fun(np.asarray(theta))  # compile
    scipy_runs = []

    def run_scipy() -> float:
        started = time.perf_counter()
        scipy_runs.append(scipy.optimize.minimize(
            fun, np.asarray(theta, np.float64), jac=True, method="L-BFGS-B",
            options=dict(maxiter=args.lbfgs, maxcor=10, ftol=0, gtol=0)))
        return time.perf_counter() - started

    # optax's L-BFGS alone: its steps in a bare lax.scan, without pinnc's loop around them
    transform = optax.lbfgs(memory_size=10)

    @jax.jit
    def bare(params, batch):
        loss = lambda p: base.loss(p, batch)

        def body(carry, _):
            p, state = carry
            value, grad = optax.value_and_grad_from_state(loss)(p, state=state)
            updates, state = transform.update(grad, state, p, value=value, grad=grad,
                                              value_fn=loss)
            return (optax.apply_updates(p, updates), state), value
        return jax.lax.scan(body, (params, transform.init(params)), None, length=args.lbfgs)
    jax.block_until_ready(bare(start_params, batch))  # compile

    def run_bare() -> float:
        started = time.perf_counter()
        jax.block_until_ready(bare(start_params, batch))
        return time.perf_counter() - started

    best = least_in_alternation({"train": lambda: phase_seconds(lbfgs, args.adam),
                           "units": units(evaluations, hundred, params, batch),
                           "bare": run_bare, "scipy": run_scipy}, args.repeats)
    t, t_scipy, out = best["train"], best["scipy"], scipy_runs[-1]
    print(f"{'pinnc lbfgs (after adam)':28} {args.lbfgs:6d} {evaluations:6d} {t:8.2f} "
          f"{1e3 * t / args.lbfgs:8.2f} {t / best['units'] - 1:9.1%}", flush=True)
    print(f"{'optax lbfgs, bare lax.scan':28} {args.lbfgs:6d} {evaluations:6d} "
          f"{best['bare']:8.2f} {1e3 * best['bare'] / args.lbfgs:8.2f} "
          f"{best['bare'] / best['units'] - 1:9.1%}", flush=True)
    print(f"{'scipy L-BFGS-B (after adam)':28} {out.nit:6d} {out.nfev:6d} {t_scipy:8.2f} "
          f"{1e3 * t_scipy / out.nit:8.2f} {t_scipy / (out.nfev * best['units'] / evaluations) - 1:9.1%}", flush=True)
    print(f"\npinnc / scipy time per L-BFGS iteration: "
          f"{(t / args.lbfgs) / (t_scipy / out.nit):.2f}; pinnc's loop over optax's bare "
          f"steps: {t / best['bare'] - 1:+.1%}")


if __name__ == "__main__":
    main()
