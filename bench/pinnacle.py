"""Train PINNacle's problems (bench/pinnacle/*.pde) with pinnc's defaults and print one table.

    python bench/pinnacle.py [NAME ...] [--reference DIR] [--set OPTION=VALUE ...] [--runs DIR]

Each program states one problem of PINNacle (Hao et al., arXiv 2306.08827) with PINNacle's
network (5 hidden layers of 100, tanh) and numbers of points, and no optimizer: pinnc's defaults
choose it (and, without an optimizer, a five-minute time limit applies). Training runs in float64.

Columns: problem; pinnc's relative L2 error; steps; training seconds; the optimizer the defaults
chose; PINNacle's vanilla-PINN and best L2RE (Table 3 of the paper). The error is taken against
the program's `exact` where PINNacle's solution is analytic, else against PINNacle's reference
data: the `.dat` files of its `ref/` folder, read from `--reference DIR` (a PINNacle work tree or
a folder holding the ref files). As PINNacle does, the error of several fields is one relative L2
norm over all of them together, at every point of the reference file (rows with NaN dropped).
Without `--reference`, problems that need it are skipped. `--runs DIR` saves each run folder
(metrics.json, history.csv, plots) under DIR/NAME.
"""
from __future__ import annotations

import argparse
import math
import re
from pathlib import Path

import numpy as np

import pinnc
from pinnc.compiler.pipeline import parse_assignment

PROGRAMS = Path(__file__).resolve().parent / "pinnacle"

# problem: (PINNacle's name, reference file in ref/ or None where `exact` is analytic, fields
# in the file's column order, whether the file holds one column per time, as COMSOL writes them)
PROBLEMS = {
    "burgers1d_c": ("Burgers1d-C", "burgers1d.dat", ["u"], True),
    "poisson2d_c": ("Poisson2d-C", "poisson1_cg_data.dat", ["u"], False),
    "poisson2d_cg": ("Poisson2d-CG", "poisson_boltzmann2d.dat", ["u"], False),
    "heat2d_ms": ("Heat2d-MS", None, ["u"], False),
    "ns2d_c": ("NS2d-C", "lid_driven_a4.dat", ["u", "v", "p"], False),
    "ns2d_cg": ("NS2d-CG", "ns_0_obstacle.dat", ["u", "v", "p"], False),
    "wave1d_c": ("Wave1d-C", None, ["u"], False),
    "pnd": ("PNd", None, ["u"], False),
    "hnd": ("HNd", None, ["u"], False),
    "pinv": ("PInv", None, ["u", "a"], False),
}

# PINNacle's Table 3 (mean L2RE of each method on each problem): (vanilla PINN, best method's
# L2RE). None where the figure could not be read from the paper when this script was written.
TABLE3: dict[str, tuple[float | None, float | None]] = {name: (None, None) for name in PROBLEMS}


def read_reference(directory: Path, filename: str, fields: list[str], ncoords: int,
                   by_time: bool) -> tuple[np.ndarray, np.ndarray]:
    """Points (N, ncoords) and values (N, len(fields)) of one of PINNacle's `.dat` files:
    `%` comment lines, then rows of coordinates and values. Where ``by_time``, a row holds the
    space coordinates, then each field at every time named `@ t=...` in the last comment
    line."""
    path = directory / filename
    if not path.exists():
        path = directory / "ref" / filename
    text = path.read_text(encoding="utf-8", errors="replace")
    header = [line for line in text.splitlines() if line.startswith("%")][-1]
    data = np.loadtxt(path, comments="%", ndmin=2)
    if by_time:
        times = np.array([float(t) for t in re.findall(r"@\s*t=\s*([-+0-9.eE]+)", header)])
        nspace = ncoords - 1
        nt = len(times) // len(fields)
        values = data[:, nspace:].reshape(len(data), nt, len(fields))
        space = np.repeat(data[:, :nspace], nt, axis=0)
        points = np.concatenate([space, np.tile(times[::len(fields)], len(data))[:, None]], 1)
        values = values.reshape(-1, len(fields))
    else:
        points, values = data[:, :ncoords], data[:, ncoords:ncoords + len(fields)]
    keep = ~(np.isnan(points).any(1) | np.isnan(values).any(1))
    return points[keep], values[keep]


def error(name: str, result, reference: Path | None) -> float:
    title, filename, fields, by_time = PROBLEMS[name]
    if filename is None and len(fields) == 1:
        return result.metrics["fields"][fields[0]]["rel_l2"]
    if filename is None:
        # PInv, as PINNacle measures it: u and a together on a 50 x 50 grid
        g = np.linspace(0, 1, 50)
        x, y = (c.ravel() for c in np.meshgrid(g, g))
        a = 1 / (1 + x**2 + y**2 + (x - 1)**2 + (y - 1)**2)
        expected = np.stack([np.sin(np.pi * x) * np.sin(np.pi * y), a], 1)
        points = np.stack([x, y], 1)
    else:
        points, expected = read_reference(reference, filename, fields,
                                          len(result.problem.ir.coords), by_time)
    predicted = np.stack([np.asarray(result.field(f)(points), np.float64) for f in fields], 1)
    return float(np.linalg.norm(predicted - expected) / np.linalg.norm(expected))


def optimizer_text(options) -> str:
    phases = []
    for phase in options.optimizer:
        settings = dict(phase.settings)
        rows = f", rows={int(settings['rows'])}" if "rows" in settings else ""
        phases.append(f"{phase.name}({phase.steps}{rows})")
    return " then ".join(phases)


def figure(value) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) \
        else f"{value:.2e}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="problems to run (default: all)")
    parser.add_argument("--reference", type=Path, help="PINNacle work tree or folder of its ref files")
    parser.add_argument("--set", action="append", default=[], metavar="OPTION=VALUE")
    parser.add_argument("--runs", type=Path, help="save each run folder under this folder")
    args = parser.parse_args()
    overrides = {"precision": "float64", **dict(parse_assignment(a) for a in args.set)}
    names = args.names or list(PROBLEMS)
    print(f"{'problem':13} {'pinnc L2RE':>11} {'steps':>6} {'train s':>8}  {'optimizer':32} "
          f"{'PINN':>9} {'best':>9}", flush=True)
    for name in names:
        title, filename, fields, _ = PROBLEMS[name]
        if filename is not None and args.reference is None:
            print(f"{title:13} (needs --reference DIR for {filename})", flush=True)
            continue
        problem = pinnc.compile_file(PROGRAMS / f"{name}.pde", **overrides)
        result = problem.train(progress=False)
        if args.runs is not None:
            result.save(args.runs / name)
        m = result.metrics
        vanilla, best = TABLE3[name]
        value = error(name, result, args.reference)
        extra = ""
        if filename is None and len(fields) > 1:
            extra = "  " + ", ".join(f"{f}: {m['fields'][f]['rel_l2']:.2e}" for f in fields)
        print(f"{title:13} {figure(value):>11} {m['steps']:6d} {m['time_s']:8.1f}  "
              f"{optimizer_text(problem.options):32} {figure(vanilla):>9} {figure(best):>9}"
              f"  {m['status']}{extra}", flush=True)


if __name__ == "__main__":
    main()
