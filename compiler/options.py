"""`set` statements (and their overrides from the command line or the API) -> `ir.Options`;
a field's model and a term's ``with weight=..., points=...``.

Each option has one reader that checks its value and says what was expected, at the value's
place in the file. Overrides are written as `set` statements too (``--set points=4000`` is
parsed as ``set points = 4000``), so they are checked by the same code with the same messages.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Iterable, Mapping

from . import ir
from . import syntax as s
from .errors import SpecError, did_you_mean
from .arithmetic import number

SAMPLERS = ("uniform", "sobol", "halton", "lhs", "grid")
PRECISIONS = ("float32", "float64")
ACTIVATIONS = ("tanh", "sigmoid", "sin", "gelu", "softplus", "relu", "identity")
# optimizer -> {setting: default}; `steps` is every optimizer's.
# `loss_tol` and `grad_tol` (every optimizer's, 0 = off) end a phase early, once the loss or the
# Euclidean norm of its gradient with respect to all parameters is at or below them.
_STOP = {"loss_tol": 0.0, "grad_tol": 0.0}
OPTIMIZERS: Mapping[str, Mapping[str, float]] = {
    "adam": {"steps": 1000, "lr": 1e-3, **_STOP},
    "lbfgs": {"steps": 1000, "memory": 10, **_STOP},
    "engd": {"steps": 100, "damping": 1e-6, "adaptive": 1, "search": 1, **_STOP},
    "nystrom": {"steps": 100, "rank": 64, "damping": 1e-6, "cg": 0, "adaptive": 1, "rows": 0,
                "search": 1, **_STOP},
    "ssbroyden": {"steps": 1000, **_STOP},
}
# Optimizers the language names whose implementation has not landed yet.
PLANNED_OPTIMIZERS: tuple[str, ...] = ()


def literal(node: s.Expr) -> float:
    """A number written as a literal, possibly negated, e.g. ``1e-3`` or ``-2``."""
    if isinstance(node, s.Number):
        return float(number(node))
    if isinstance(node, s.Neg) and isinstance(node.operand, s.Number):
        return -float(number(node.operand))
    raise SpecError("expected a number", node.span)


# Upper bounds: beyond these a value is a typo (or would only end in an out-of-memory crash
# minutes later), so it is refused at its line.
MAX_POINTS = 10_000_000
MAX_STEPS = 100_000_000
MAX_WIDTH = 65_536
MAX_LAYERS = 64
MAX_SEED = 2**32 - 1
MAX_SECONDS = 366 * 24 * 3600
MAX_DEVICES = 4096
MAX_SLICES = 4096


def integer(node: s.Expr, what: str, minimum: int = 1, maximum: int | None = None) -> int:
    value = literal(node)
    if value != int(value) or value < minimum:
        raise SpecError(f"{what} must be an integer >= {minimum}, got {value:g}", node.span)
    if maximum is not None and value > maximum:
        raise SpecError(f"{what} must be at most {maximum:,}, got {value:,.0f}", node.span)
    return int(value)


def seconds(node: s.Expr, what: str) -> float:
    """A positive duration in seconds, at most a year."""
    value = literal(node)
    if not 0 < value <= MAX_SECONDS:
        raise SpecError(f"{what} must be a number of seconds in (0, {MAX_SECONDS:,}], "
                        f"got {value:g}", node.span)
    return value


def devices(node: s.Expr) -> str | int:
    """``all`` or a number of devices (whether the processes have them is the runtime's
    question: `runtime.training.sharding`)."""
    if isinstance(node, s.Name) and node.id == "all":
        return "all"
    if not isinstance(node, (s.Number, s.Neg)):
        raise SpecError("devices must be all or a number of devices", node.span)
    return integer(node, "devices", maximum=MAX_DEVICES)


def word(node: s.Expr, choices: Iterable[str], what: str) -> str:
    choices = tuple(choices)
    if not isinstance(node, s.Name) or node.id not in choices:
        found = node.id if isinstance(node, s.Name) else None
        hint = did_you_mean(found, choices) if found else ""
        raise SpecError(f"{what} must be one of {', '.join(choices)}{hint}", node.span)
    return node.id


def _keywords(call: s.Call, allowed: Iterable[str]) -> dict[str, s.Keyword]:
    allowed = tuple(allowed)
    if call.args or call.ranges:
        extra = (call.args or call.ranges)[0]
        raise SpecError(f"'{call.func.id}' takes keyword arguments only "
                        f"({', '.join(a + '=...' for a in allowed)})", extra.span)
    return named_keywords(call.keywords, allowed, lambda name: (
        f"'{call.func.id}' has no setting '{name}'{did_you_mean(name, allowed)}; it takes "
        f"{', '.join(allowed)}"))


def named_keywords(keywords: Iterable[s.Keyword], allowed: tuple[str, ...],
                   unknown: Callable[[str], str]) -> dict[str, s.Keyword]:
    """{name: keyword} of ``keywords``; a name not ``allowed`` is refused with ``unknown(name)``,
    a name given twice at its second place."""
    found: dict[str, s.Keyword] = {}
    for keyword in keywords:
        name = keyword.name.id
        if name not in allowed:
            raise SpecError(unknown(name), keyword.name.span)
        if name in found:
            raise SpecError(f"'{name}' is given twice", keyword.name.span)
        found[name] = keyword
    return found


def term_options(keywords: tuple[s.Keyword, ...]) -> tuple[float, int | None]:
    """A term's ``with weight=W, points=N`` -> (weight, points); points None where not given."""
    allowed = ("weight", "points")
    found = named_keywords(keywords, allowed, lambda name: (
        f"unknown term option '{name}'{did_you_mean(name, allowed)}; use weight=... or "
        f"points=..."))
    weight, points = 1.0, None
    if "weight" in found:
        weight = literal(found["weight"].value)
        if weight < 0:
            raise SpecError("weight must not be negative", found["weight"].value.span)
    if "points" in found:
        points = integer(found["points"].value, "points", maximum=MAX_POINTS)
    return weight, points


