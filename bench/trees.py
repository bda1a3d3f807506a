"""Two trees of pinnc timed against each other in alternation, for the benchmark scripts.

``import pinnc`` names one tree per process, so each tree gets a worker process of its own,
started with ``PYTHONPATH`` at a folder whose ``pinnc`` links to the tree (the repository root
is the package). A worker compiles a program's loss and parameter gradient (`Problem.loss`
over a sampled batch: the product's own path, in any tree's API) and then answers requests;
the two workers are asked in turn, the order swapped every round, so that a change of load on
the machine falls on both alike. A round's time of a step is the least of a few calls: the
load of a shared machine only ever adds to a call's time.

    python bench/trees.py --serve '{"text": ..., "name": ..., "points": ...}'  (a worker)
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import numpy as np

THIS_TREE = Path(__file__).resolve().parent.parent


def serve(text: str, name: str, points: int) -> None:
    """A worker: compile the program's loss and gradient with the pinnc this process imports,
    report the lowered program's digest and the loss, then answer each line of stdin, "run N"
    or "lower N": the least seconds of N steps, or of N fresh jits of the step traced and
    lowered (where the derivative kernels walk the network's jaxpr in Python)."""
    import jax

    import pinnc
    problem = pinnc.compile_source(text, name, points=points)
    params = problem.init(jax.random.key(0))
    batch = problem.sample(jax.random.key(1))
    fresh = lambda: jax.jit(jax.value_and_grad(problem.loss))
    lowered = fresh().lower(params, batch)
    step = lowered.compile()
    loss = float(jax.block_until_ready(step(params, batch))[0])
    _reply({"pinnc": str(Path(pinnc.__file__).resolve().parent), "loss": loss,
            "program": hashlib.sha256(lowered.as_text().encode()).hexdigest()})
    for line in sys.stdin:
        command, calls = line.split()
        run = ((lambda: jax.block_until_ready(step(params, batch))) if command == "run"
               else (lambda: fresh().lower(params, batch)))
        _reply({"seconds": min(_seconds(run) for _ in range(int(calls)))})


def _seconds(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def _reply(message: dict) -> None:
    print("@", json.dumps(message), flush=True)  # marked: JAX may print to stdout as well


class Worker:
    """A process serving one program with the pinnc of ``tree`` (`serve`); ``ready`` is its
    first report (the tree it imported, the loss, the lowered program's digest)."""

    def __init__(self, tree: Path, text: str, name: str, points: int):
        self.folder = tempfile.TemporaryDirectory()
        os.symlink(tree, Path(self.folder.name) / "pinnc")
        path = os.pathsep.join(p for p in (self.folder.name, os.environ.get("PYTHONPATH")) if p)
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve",
             json.dumps({"text": text, "name": name, "points": points})],
            env=dict(os.environ, PYTHONPATH=path), text=True, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE)
        self.tree = tree
        self.ready = self._read()

    def ask(self, command: str, calls: int) -> float:
        self.process.stdin.write(f"{command} {calls}\n")
        self.process.stdin.flush()
        return self._read()["seconds"]

    def _read(self) -> dict:
        for line in self.process.stdout:
            if line.startswith("@ "):
                return json.loads(line[2:])
        raise RuntimeError(f"the worker of {self.tree} exited with {self.process.wait()}")

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()
        self.folder.cleanup()


def compare(against: Path, text: str, name: str, points: int, rounds: int,
            calls: int = 5) -> dict:
    """This tree's pinnc and the one at ``against`` on one program, keyed "this" and
    "against": per round, the seconds of a step ("run", the least of ``calls`` calls) and, in
    half as many rounds, of a fresh trace and lowering ("lower"); and each tree's first report
    (`Worker.ready`)."""
    trees = {"this": THIS_TREE, "against": Path(against).resolve()}
    with ExitStack() as stack:
        workers = {}
        for key, tree in trees.items():
            workers[key] = Worker(tree, text, name, points)
            stack.callback(workers[key].close)
        seconds = {"run": _alternate(workers, "run", calls, rounds),
                   "lower": _alternate(workers, "lower", 1, max(3, rounds // 2))}
        return {**seconds, "ready": {key: w.ready for key, w in workers.items()}}


def _alternate(workers: dict[str, Worker], command: str, calls: int, rounds: int
               ) -> dict[str, list[float]]:
    seconds = {key: [] for key in workers}
    for r in range(rounds):
        for key in (list(workers) if r % 2 == 0 else list(workers)[::-1]):
            seconds[key].append(workers[key].ask(command, calls))
    return seconds


def ratio(numerator: list[float], denominator: list[float]) -> float:
    """The median of the rounds' ratios."""
    return float(np.median(np.asarray(numerator) / np.asarray(denominator)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", required=True, help="the program, as JSON")
    serve(**json.loads(parser.parse_args().serve))
