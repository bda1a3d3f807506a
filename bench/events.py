"""What writing the TensorBoard events costs a run: the time spent adding each chunk's rows
to ``DIR/events``, against the training time, for the first-order optimizers (the shortest
chunks per second of training, so the largest share).

    python bench/events.py [--steps 2000] [--set OPTION=VALUE ...]

Each run trains `examples/poisson.pde` into a run folder (checkpoints and events written after
every chunk) with `runtime.runs.events.EventLog.add` timed.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pinnc
from pinnc.compiler.pipeline import parse_assignment
from pinnc.runtime.runs import events
from pinnc.runtime.training import train

POISSON = Path(__file__).resolve().parent.parent / "examples" / "poisson.pde"


def timed_adds() -> list[float]:
    """Patch `EventLog.add` to record its seconds per call; returns the list it fills."""
    seconds: list[float] = []
    add = events.EventLog.add

    def timed(self, history, start):
        started = time.perf_counter()
        add(self, history, start)
        seconds.append(time.perf_counter() - started)

    events.EventLog.add = timed
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--set", action="append", default=[], metavar="OPTION=VALUE")
    args = parser.parse_args()
    overrides = dict(parse_assignment(a) for a in args.set)
    seconds = timed_adds()
    print("| optimizer | steps | chunks | train s | events s | share |")
    print("| --- | --- | --- | --- | --- | --- |")
    for phase in (f"adam(steps={args.steps})", f"lbfgs(steps={args.steps // 4})",
                  f"engd(steps={args.steps // 20})"):
        seconds.clear()
        problem = pinnc.compile_file(POISSON, **{"optimizer": phase, **overrides})
        with tempfile.TemporaryDirectory() as folder:
            result = train(problem, progress=False, checkpoint=folder)
        train_s, events_s = result.metrics["time_s"], sum(seconds)
        print(f"| {phase} | {result.metrics['steps']} | {len(seconds)} | {train_s:.2f} | "
              f"{events_s:.3f} | {events_s / train_s:.1%} |", flush=True)


if __name__ == "__main__":
    main()