# model form -> its keywords; each form also takes `_MODEL_EXTRAS`
MODELS: Mapping[str, tuple[str, ...]] = {
    "mlp": ("hidden", "activation", "output"),
    "gated": ("hidden", "activation", "output"),
    "pirate": ("blocks", "width", "activation", "output"),
}
_MODEL_EXTRAS = ("fourier", "sigma", "factorized")
MAX_FEATURES = 8192
# a pirate net's defaults: three blocks of 64 units on 32 Fourier features (64 inputs)
PIRATE_DEFAULTS = {"blocks": 3, "width": 64, "fourier": 32}


def model(node: s.Expr) -> ir.Model:
    """``mlp(hidden=[64, 64], activation=tanh, output=identity)``, ``gated(...)`` (the same
    keywords) or ``pirate(blocks=3, width=64, ...)``, each also with ``fourier=M, sigma=S``
    and ``factorized=...`` -> `ir.Model`."""
    if not isinstance(node, s.Call) or node.func.id not in MODELS:
        found = node.func.id if isinstance(node, s.Call) else None
        hint = did_you_mean(found, MODELS) if found else ""
        raise SpecError("expected a model: mlp(hidden=[...], activation=..., output=...), "
                        f"gated(hidden=[...], ...) or pirate(blocks=N, width=W, ...){hint}",
                        node.span)
    form = node.func.id
    keywords = _keywords(node, MODELS[form] + _MODEL_EXTRAS)
    default = ir.Model()
    hidden = _pirate_widths(keywords) if form == "pirate" else _hidden(keywords, form)
    activation = (word(keywords["activation"].value, ACTIVATIONS, "activation")
                  if "activation" in keywords else default.activation)
    output = (word(keywords["output"].value, ACTIVATIONS, "output")
              if "output" in keywords else default.output)
    fourier, sigma = _fourier(keywords, PIRATE_DEFAULTS["fourier"] if form == "pirate" else 0)
    factorized = factorization(keywords["factorized"].value) if "factorized" in keywords else None
    return ir.Model(hidden=hidden, activation=activation, output=output, form=form,
                    fourier=fourier, sigma=sigma, factorized=factorized)


def _hidden(keywords: Mapping[str, s.Keyword], form: str) -> tuple[int, ...]:
    """An mlp's or gated net's ``hidden=[...]``; a gated net's widths are all equal (every
    layer mixes the same two encoders)."""
    if "hidden" not in keywords:
        return ir.Model().hidden
    value = keywords["hidden"].value
    if not isinstance(value, s.Vector):
        raise SpecError("hidden must be a list of layer widths, e.g. [32, 32]", value.span)
    if len(value.items) > MAX_LAYERS:
        raise SpecError(f"at most {MAX_LAYERS} hidden layers, got {len(value.items)}",
                        value.span)
    if form == "gated" and not value.items:
        raise SpecError("a gated net needs at least one hidden layer", value.span)
    hidden = tuple(integer(item, "a layer width", maximum=MAX_WIDTH) for item in value.items)
    for item, width in zip(value.items, hidden):
        if form == "gated" and width != hidden[0]:
            raise SpecError(f"a gated net's layers all have the width of its encoders: "
                            f"{width} differs from {hidden[0]}", item.span)
    return hidden


