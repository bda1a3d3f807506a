"""What `pinnc check` prints about a program that compiles: its coordinates, domains, fields,
params, tables, terms with the derivatives each needs, exact solutions, and notes on its
integrals."""
from __future__ import annotations

from pathlib import Path

from .compiler import defaults, ir
from .compiler import options as table
from .compiler.pipeline import Compiled


def summary(compiled: Compiled, name: str) -> str:
    """What `pinnc check` prints: fields, coordinates, domains, terms and their derivatives."""
    problem = compiled.problem
    lines = [f"{name}: ok", f"  coordinates: {', '.join(problem.coords)}"]
    for d in problem.domains:
        lines.append(f"  domain {d.name}: {ir.describe(d.domain)}")
    for f in problem.fields:
        lines.append(f"  field {f.name}({', '.join(f.coords)}): {f.model.describe()}")
        lines += [f"    periodic in {p.coord}, period {p.period:g}, {p.harmonics} harmonic"
                  f"{'s' if p.harmonics > 1 else ''}" for p in f.periodic]
    for p in problem.params:
        lines.append(f"  param {p.name} = {p.init:g}")
    for t in problem.tables:
        nodes = " x ".join(str(len(axis)) for axis in t.axes)
        spans = ", ".join(f"{c} in [{a[0]:g}, {a[-1]:g}]" for c, a in zip(t.coords, t.axes))
        lines.append(f"  table {t.name}({', '.join(t.coords)}) from {Path(t.path).name}: "
                     f"{nodes} nodes over {spans}, interpolated linearly (clamped outside)")
    for term in problem.terms:
        plan = compiled.plan.term(term.label)
        needs = "; ".join(", ".join(f.needs()) for f in plan.fields)
        lines.append(f"  term {term.label}: {term.source}")
        measured = f" at {len(term.data.values)} measured points" if term.data is not None else ""
        lines.append(f"    needs {needs}{measured}")
        lines += _sobol_notes(problem, term)
    for e in problem.exact:
        lines.append(f"  exact {e.field} = {e.expr}")
    lines += training(problem)
    return "\n".join(lines)


def training(problem: ir.Problem) -> list[str]:
    """How the program trains: its optimizer phases and time limit, the estimated cost per
    step and in all (`compiler.defaults`, 2 CPU cores), and what was chosen for it, with why."""
    options = problem.options
    cost = defaults.estimate(problem)
    phases = " then ".join(_phase(p) for p in options.optimizer)
    total = sum(cost.seconds(p) * p.steps for p in options.optimizer)
    first = options.optimizer[0]
    limit = ""
    if options.time_limit is not None:
        limit = f", at most {defaults.duration(options.time_limit)}"
        total = min(total, options.time_limit)
    lines = [f"  training: {phases}{limit}; about {defaults.duration(cost.seconds(first))} a "
             f"step, {defaults.duration(total)} in all (estimated for 2 CPU cores)"]
    lines += [f"    {name} chosen: {why}" for name, why in options.chosen]
    if options.causal is not None:
        timed = [t.label for t in problem.terms if t.kind == "pde" and "t" in t.coords]
        lines.append(f"    causal: {', '.join(timed)} weighted over {options.causal.slices} "
                     f"slices of t, epsilon {options.causal.epsilon:g}")
    return lines


def _phase(phase: ir.Phase) -> str:
    """``name(steps=N, ...)`` with the settings that differ from the language's defaults."""
    language = table.OPTIMIZERS.get(phase.name, {})
    settings = "".join(f", {key}={value:g}" for key, value in phase.settings
                       if language.get(key) != value)
    return f"{phase.name}(steps={phase.steps}{settings})"


def _sobol_notes(problem: ir.Problem, term: ir.Term) -> list[str]:
    """A note for each integral of ``term`` that averages a Sobol set of a size other than a
    power of two: such a set is the first n points of the next power of two, spread less
    evenly (a smooth integrand's mean: 2000 points, error 1.9e-4; 2048, 2.7e-5)."""
    options = problem.options
    if options.sampler != "sobol":
        return []
    averaged = [(f"integral {k + 1}", integral.region, integral.points)
                 for k, integral in enumerate(term.integrals)]
    if term.kind == "minimize":  # the term is itself an integral over its points
        averaged.insert(0, ("its integral", term.region, term.points))
    notes = []
    for what, region, points in averaged:
        n = options.points_in(region, points)
        if n & (n - 1):
            lower, upper = 2 ** (n.bit_length() - 1), 2 ** n.bit_length()
            notes.append(f"    note: {what} averages {n} Sobol points; Sobol sets are "
                         f"balanced at powers of two, so {lower} or {upper} points would "
                         "estimate it more closely")
    return notes
