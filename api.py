"""The Python API (INTERFACE.md): a program's text or file, with option overrides, through the
compiler to a `Problem`; training it; reading a run folder back.

The one place where the compiler's driver (`compiler.pipeline`) meets the runtime: the runtime
takes what the compiler produced and never compiles a program itself.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

from . import distributed
from .compiler.pipeline import compile_text, read_source
from .runtime import model, runs
from .runtime.training import TrainResult, train

__all__ = ["compile_file", "compile_source", "load_run", "load_problem", "Problem",
           "TrainResult", "distributed"]


class Problem(model.Problem):
    """A compiled `.pde` program (`runtime.model.Problem`) that can also compile itself again
    with other options and train."""

    @classmethod
    def from_text(cls, text: str, filename: str = "<spec>",
                  overrides: Mapping[str, object] | None = None) -> "Problem":
        return cls(compile_text(text, filename, overrides), text, filename, overrides)

    def with_options(self, **overrides) -> "Problem":
        """The same program compiled again with more option overrides."""
        return Problem.from_text(self.text, self.filename, {**self.overrides, **overrides})

    def train(self, *, progress: bool = True, **overrides) -> TrainResult:
        """Train with the program's options (and ``overrides``, as `set` takes them); returns
        a `TrainResult`. ``progress`` shows a progress bar on stderr."""
        return train(self.with_options(**overrides) if overrides else self, progress=progress)


def compile_file(path: str | Path, **overrides) -> Problem:
    """Compile a `.pde` file; keyword arguments override its `set` options."""
    path = Path(path)
    return Problem.from_text(read_source(path), str(path), overrides)


def compile_source(text: str, name: str = "spec", **overrides) -> Problem:
    """Compile program text; ``name`` names it in messages and outputs."""
    filename = name if name.endswith(".pde") else f"{name}.pde"
    return Problem.from_text(text, filename, overrides)


def load_problem(directory: str | Path) -> Problem:
    """The problem a run folder holds: its spec.pde compiled with the overrides of run.json; a
    `FileError` where it no longer compiles."""
    return runs.load_problem(directory, Problem.from_text)


def load_run(directory: str | Path) -> TrainResult:
    """Read a run folder back: the problem compiled again from its spec, the trained params,
    metrics and history. Raises `FileError` naming the file that is missing, damaged or of
    another program."""
    return TrainResult(*runs.read_run(directory, Problem.from_text))
