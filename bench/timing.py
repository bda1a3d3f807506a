"""Timing for the benchmark scripts: calls to a result that is ready, in alternation."""
from __future__ import annotations

import time
from typing import Callable

import jax


def timed(function: Callable, args: tuple) -> Callable[[], float]:
    """A run: the seconds of one call ``function(*args)`` until its result is ready."""
    def run() -> float:
        start = time.perf_counter()
        jax.block_until_ready(function(*args))
        return time.perf_counter() - start
    return run


def in_alternation(runs: dict[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """The seconds of each of ``runs`` (name: function returning seconds) in each of ``rounds``
    rounds in which each runs once, in turn: this machine's load changes from one minute to
    the next, and a ratio of times taken minutes apart would measure that change as well."""
    seconds = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            seconds[name].append(run())
    return seconds


def best_time(function: Callable, args: tuple, repeats: int) -> float:
    """The least seconds of ``repeats`` calls, after one that warms up (compiles)."""
    jax.block_until_ready(function(*args))
    run = timed(function, args)
    return min(run() for _ in range(repeats))
