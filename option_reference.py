"""What `pinnc options` prints: every option `set` accepts, the values it takes and its default,
read from the compiler's option table (`compiler.options`) and defaults (`compiler.ir`), so that
the listing names exactly the options the compiler reads, with the defaults it applies.
"""
from __future__ import annotations

import textwrap
from typing import Callable, NamedTuple

from .compiler import defaults, ir
from .compiler import options as table


class OptionRow(NamedTuple):
    """One option: its ``name``, the ``values`` it takes and its ``default``, as text."""
    name: str
    values: str
    default: str


def set_syntax(value: object) -> str:
    """An option's value written as a `set` statement takes it, e.g. ``mlp(hidden=[64])``."""
    if value is None:
        return "none"
    if isinstance(value, tuple) and all(isinstance(v, ir.Phase) for v in value):
        return " then ".join(_phase(p) for p in value)
    if isinstance(value, ir.Model):
        return value.describe()
    if isinstance(value, ir.Refine):
        return f"rar(every={value.every}, points={value.points})"
    if isinstance(value, ir.Causal):
        return f"causal(epsilon={value.epsilon:g}, slices={value.slices})"
    if isinstance(value, ir.Weighting):
        return f"gradnorm(every={value.every}, smoothing={value.smoothing:g})"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _phase(phase: ir.Phase) -> str:
    settings = "".join(f", {key}={value:g}" for key, value in phase.settings)
    return f"{phase.name}(steps={phase.steps}{settings})"


def _integer(low: int, high: int, what: str) -> str:
    return f"an integer from {low} to {high:,}: {what}"


def _words(choices) -> str:
    return "one of " + ", ".join(choices)


def _optimizers() -> str:
    phases = (ir.Phase(name, int(d["steps"]), tuple((k, v) for k, v in d.items() if k != "steps"))
              for name, d in table.OPTIMIZERS.items())
    return ("optimizer phases joined with 'then', each (with its settings' defaults) one of "
            + "; ".join(_phase(p) for p in phases)
            + ". loss_tol and grad_tol (0 = off) end a phase once the loss, or its gradient's "
            "norm, is at or below them")


_VALUES: dict[str, Callable[[], str]] = {
    "points": lambda: _integer(1, table.MAX_POINTS, "points inside a domain, for each pde term, "
                               "integral and minimize term"),
    "boundary_points": lambda: _integer(1, table.MAX_POINTS, "points on a boundary, for each "
                                        "bc and ic term"),
    "sampler": lambda: _words(table.SAMPLERS),
    "resample_every": lambda: _integer(0, table.MAX_STEPS, "steps between redraws of the "
                                       "points; 0 = never"),
    "refine": lambda: ("none, or rar(every=N, points=K): every N steps, add the K candidate "
                       "points of largest residual to each pde term's points"),
    "weighting": lambda: ("none, or gradnorm(every=N, smoothing=X) with X in [0, 1) (bare "
                          f"gradnorm: {set_syntax(ir.Weighting())}): balance the terms' weights "
                          "by their gradients' norms"),
    "optimizer": _optimizers,
    "precision": lambda: _words(table.PRECISIONS),
    "seed": lambda: _integer(0, table.MAX_SEED, "the random seed of the network's initial "
                             "weights and of the points"),
    "model": lambda: (f"mlp(hidden=[W, ...], activation=A, output=A), gated(hidden=[W, ...], "
                      f"...) or pirate(blocks=N, width=W, ...), each also taking fourier=M, "
                      f"sigma=S (M random Fourier features of the inputs) and factorized=true "
                      f"or rwf(mean=1, std=0.1): the network of fields declared without one; "
                      f"at most {table.MAX_LAYERS} layers of at most {table.MAX_WIDTH:,} units; "
                      f"A {_words(table.ACTIVATIONS)}"),
    "time_limit": lambda: (f"a number of seconds in (0, {table.MAX_SECONDS:,}]: training "
                           "stops once it has trained this long (compilation excluded)"),
    "causal": lambda: ("none, or causal(epsilon=E, slices=M) (bare causal: "
                       f"{set_syntax(ir.Causal())}): each pde term over a coordinate t takes "
                       "its mean square per time slice, slice i weighted by exp(-E * the sum "
                       "of the earlier slices' mean squares)"),
    "devices": lambda: ("all, or a number of devices (of every process, where several train "
                        "together): the collocation points are split over them (data "
                        "parallelism)"),
}
# What an option missing from `_VALUES` shows (tests/test_cli.py fails on it: describe it there).
UNDESCRIBED = "see docs/language.md"


def _default(name: str) -> str:
    if name == "optimizer":
        (engd,) = ir.default_optimizer(False)
        whole = ir.Phase("nystrom", engd.steps, (("rank", float(defaults.NYSTROM_RANK)),))
        rows = ir.Phase("nystrom", engd.steps, (("rank", float(defaults.NYSTROM_RANK)),
                                               ("rows", float(defaults.SAMPLED_ROWS)),
                                               ("cg", float(defaults.SAMPLED_CG))))
        return (f"{set_syntax((engd,))} where every term is a mean square ({set_syntax((whole,))}"
                f" where {defaults.MIN_STEPS} engd steps would take longer than "
                f"{defaults.duration(defaults.TIME_LIMIT_S)}, {set_syntax((rows,))} where "
                f"{defaults.MIN_SKETCHED} of those would); "
                f"else {set_syntax(ir.default_optimizer(True))}")
    if name == "time_limit":
        return (f"none; {defaults.TIME_LIMIT_S:g} where the program sets no optimizer and every "
                "term is a mean square")
    default = set_syntax(getattr(ir.Options(), name))
    if name in ir.NATURAL_GRADIENT_DEFAULTS:
        default += (f"; {set_syntax(ir.NATURAL_GRADIENT_DEFAULTS[name])} where the program "
                    "trains with engd")
    return default


def rows() -> list[OptionRow]:
    """Every option of the compiler's table, in its order."""
    return [OptionRow(name, _VALUES.get(name, lambda: UNDESCRIBED)(),
                      _default(name)) for name in table.OPTION_NAMES]


def describe(selected: list[OptionRow] | None = None) -> str:
    """The listing `pinnc options` prints: a block per option."""
    blocks = []
    for row in rows() if selected is None else selected:
        blocks += [row.name, _wrapped("values: ", row.values), _wrapped("default:", row.default)]
    return "\n".join(blocks) + "\n"


def _wrapped(heading: str, text: str) -> str:
    return textwrap.fill(text, width=92, initial_indent=f"    {heading} ",
                         subsequent_indent=" " * 13, break_on_hyphens=False)
