"""What run.json says about a run besides its program: the versions of pinnc, JAX, jaxlib and
optax, the seed, the date, the devices, how training was started (a command line, or the Python
API) and every option as resolved. Enough to tell, months later, what made a run folder.

    {"format": 1, "spec": "poisson.pde", "name": "poisson", "overrides": {"points": 500},
     "fields": {"u": ["x", "y"]}, "seed": 0, "date": "2026-01-31T12:00:00Z",
     "versions": {"pinnc": "0.2.0", "jax": "0.4.35", "jaxlib": "0.4.35", "optax": "0.2.4"},
     "devices": {"platform": "cpu", "kind": "cpu", "count": 1},
     "started_from": "command line", "command": ["pinnc", "train", "poisson.pde"],
     "options": {"points": 500, "optimizer": [{"name": "engd", "steps": 5000, ...}], ...}}
"""
from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from importlib import metadata
from typing import Iterator

import jax

from ...compiler import ir
from ..model import Problem

# The command line that started the training in this context; None: the Python API.
_COMMAND: ContextVar[tuple[str, ...] | None] = ContextVar("pinnc_command", default=None)


@contextmanager
def command_line(argv: list[str]) -> Iterator[None]:
    """Within the block, run folders record ``argv`` (``["pinnc", "train", ...]``) as the
    command that made them; outside it they record that the Python API did."""
    token = _COMMAND.set(tuple(argv))
    try:
        yield
    finally:
        _COMMAND.reset(token)


def provenance(problem: Problem) -> dict:
    """The fields of run.json that describe the run rather than its program (above)."""
    command = _COMMAND.get()
    devices = jax.devices()
    return {
        "fields": {f.name: list(f.coords) for f in problem.ir.quantities},
        "seed": problem.options.seed,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "versions": {name: _version(name) for name in ("pinnc", "jax", "jaxlib", "optax")},
        "devices": {"platform": devices[0].platform, "kind": devices[0].device_kind,
                    "count": len(devices)},
        "started_from": "python api" if command is None else "command line",
        **({} if command is None else {"command": list(command)}),
        "options": resolved_options(problem.options),
    }


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


def resolved_options(options: ir.Options) -> dict:
    """Every option as training used it, as JSON: numbers and words as they are, an optimizer
    as a list of phases ``{"name", "steps", setting: value}``, a model, ``rar`` or
    ``gradnorm`` as an object of its settings, an option that is off as null; ``chosen``:
    ``{option: why}`` for each option pinnc chose for the program."""
    resolved = {f.name: _plain(getattr(options, f.name)) for f in dataclasses.fields(options)}
    if "chosen" in resolved:
        resolved["chosen"] = {name: why for name, why in options.chosen}
    return resolved


def _plain(value):
    if isinstance(value, ir.Phase):
        return {"name": value.name, "steps": value.steps, **dict(value.settings)}
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value
