"""The cost of residual derivatives: pinnc's generated code against hand-written JAX.

    python bench/derivatives.py [--cases poisson2d,burgers,...] [--widths 64,128]
                                [--precisions float32,float64] [--points 4096] [--repeats 7]
                                [--system] [--against DIR]

For each case, network width (4 hidden tanh layers) and precision, the time of one jitted
loss-and-parameter-gradient (``jax.value_and_grad`` of the mean squared residual at the points,
steady state, after a warm-up) for:

- ``pinnc``: the generated module's residual function for the case's one `pde` term;
- ``nested``: one chain of nested ``jax.jvp`` per partial derivative (what a careful user writes);
- ``hessian``: ``jax.hessian`` of the network at the point (its diagonal or entries for second
  order; ``jax.jacfwd`` of it for third and fourth order);
- ``jet``: ``jax.experimental.jet`` along coordinate axes: one jet of the needed order per pure
  derivative (vmapped over axes for a Laplacian); a mixed partial is a jet along one axis of a
  jet (or JVP) along the other;
- ``floor``: the loss ``mean(u**2)`` of the network alone, forward only (no derivative in x).

``--system`` adds steady Navier-Stokes in 2-D (three fields, three equations on the same points):
the loss with the merged plan of the terms sharing points, against each term's own plan (every
partial a term needs computed again in each term) and nested JVPs written by hand.

``--against DIR`` compares two trees of pinnc instead, on the same cases: this script's and
the one at DIR (a checkout or `git worktree` of another commit), each in a process of its own
(`trees.py`). For each case it prints both trees' times of a loss-and-gradient step of
`Problem.loss` (in each round the least of five calls) and their ratio (this tree over DIR),
the same for tracing and lowering a fresh jit of the step (where the derivative kernels walk
the network's jaxpr in Python), and whether the two lowered programs are the same text.

The implementations are timed in alternation: ``--repeats`` rounds, each running every
implementation once, so that a change of load on the machine falls on all of them alike. A time
is the median over the rounds; a ratio is the median of the rounds' ratios.

Every implementation uses the same network function (`Problem.field_functions`) and
parameters; residuals are checked to agree with pinnc's before timing. Ratios: pinnc / best
baseline, and pinnc / floor. For 100-D the compiled programs' temporary memory is printed too
(XLA's `memory_analysis`, the peak working set of the loss and gradient on this backend).
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import jet

import pinnc
from pinnc.runtime.model import Entry
import trees  # noqa: E402  (bench/trees.py and bench/timing.py, beside this script)
from timing import in_alternation, timed  # noqa: E402


def _lap(coords):
    return {"pde": "lap(u)", "terms": [(1.0, (i, i)) for i in range(len(coords))], "u": 0.0}


def _coords(n):
    return [f"x{i}" for i in range(1, n + 1)]


# case -> coordinates, the pde's left side, and the residual as sum(c * partial) [+ u*partial]
CASES = {
    "poisson2d": dict(coords=["x", "y"], **_lap("xy")),
    "poisson5d": dict(coords=_coords(5), **_lap(_coords(5))),
    "poisson20d": dict(coords=_coords(20), **_lap(_coords(20))),
    "poisson50d": dict(coords=_coords(50), **_lap(_coords(50))),
    "poisson100d": dict(coords=_coords(100), **_lap(_coords(100))),
    "burgers": dict(coords=["x", "t"], pde="Dt(u) + u*Dx(u) - 0.01/pi*Dxx(u)",
                    terms=[(1.0, (1,)), (-0.01 / math.pi, (0, 0))], u=(0,)),
    "dxxy": dict(coords=["x", "y"], pde="Dxxy(u)", terms=[(1.0, (0, 0, 1))], u=0.0),
    "dxxyy": dict(coords=["x", "y"], pde="Dxxyy(u)", terms=[(1.0, (0, 0, 1, 1))], u=0.0),
    "biharmonic": dict(coords=["x", "y"], pde="Dxxxx(u) + 2*Dxxyy(u) + Dyyyy(u)",
                       terms=[(1.0, (0, 0, 0, 0)), (2.0, (0, 0, 1, 1)), (1.0, (1, 1, 1, 1))],
                       u=0.0),
    # the 3-D biharmonic: the plan keeps Taylor passes and chains (collapsed: 1.39x nested)
    "biharmonic3d": dict(coords=["x", "y", "z"],
                         pde="Dxxxx(u) + Dyyyy(u) + Dzzzz(u) + 2*Dxxyy(u) + 2*Dxxzz(u) "
                             "+ 2*Dyyzz(u)",
                         terms=[(1.0, (i,) * 4) for i in range(3)]
                         + [(2.0, (i, i, j, j)) for i in range(3) for j in range(i + 1, 3)],
                         u=0.0),
}


# --- hand-written derivative engines: partial(f, q, index) -----------------------------------------

def nested_partial(f, q, index):
    g = f
    for i in index:
        e = jnp.zeros_like(q).at[i].set(1)
        g = (lambda g, e: lambda r: jax.jvp(g, (r,), (e,))[1])(g, e)
    return g(q)


def hessian_partial(f, q, index, cache):
    order = len(index)
    if order == 1:
        key = 1
        if key not in cache:
            cache[key] = jax.grad(f)(q)
        return cache[key][index]
    if order not in cache:
        g = jax.hessian(f)
        for _ in range(order - 2):
            g = jax.jacfwd(g)
        cache[order] = g(q)
    return cache[order][index]


def _jet_axis(f, q, axis, order):
    e = jnp.zeros_like(q).at[axis].set(1)
    series = [e] + [jnp.zeros_like(q)] * (order - 1)
    _, out = jet.jet(f, (q,), (series,))
    return out[order - 1]


def jet_partial(f, q, index):
    counts = {i: index.count(i) for i in sorted(set(index))}
    axes = list(counts)
    g = f
    for axis in axes[1:]:  # inner jets along the other axes, the outer one along the first
        g = (lambda g, a, k: lambda r: _jet_axis(g, r, a, k))(g, axis, counts[axis])
    return _jet_axis(g, q, axes[0], counts[axes[0]])


def residual_with(engine, case):
    def residual(f, q):
        if engine == "hessian":
            cache = {}
            partial = lambda index: hessian_partial(f, q, tuple(index), cache)
        else:
            partial = {"nested": nested_partial, "jet": jet_partial}[engine]
            partial = (lambda p: lambda index: p(f, q, tuple(index)))(partial)
        if case["pde"] == "lap(u)" and engine == "hessian":
            total = jnp.trace(jax.hessian(f)(q))
        elif case["pde"] == "lap(u)" and engine == "jet":
            total = jnp.sum(jax.vmap(lambda a: _jet_axis(f, q, a, 2))(jnp.arange(q.shape[0])))
        else:
            total = sum(c * partial(index) for c, index in case["terms"])
        if case["u"] != 0.0:  # u * partial
            total = total + f(q) * partial(case["u"])
        return total
    return residual


# --- timing -------------------------------------------------------------------------------------

def steps_in_alternation(steps: dict, args, rounds: int) -> dict:
    """Per implementation, its seconds in each of `rounds` rounds in alternation, after one
    warm-up call each."""
    for step in steps.values():
        jax.block_until_ready(step(*args))
    return in_alternation({key: timed(step, args) for key, step in steps.items()}, rounds)


def median_ratio(numerator, denominator) -> float:
    return float(np.median(np.asarray(numerator) / np.asarray(denominator)))


def program(name, width, precision) -> str:
    """The program of a case: its pde on the unit box, solved by 4 hidden tanh layers."""
    coords = CASES[name]["coords"]
    return ("domain O = box(" + ", ".join(f"{c} in [0, 1]" for c in coords) + ")\n"
            f"field u({', '.join(coords)})\npde {CASES[name]['pde']} = 0 in O\n"
            f"set model = mlp(hidden=[{width}, {width}, {width}, {width}])\n"
            f"set precision = {precision}\n")


def run_case(name, width, precision, points, repeats, memory):
    case = CASES[name]
    coords = case["coords"]
    problem = pinnc.compile_source(program(name, width, precision), name)
    params = problem.init(jax.random.key(0))
    dtype = problem.dtype
    X = jnp.asarray(np.random.default_rng(0).uniform(0, 1, (points, len(coords))), dtype)
    term = problem.module.TERM_RESIDUALS["pde1"]

    def pinnc_residuals(params, X):
        return term(problem.field_functions(params), params["params"],
                    Entry(points=X, measure=1.0))

    def baseline(engine):
        residual = residual_with(engine, case)
        return lambda params, X: jax.vmap(
            lambda q: residual(problem.field_functions(params)["u"], q))(X)

    def floor(params, X):
        return jax.vmap(problem.field_functions(params)["u"])(X)

    implementations = {"pinnc": pinnc_residuals, "nested": baseline("nested"),
                       "hessian": baseline("hessian"), "jet": baseline("jet"), "floor": floor}
    check = X[:16]
    reference = np.asarray(jax.jit(pinnc_residuals)(params, check))
    agree = True
    for key in ("nested", "hessian", "jet"):
        values = np.asarray(jax.jit(implementations[key])(params, check))
        tolerance = 1e-6 if precision == "float64" else 2e-2
        agree &= bool(np.allclose(values, reference, rtol=tolerance,
                                  atol=tolerance * np.abs(reference).max()))
    steps, memories = {}, {}
    for key, residuals in implementations.items():
        loss = lambda params, X, residuals=residuals: jnp.mean(residuals(params, X) ** 2)
        steps[key] = jax.jit(jax.value_and_grad(loss))
        if memory:
            analysis = steps[key].lower(params, X).compile().memory_analysis()
            memories[key] = getattr(analysis, "temp_size_in_bytes", float("nan")) / 2 ** 20
    return steps_in_alternation(steps, (params, X), repeats), memories, agree


NAVIER_STOKES = """\
domain O = box(x in [0, 1], y in [0, 1])
field u(x, y)
field v(x, y)
field p(x, y)
pde u*Dx(u) + v*Dy(u) + Dx(p) - 0.01*lap(u) = 0 in O
pde u*Dx(v) + v*Dy(v) + Dy(p) - 0.01*lap(v) = 0 in O
pde Dx(u) + Dy(v) = 0 in O
set model = mlp(hidden=[{w}, {w}, {w}, {w}])
set precision = {precision}
"""


def run_system(width, precision, points, repeats):
    """Steady Navier-Stokes (three equations, three fields, shared points): the loss with the
    merged plan (`Problem.loss`) against each term's own plan summed, and nested JVPs by hand."""
    problem = pinnc.compile_source(NAVIER_STOKES.format(w=width, precision=precision), "ns",
                                   points=points)
    params = problem.init(jax.random.key(0))
    batch = problem.sample(jax.random.key(1))
    X = batch["pde1"].points
    labels = ("pde1", "pde2", "pde3")

    def merged(params):
        return problem.loss(params, batch)

    def separate(params):
        fields = problem.field_functions(params)
        return sum(jnp.mean(problem.module.TERM_RESIDUALS[label](fields, params["params"],
                                                                 batch[label]) ** 2)
                   for label in labels)

    def nested(params):
        f = problem.field_functions(params)

        def at(q):
            d = lambda name, index: nested_partial(f[name], q, index)
            u, v = f["u"](q), f["v"](q)
            r1 = u * d("u", (0,)) + v * d("u", (1,)) + d("p", (0,)) - 0.01 * (
                d("u", (0, 0)) + d("u", (1, 1)))
            r2 = u * d("v", (0,)) + v * d("v", (1,)) + d("p", (1,)) - 0.01 * (
                d("v", (0, 0)) + d("v", (1, 1)))
            return r1, r2, d("u", (0,)) + d("v", (1,))
        return sum(jnp.mean(r ** 2) for r in jax.vmap(at)(X))

    values = [float(jax.jit(g)(params)) for g in (merged, separate, nested)]
    assert np.allclose(values, values[0], rtol=1e-5), values
    steps = {name: jax.jit(jax.value_and_grad(g))
             for name, g in (("merged", merged), ("separate", separate), ("nested", nested))}
    return steps_in_alternation(steps, (params,), repeats)


