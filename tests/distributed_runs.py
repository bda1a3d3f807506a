"""Training runs of one process among several, for tests/test_distributed.py: run as a script,
once per process, joined by `pinnc.distributed.initialize` (or alone, on the devices XLA_FLAGS
gives it).

    python distributed_runs.py OUT.json FOLDER [COORDINATOR NUM_PROCESSES PROCESS_ID]

writes what this process saw (each run's history, metrics and parameters) to OUT.json. Every
process trains into FOLDER-adam (a fresh run) and FOLDER-resumed (a run killed after a chunk
and resumed); the engd run into FOLDER-own-I, a folder of process I's own, which only process
0 may write.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import jax
import numpy as np
import pinnc
from pinnc.runtime.training import train

SPEC = Path(__file__).resolve().parent.parent / "examples" / "poisson.pde"
# counts divisible by 2; a network small enough for quick steps
SMALL = dict(points=32, boundary_points=16, model="mlp(hidden=[6])", seed=3)
RUNS = {  # adam with points moving (resampled, refined) and weights adapted; engd
    "adam": dict(SMALL, optimizer="adam(steps=20, lr=0.01)", resample_every=5,
                 refine="rar(every=10, points=4)", weighting="gradnorm(every=5)"),
    "engd": dict(SMALL, optimizer="engd(steps=4)"),
}
RESUMED = dict(SMALL, optimizer="adam(steps=10, lr=0.01) then engd(steps=4)")
KILLED_AT = 12  # inside the engd phase, whose chunks are short


class Killed(Exception):
    pass


def kill(step, params, seconds):
    if step >= KILLED_AT:
        raise Killed


def resumed(folder: str) -> dict:
    """`RESUMED` into ``folder``, killed after the chunk that passes `KILLED_AT` (its checkpoint
    written), then resumed from there."""
    problem = pinnc.compile_file(SPEC, **RESUMED)
    try:
        train(problem, progress=False, checkpoint=folder, callback=kill)
    except Killed:
        pass
    return summary(train(problem, progress=False, checkpoint=folder, resume=True))


def summary(result) -> dict:
    """What the test compares of a `TrainResult`: history, metrics and parameters."""
    return {"history": result.history, "metrics": result.metrics,
            "params": [np.asarray(leaf).tolist() for leaf in jax.tree.leaves(result.params)]}


def main(argv: list[str]) -> None:
    out_path, folder, *joined = argv
    if joined:  # before JAX starts its devices
        pinnc.distributed.initialize(joined[0], int(joined[1]), int(joined[2]))

    own = f"{folder}-own-{jax.process_index()}"
    out = {"processes": jax.process_count(), "devices": len(jax.devices()), "runs": {}}
    for name, options in RUNS.items():
        checkpoint = {"adam": f"{folder}-adam", "engd": own}.get(name)
        result = train(pinnc.compile_file(SPEC, **options), progress=False,
                       checkpoint=checkpoint)
        out["runs"][name] = summary(result)
    out["runs"]["resumed"] = resumed(f"{folder}-resumed")
    Path(out_path).write_text(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
