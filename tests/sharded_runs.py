"""Training runs on host devices, for tests/test_sharding.py: run as a script in a process of
its own, where XLA_FLAGS (set by the test before JAX starts) gives the CPU several devices.

    python sharded_runs.py OUT.json compare:adam,engd interrupt:DIR:STEP resume:DIR-copy

writes what each task saw (histories, metrics, the chunks' collectives) to OUT.json (`main`).
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import jax
import numpy as np

import pinnc
from pinnc.runtime.training import train

SPEC = Path(__file__).resolve().parent.parent / "examples" / "poisson.pde"
# counts divisible by 4; a network small enough for quick steps
SMALL = dict(points=64, boundary_points=32, model="mlp(hidden=[8])", seed=3)
OPTIMIZERS = {
    "adam": "adam(steps=30, lr=0.01)",
    "lbfgs": "lbfgs(steps=15)",
    "ssbroyden": "ssbroyden(steps=15)",
    "engd": "engd(steps=6)",
    "nystrom": "nystrom(steps=6, rank=16)",
}
MOVING = dict(optimizer="adam(steps=40, lr=0.01)", resample_every=10,
              refine="rar(every=20, points=8)", weighting="gradnorm(every=10)")
RESUMED = dict(SMALL, optimizer="adam(steps=20, lr=0.01) then engd(steps=10)")
RUNS = {**{name: dict(SMALL, optimizer=phase) for name, phase in OPTIMIZERS.items()},
        "moving": dict(SMALL, **MOVING)}


def compared(options: dict) -> dict:
    """The run of ``options`` on one device and on all: history, metrics, and how many
    all-reduces the sharded chunks hold."""
    out = {}
    for devices in (1, "all"):
        problem = pinnc.compile_file(SPEC, **options, devices=devices)
        result = train(problem, progress=False)
        chunks = problem._compiled_chunks.values()
        out[str(devices)] = {
            "history": result.history, "metrics": result.metrics,
            "all_reduces": sum(c.as_text().count("all-reduce(") for c in chunks),
            "sizes": {label: int(entry.points.shape[0])
                      for label, entry in problem.sample(jax.random.key(0)).items()}}
    return out


class Killed(Exception):
    pass


def interrupted(directory: str, stop: int) -> None:
    """A run of `RESUMED` into ``directory``, killed after the chunk that passes ``stop``
    (its checkpoint written, as a SIGKILL would leave it), and a copy of the folder."""
    def kill(step, params, seconds):
        if step >= stop:
            raise Killed
    try:
        train(pinnc.compile_file(SPEC, **RESUMED), progress=False, checkpoint=directory,
              callback=kill)
    except Killed:
        shutil.copytree(directory, directory + "-copy")


def resumed(directory: str) -> dict:
    """``directory``'s run resumed here, and the same run uninterrupted."""
    problem = pinnc.compile_file(SPEC, **RESUMED)
    out = {}
    for name, folder in (("resumed", directory), ("uninterrupted", None)):
        result = train(problem, progress=False, checkpoint=folder, resume=folder is not None)
        out[name] = {"history": result.history, "metrics": result.metrics,
                     "params": [np.asarray(leaf).tolist() for leaf in jax.tree.leaves(
                         result.params)]}
    return out


def main(argv: list[str]) -> None:
    """``OUT.json TASK...``: each task's result in OUT.json by task; tasks:
    ``compare:NAME,...`` (the `RUNS` named, on 1 device and on all), ``interrupt:DIR:STEP``,
    ``resume:DIR``."""
    out = {"devices": len(jax.devices())}
    for task in argv[1:]:
        name, *args = task.split(":")
        if name == "compare":
            out[task] = {run: compared(RUNS[run]) for run in args[0].split(",")}
        elif name == "interrupt":
            interrupted(args[0], int(args[1]))
        elif name == "resume":
            out[task] = resumed(args[0])
    Path(argv[0]).write_text(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