def print_against(against: Path, cases: list[str], args) -> None:
    """The ``--against`` table: each case's step and trace times in both trees."""
    print(f"# this tree {trees.THIS_TREE} against {against.resolve()}; {args.points} points; "
          f"loss + parameter gradient; medians of {args.repeats} rounds in alternation",
          flush=True)
    print(f"{'case':13} {'width':>5} {'precision':9} {'this ms':>9} {'against':>9} {'ratio':>6} "
          f"{'trace ms':>9} {'against':>9} {'ratio':>6}  same program", flush=True)
    programs = [(name, width, precision, program(name, width, precision))
                for name in cases for width in map(int, args.widths.split(","))
                for precision in args.precisions.split(",")]
    if args.system:
        programs += [("navier_stokes", width, precision,
                      NAVIER_STOKES.format(w=width, precision=precision))
                     for width in map(int, args.widths.split(","))
                     for precision in args.precisions.split(",")]
    for name, width, precision, text in programs:
        found = trees.compare(against, text, name, args.points, args.repeats)
        run, lower, ready = found["run"], found["lower"], found["ready"]
        ms = lambda seconds: 1e3 * float(np.median(seconds))
        same = ready["this"]["program"] == ready["against"]["program"]
        print(f"{name:13} {width:5d} {precision:9} {ms(run['this']):9.1f} "
              f"{ms(run['against']):9.1f} {trees.ratio(run['this'], run['against']):6.3f} "
              f"{ms(lower['this']):9.1f} {ms(lower['against']):9.1f} "
              f"{trees.ratio(lower['this'], lower['against']):6.3f}  "
              f"{'yes' if same else 'no'}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--widths", default="64,128")
    parser.add_argument("--precisions", default="float32,float64")
    parser.add_argument("--points", type=int, default=4096)
    parser.add_argument("--repeats", type=int, default=7,
                        help="rounds of the implementations timed in alternation")
    parser.add_argument("--system", action="store_true",
                        help="also time a three-equation system: the merged plan of terms "
                             "sharing points against each term's own")
    parser.add_argument("--against", type=Path, metavar="DIR",
                        help="compare this tree's pinnc with the tree at DIR on the cases")
    args = parser.parse_args()
    cases = [c for c in args.cases.split(",") if c]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        parser.error(f"unknown case {unknown[0]}; cases are {', '.join(CASES)}")
    if args.against:
        print_against(args.against, cases, args)
        return
    print(f"# {len(jax.devices())} {jax.devices()[0].platform} device(s); {args.points} points; "
          f"4 hidden tanh layers; loss + parameter gradient; medians of {args.repeats} rounds "
          "in alternation", flush=True)
    print(f"{'case':12} {'width':>5} {'precision':9} {'pinnc ms':>9} {'nested':>9} {'hessian':>9} "
          f"{'jet':>9} {'floor':>7} {'/best':>6} {'/floor':>7}  agree", flush=True)
    memory_rows = []
    for name in cases:
        for width in map(int, args.widths.split(",")):
            for precision in args.precisions.split(","):
                memory = name == "poisson100d"
                seconds, memories, agree = run_case(name, width, precision, args.points,
                                                    args.repeats, memory)
                ms = {k: 1e3 * float(np.median(v)) for k, v in seconds.items()}
                best = min(("nested", "hessian", "jet"), key=ms.get)
                print(f"{name:12} {width:5d} {precision:9} {ms['pinnc']:9.1f} {ms['nested']:9.1f} "
                      f"{ms['hessian']:9.1f} {ms['jet']:9.1f} {ms['floor']:7.1f} "
                      f"{median_ratio(seconds['pinnc'], seconds[best]):6.2f} "
                      f"{median_ratio(seconds['pinnc'], seconds['floor']):7.1f}  "
                      f"{'yes' if agree else 'NO'}", flush=True)
                if memory:
                    memory_rows.append((name, width, precision, memories))
    if args.system:
        print_system(args)
    if memory_rows:
        print("\ntemporary memory of the compiled loss and gradient (MiB)")
        print(f"{'case':12} {'width':>5} {'precision':9} {'pinnc':>9} {'nested':>9} {'hessian':>9} "
              f"{'jet':>9} {'floor':>7}")
        for name, width, precision, m in memory_rows:
            print(f"{name:12} {width:5d} {precision:9} {m['pinnc']:9.1f} {m['nested']:9.1f} "
                  f"{m['hessian']:9.1f} {m['jet']:9.1f} {m['floor']:7.1f}")


def print_system(args) -> None:
    """The ``--system`` table: the merged plan against each term's own and nested JVPs."""
    print("\nsteady Navier-Stokes 2-D (3 fields, 3 equations on shared points), ms")
    print(f"{'width':>5} {'precision':9} {'merged':>9} {'separate':>9} {'nested':>9} "
          f"{'/separate':>9} {'/nested':>8}")
    for width in map(int, args.widths.split(",")):
        for precision in args.precisions.split(","):
            seconds = run_system(width, precision, args.points, args.repeats)
            t = {k: 1e3 * float(np.median(v)) for k, v in seconds.items()}
            print(f"{width:5d} {precision:9} {t['merged']:9.1f} {t['separate']:9.1f} "
                  f"{t['nested']:9.1f} "
                  f"{median_ratio(seconds['merged'], seconds['separate']):9.2f} "
                  f"{median_ratio(seconds['merged'], seconds['nested']):8.2f}", flush=True)


if __name__ == "__main__":
    main()