def _pirate_widths(keywords: Mapping[str, s.Keyword]) -> tuple[int, ...]:
    """A pirate net's ``blocks`` and ``width`` as the hidden widths (one per block)."""
    blocks = (integer(keywords["blocks"].value, "blocks", maximum=MAX_LAYERS)
              if "blocks" in keywords else PIRATE_DEFAULTS["blocks"])
    width = (integer(keywords["width"].value, "width", maximum=MAX_WIDTH)
             if "width" in keywords else PIRATE_DEFAULTS["width"])
    return (width,) * blocks


def _fourier(keywords: Mapping[str, s.Keyword], default: int) -> tuple[int, float]:
    """``fourier=M, sigma=S`` -> (M, S); M = 0 is no Fourier features."""
    fourier = (integer(keywords["fourier"].value, "fourier", minimum=0, maximum=MAX_FEATURES)
               if "fourier" in keywords else default)
    sigma = ir.Model().sigma
    if "sigma" in keywords:
        value = keywords["sigma"].value
        if not fourier:
            raise SpecError("sigma is the scale of Fourier features: give fourier=M too",
                            keywords["sigma"].name.span)
        sigma = literal(value)
        if not sigma > 0:
            raise SpecError(f"sigma must be positive, got {sigma:g}", value.span)
    return fourier, sigma


def factorization(node: s.Expr) -> ir.Factorization | None:
    """``true``, ``false`` or ``rwf(mean=1, std=0.1)`` -> `ir.Factorization` or None."""
    if isinstance(node, s.Name) and node.id in ("true", "false"):
        return ir.Factorization() if node.id == "true" else None
    if not isinstance(node, s.Call) or node.func.id != "rwf":
        raise SpecError("factorized must be true, false or rwf(mean=M, std=S) (random weight "
                        "factorization)", node.span)
    keywords = _keywords(node, ("mean", "std"))
    default = ir.Factorization()
    mean = literal(keywords["mean"].value) if "mean" in keywords else default.mean
    std = literal(keywords["std"].value) if "std" in keywords else default.std
    if std < 0:
        raise SpecError(f"std must not be negative, got {std:g}", keywords["std"].value.span)
    return ir.Factorization(mean=mean, std=std)


def phase(node: s.Expr) -> ir.Phase:
    """``adam(steps=2000, lr=1e-3)`` -> `ir.Phase`."""
    if not (isinstance(node, (s.Call, s.Name)) and _callee(node) in OPTIMIZERS):
        found = _callee(node) if isinstance(node, (s.Call, s.Name)) else None
        hint = did_you_mean(found, OPTIMIZERS) if found else ""
        raise SpecError(f"expected an optimizer: {', '.join(n + '(steps=N)' for n in OPTIMIZERS)}"
                        f"{hint}", node.span)
    name = _callee(node)
    if name in PLANNED_OPTIMIZERS:
        raise SpecError(f"optimizer '{name}' is not implemented yet", node.span)
    defaults = OPTIMIZERS[name]
    keywords = _keywords(node, defaults) if isinstance(node, s.Call) else {}
    steps = (integer(keywords["steps"].value, "steps", minimum=0, maximum=MAX_STEPS)
             if "steps" in keywords else int(defaults["steps"]))
    settings = []
    for key, default in defaults.items():
        if key == "steps":
            continue
        value = literal(keywords[key].value) if key in keywords else default
        if value < 0:
            raise SpecError(f"{key} must not be negative", keywords[key].value.span)
        settings.append((key, float(value)))
    return ir.Phase(name=name, steps=steps, settings=tuple(settings))


def refine(node: s.Expr) -> ir.Refine | None:
    """``rar(every=500, points=100)`` -> `ir.Refine`; ``none`` -> None."""
    if isinstance(node, s.Name) and node.id == "none":
        return None
    if not isinstance(node, s.Call) or node.func.id != "rar":
        raise SpecError("expected rar(every=N, points=K) (residual-based adaptive refinement) "
                        "or none", node.span)
    keywords = _keywords(node, ("every", "points"))
    for key in ("every", "points"):
        if key not in keywords:
            raise SpecError(f"rar(...) needs {key}=N", node.span)
    return ir.Refine(every=integer(keywords["every"].value, "every", maximum=MAX_STEPS),
                     points=integer(keywords["points"].value, "points", maximum=MAX_POINTS))


