"""Data parallelism (the option ``devices``): strong and weak scaling over host devices.

    python bench/scaling.py [--devices 1,2,4,8] [--points 4096] [--boundary 1024]
                            [--optimizers adam,lbfgs,ssbroyden,engd] [--model 32,32]
                            [--scaling strong,weak] [--steps N]

Each device count runs in a worker process of its own, started with
``XLA_FLAGS=--xla_force_host_platform_device_count=D`` (JAX fixes its devices when it starts),
training poisson.pde with ``devices = all``:

- strong scaling: the same points (``--points`` inside, ``--boundary`` on the boundary) split
  over D devices;
- weak scaling: D times those points, the same number on each device.

For each optimizer the table gives the training time per step (`metrics.json`'s ``time_s``
over its steps: compilation excluded, the loop's chunks as the product runs them), the memory
one device needs for the compiled chunk (``compiled.memory_analysis()``: arguments, outputs
and temporaries) and the all-reduces XLA inserted (counted in the compiled, partitioned HLO:
``all-reduce(`` ops; the lowered StableHLO has none, the partitioner adds them). Host devices
share the machine's cores, so on a CPU the strong-scaling times say what the sharding costs,
not what several GPUs would gain.

    python bench/scaling.py --worker '{"mode": ..., ...}'   (a worker: one JSON line per row)
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEPS = {"adam": 200, "lbfgs": 50, "ssbroyden": 50, "engd": 10, "nystrom": 10}


def worker(job: dict) -> None:
    """Train each optimizer of ``job`` on this process's devices; print one JSON row each."""
    import jax

    import pinnc
    from pinnc.runtime.training import train
    for optimizer in job["optimizers"]:
        problem = pinnc.compile_file(
            ROOT / "examples" / "poisson.pde", points=job["points"],
            boundary_points=job["boundary"], model=f"mlp(hidden=[{job['model']}])",
            optimizer=f"{optimizer}(steps={job.get('steps') or STEPS[optimizer]})",
            devices="all")
        metrics = train(problem, progress=False).metrics
        chunks = list(problem._compiled_chunks.values())
        memory = chunks[0].memory_analysis()
        print(json.dumps({
            "mode": job["mode"], "devices": len(jax.devices()), "optimizer": optimizer,
            "points": job["points"] + job["boundary"],
            "ms_per_step": 1e3 * metrics["time_s"] / max(metrics["steps"], 1),
            "compile_s": metrics["compile_s"], "solver": metrics["solver"],
            "mb_per_device": (memory.argument_size_in_bytes + memory.output_size_in_bytes
                              + memory.temp_size_in_bytes) / 2 ** 20,
            "all_reduces": sum(c.as_text().count("all-reduce(") for c in chunks)}), flush=True)


def run(devices: int, job: dict) -> list[dict]:
    """``job`` in a worker process with ``devices`` host devices: its rows."""
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}",
               JAX_PLATFORMS="cpu")
    done = subprocess.run([sys.executable, __file__, "--worker", json.dumps(job)], env=env,
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"worker on {devices} devices failed:\n{done.stderr[-3000:]}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", default="1,2,4,8")
    parser.add_argument("--points", type=int, default=4096)
    parser.add_argument("--boundary", type=int, default=1024)
    parser.add_argument("--optimizers", default="adam,lbfgs,ssbroyden,engd,nystrom")
    parser.add_argument("--model", default="32,32", help="hidden widths, e.g. 32,32")
    parser.add_argument("--scaling", default="strong,weak")
    parser.add_argument("--steps", type=int, help="steps of every optimizer (default: its own)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(json.loads(args.worker))
    rows = []
    for mode in args.scaling.split(","):
        for devices in map(int, args.devices.split(",")):
            scale = devices if mode == "weak" else 1
            rows += run(devices, {"mode": mode, "points": args.points * scale,
                                  "boundary": args.boundary * scale, "model": args.model,
                                  "optimizers": args.optimizers.split(","),
                                  "steps": args.steps})
    print(f"# poisson.pde, mlp(hidden=[{args.model}]), float64; strong: {args.points} + "
          f"{args.boundary} points; weak: that many per device")
    print("| scaling | devices | optimizer | points | ms/step | speed-up | MiB/device "
          "| all-reduces |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    first = {(r["mode"], r["optimizer"]): r["ms_per_step"] for r in rows if r["devices"] == 1}
    for r in rows:
        base = first.get((r["mode"], r["optimizer"]))
        # strong: time on 1 / time on D; weak: the same ratio, 1.0 being perfect scaling
        gain = f"{base / r['ms_per_step']:.2f}" if base else "-"
        print(f"| {r['mode']} | {r['devices']} | {r['optimizer']} | {r['points']} | "
              f"{r['ms_per_step']:.2f} | {gain} | {r['mb_per_device']:.1f} | "
              f"{r['all_reduces']} |")


if __name__ == "__main__":
    main()