def weighting(node: s.Expr) -> ir.Weighting | None:
    """``gradnorm(every=100, smoothing=0.9)`` -> `ir.Weighting`; ``none`` -> None."""
    if isinstance(node, s.Name) and node.id == "none":
        return None
    if isinstance(node, s.Name) and node.id == "gradnorm":
        return ir.Weighting()
    if not isinstance(node, s.Call) or node.func.id != "gradnorm":
        raise SpecError("expected gradnorm(every=N, smoothing=X) (gradient-norm balancing of "
                        "the terms' weights) or none", node.span)
    keywords = _keywords(node, ("every", "smoothing"))
    default = ir.Weighting()
    every = (integer(keywords["every"].value, "every", maximum=MAX_STEPS) if "every" in keywords
             else default.every)
    smoothing = (literal(keywords["smoothing"].value) if "smoothing" in keywords
                 else default.smoothing)
    if not 0 <= smoothing < 1:
        raise SpecError(f"smoothing must be in [0, 1), got {smoothing:g}",
                        keywords["smoothing"].value.span)
    return ir.Weighting(every=every, smoothing=smoothing)


def causal(node: s.Expr) -> ir.Causal | None:
    """``causal(epsilon=1, slices=32)`` (bare ``causal``: those) -> `ir.Causal`; ``none`` ->
    None."""
    if isinstance(node, s.Name) and node.id in ("none", "causal"):
        return ir.Causal() if node.id == "causal" else None
    if not isinstance(node, s.Call) or node.func.id != "causal":
        raise SpecError("expected causal(epsilon=E, slices=M) (causal weighting of the pde "
                        "terms over time) or none", node.span)
    keywords = _keywords(node, ("epsilon", "slices"))
    default = ir.Causal()
    epsilon = literal(keywords["epsilon"].value) if "epsilon" in keywords else default.epsilon
    if epsilon < 0:
        raise SpecError(f"epsilon must not be negative, got {epsilon:g}",
                        keywords["epsilon"].value.span)
    slices = (integer(keywords["slices"].value, "slices", maximum=MAX_SLICES)
              if "slices" in keywords else default.slices)
    return ir.Causal(epsilon=epsilon, slices=slices)


def _callee(node: s.Call | s.Name) -> str:
    return node.func.id if isinstance(node, s.Call) else node.id


def _single(statement: s.SetOption) -> s.Expr:
    if len(statement.values) > 1:
        raise SpecError(f"'then' joins optimizers only; '{statement.name.id}' takes one value",
                        statement.values[1].span)
    return statement.values[0]


_READERS: Mapping[str, Callable[[s.SetOption], object]] = {
    "points": lambda st: integer(_single(st), "points", maximum=MAX_POINTS),
    "boundary_points": lambda st: integer(_single(st), "boundary_points", maximum=MAX_POINTS),
    "sampler": lambda st: word(_single(st), SAMPLERS, "sampler"),
    "resample_every": lambda st: integer(_single(st), "resample_every", minimum=0,
                                              maximum=MAX_STEPS),
    "refine": lambda st: refine(_single(st)),
    "weighting": lambda st: weighting(_single(st)),
    "optimizer": lambda st: tuple(phase(v) for v in st.values),
    "precision": lambda st: word(_single(st), PRECISIONS, "precision"),
    "seed": lambda st: integer(_single(st), "seed", minimum=0, maximum=MAX_SEED),
    "model": lambda st: model(_single(st)),
    "time_limit": lambda st: seconds(_single(st), "time_limit"),
    "devices": lambda st: devices(_single(st)),
    "causal": lambda st: causal(_single(st)),
}
OPTION_NAMES = tuple(_READERS)


def options(statements: Iterable[s.SetOption], overrides: Iterable[s.SetOption] = (),
            minimizes: bool = False) -> ir.Options:
    """The options a program sets, then the overrides applied on top, then the defaults of
    those left unset: the optimizer (`ir.default_optimizer`; ``minimizes``: the program has a
    minimize term) and, where that trains with engd, `ir.NATURAL_GRADIENT_DEFAULTS`.

    An option set twice in the program is an error; an override replaces the program's value.
    """
    values: dict[str, object] = {}
    where: dict[str, s.SetOption] = {}
    for statement in statements:
        name = _check_name(statement)
        if name in where:
            raise SpecError(f"option '{name}' is already set on line {where[name].span.line}",
                            statement.name.span)
        where[name] = statement
        values[name] = _READERS[name](statement)
    for statement in overrides:
        name = _check_name(statement)
        values[name] = _READERS[name](statement)
    if "optimizer" not in values:
        values["optimizer"] = ir.default_optimizer(minimizes)
    if any(phase.name == "engd" for phase in values["optimizer"]):
        for name, value in ir.NATURAL_GRADIENT_DEFAULTS.items():
            values.setdefault(name, value)
    return dataclasses.replace(ir.Options(), **values)


def _check_name(statement: s.SetOption) -> str:
    name = statement.name.id
    if name not in _READERS:
        raise SpecError(f"unknown option '{name}'{did_you_mean(name, _READERS)}; options are "
                        f"{', '.join(_READERS)}", statement.name.span)
    return name

