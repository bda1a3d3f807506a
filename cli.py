"""The `pinnc` command: check, compile, train, eval (INTERFACE.md). It only wires the stages.

Exit status: 0 success; 1 a problem in the user's input, reported as one message on stderr;
2 a usage error (argparse's own).
"""
from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from pathlib import Path

from .compiler import derivatives, ir
from .compiler.errors import FileError, SpecError
from .compiler.pipeline import Compiled, compile_text, parse_assignment, read_source


class UsageError(Exception):
    """Arguments that do not go together (exit status 2, like argparse's own)."""


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args) or 0
    except SpecError as error:
        print(str(error), file=sys.stderr)
    except UsageError as error:
        print(f"pinnc {args.command}: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        print(f"error: {where}{error.strerror or error}", file=sys.stderr)
    return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pinnc", description="Compile .pde specifications to "
                                     "trained physics-informed neural networks.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="parse and validate a spec; print a summary")
    check.add_argument("spec", type=Path, metavar="SPEC.pde")
    check.set_defaults(run=_check)

    compile_ = commands.add_parser("compile", help="write the generated JAX module")
    compile_.add_argument("spec", type=Path, metavar="SPEC.pde")
    compile_.add_argument("-o", "--output", type=Path, metavar="OUT.py")
    compile_.add_argument("--emit", choices=("jax", "sympy", "plan"), default="jax",
                          help="jax: the module (default); sympy: the symbolic residuals; "
                               "plan: the derivative plan")
    compile_.add_argument("--set", action="append", default=[], metavar="OPTION=VALUE")
    compile_.set_defaults(run=_compile)

    train = commands.add_parser("train", help="compile, sample, train; write a run folder")
    train.add_argument("spec", type=Path, metavar="SPEC.pde", nargs="?")
    train.add_argument("-o", "--output", type=Path, metavar="DIR",
                       help="run folder (default runs/<spec name>); a checkpoint is written "
                            "there after every chunk of steps")
    train.add_argument("--resume", type=Path, metavar="DIR",
                       help="continue the killed or interrupted run in DIR from its checkpoint "
                            "(its own spec.pde and options; no SPEC.pde)")
    train.add_argument("--set", action="append", default=[], metavar="OPTION=VALUE",
                       help="override an option of the spec, e.g. --set points=4000")
    train.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    train.set_defaults(run=_train)

    evaluate = commands.add_parser("eval", help="trained fields at the points of a CSV")
    evaluate.add_argument("run_dir", type=Path, metavar="DIR")
    evaluate.add_argument("points", type=Path, metavar="POINTS.csv")
    evaluate.add_argument("-o", "--output", type=Path, metavar="OUT.csv")
    evaluate.set_defaults(run=_eval)
    return parser


def _compiled(spec: Path, assignments: list[str]) -> Compiled:
    overrides = dict(parse_assignment(a) for a in assignments)
    return compile_text(read_source(spec), str(spec), overrides)


def _check(args) -> int:
    compiled = _compiled(args.spec, [])
    print(summary(compiled, args.spec.name))
    return 0


def summary(compiled: Compiled, name: str) -> str:
    """What `pinnc check` prints: fields, coordinates, domains, terms and their derivatives."""
    problem = compiled.problem
    lines = [f"{name}: ok", f"  coordinates: {', '.join(problem.coords)}"]
    for d in problem.domains:
        lines.append(f"  domain {d.name}: {ir.describe(d.domain)}")
    for f in problem.fields:
        m = f.model
        lines.append(f"  field {f.name}({', '.join(f.coords)}): mlp(hidden={list(m.hidden)}, "
                     f"activation={m.activation}, output={m.output})")
    for p in problem.params:
        lines.append(f"  param {p.name} = {p.init:g}")
    for term in problem.terms:
        plan = compiled.plan.term(term.label)
        needs = "; ".join(", ".join(f.needs()) for f in plan.fields)
        lines.append(f"  term {term.label}: {term.source}")
        measured = f" at {len(term.data.values)} measured points" if term.data is not None else ""
        lines.append(f"    needs {needs}{measured}")
        lines += _sobol_notes(problem, term)
    for e in problem.exact:
        lines.append(f"  exact {e.field} = {e.expr}")
    return "\n".join(lines)


def _sobol_notes(problem: ir.Problem, term: ir.Term) -> list[str]:
    """A note for each integral of ``term`` that averages a Sobol set of a size other than a
    power of two: such a set is the first n points of the next power of two, spread less
    evenly (a smooth integrand's mean: 2000 points, error 1.9e-4; 2048, 2.7e-5)."""
    options = problem.options
    if options.sampler != "sobol":
        return []
    averaged = [(f"integral {k + 1}", integral.region, integral.points)
                 for k, integral in enumerate(term.integrals)]
    if term.kind == "minimize":  # the term is itself an integral over its points
        averaged.insert(0, ("its integral", term.region, term.points))
    notes = []
    for what, region, points in averaged:
        n = options.points_in(region, points)
        if n & (n - 1):
            lower, upper = 2 ** (n.bit_length() - 1), 2 ** n.bit_length()
            notes.append(f"    note: {what} averages {n} Sobol points; Sobol sets are "
                         f"balanced at powers of two, so {lower} or {upper} points would "
                         "estimate it more closely")
    return notes


def _compile(args) -> int:
    compiled = _compiled(args.spec, args.set)
    if args.emit == "jax":
        text = compiled.source
    elif args.emit == "plan":
        text = derivatives.describe(compiled.plan) + "\n"
    else:
        text = "".join(f"{t.label}: {t.residual}\n" for t in compiled.problem.terms)
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def _train(args) -> int:
    # Deferred here and below: the API and the runtime import JAX, which `pinnc check` never needs.
    from .api import Problem
    from .runtime.runs import use_compilation_cache, writing
    from .runtime.training import train

    use_compilation_cache()
    if args.resume is not None:
        problem, directory = _resumed(args)
    else:
        if args.spec is None:
            raise UsageError("train needs SPEC.pde (or --resume DIR)")
        overrides = dict(parse_assignment(a) for a in args.set)
        problem = Problem.from_text(read_source(args.spec), str(args.spec), overrides)
        directory = args.output or Path("runs") / problem.name
    with writing(directory):  # a folder that cannot be written, or is in use, ends here
        result = train(problem, progress=not args.quiet, checkpoint=directory,
                       resume=args.resume is not None)
        result.save(directory)
    _report(problem.name, result.metrics, directory)
    if result.metrics["status"] == "diverged":
        print(f"{directory}: error: training diverged at step {result.metrics['steps']} (the "
              "loss or a parameter became NaN or infinite); the run folder keeps the last "
              "finite parameters", file=sys.stderr)
        return 1
    return 0


def _resumed(args):
    """The problem of the run folder ``--resume DIR`` names, and the folder."""
    from .api import load_problem
    from .runtime.runs import CHECKPOINT

    if args.spec is not None or args.set or args.output is not None:
        raise UsageError("--resume DIR takes the run folder's own spec and options: "
                         "give no SPEC.pde, --set or -o with it")
    directory = args.resume
    if not (directory / "run.json").exists() or not (directory / "spec.pde").exists():
        raise FileError(directory, "not a run folder (no run.json and spec.pde); train with "
                        f"'pinnc train SPEC.pde -o {directory}'")
    problem = load_problem(directory)
    if not (directory / CHECKPOINT).exists():
        print(f"note: {directory} has no {CHECKPOINT} (its training stopped before the first "
              "chunk of steps ended); training from step 0", file=sys.stderr)
    return problem, directory


def _report(name: str, metrics: dict, directory: Path) -> None:
    print(f"{name}: {metrics['status']} after {metrics['steps']} steps, "
          f"loss {metrics['loss']:.3e}, {metrics['time_s']:.1f} s training "
          f"+ {metrics['compile_s']:.1f} s compiling")
    for field, errors in metrics["fields"].items():
        print(f"  {field}: relative L2 error {errors['rel_l2']:.3e}, max abs {errors['max_abs']:.3e}")
    for name, value in metrics["params"].items():
        print(f"  {name} = {value:.6g}")
    print(f"  run folder: {directory}")


def _eval(args) -> int:
    header, rows = _read_points(args.points)  # before the run's program is compiled (slow)
    from .api import load_run
    from .runtime.runs import use_compilation_cache

    use_compilation_cache()
    result = load_run(args.run_dir)
    outputs = _evaluate(result, header, rows, args.points)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header + [name for name, _ in outputs])
    for i, row in enumerate(rows):
        writer.writerow(row + [repr(float(values[i])) for _, values in outputs])
    if args.output:
        try:
            args.output.write_text(out.getvalue())
        except OSError as error:
            reason = str(error.strerror or error).lower()
            raise FileError(args.output, f"cannot write: {reason}") from None
    else:
        sys.stdout.write(out.getvalue())
    return 0


def _evaluate(result, header: list[str], rows: list[list[str]], points: Path):
    """(name, values at the rows) for every field the run reports."""
    import jax.numpy as jnp
    import numpy as np

    table = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(header))
    outputs = []
    for f in result.problem.ir.quantities:
        missing = [c for c in f.coords if c not in header]
        if missing:
            raise FileError(points, f"no column '{missing[0]}' for field {f.name}"
                            f"({', '.join(f.coords)}); the header has {', '.join(header)}", 1)
        X = jnp.asarray(table[:, [header.index(c) for c in f.coords]], result.problem.dtype)
        outputs.append((f.name, np.asarray(result.field(f.name)(X)) if len(rows) else np.zeros(0)))
    return outputs


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _read_points(path: Path) -> tuple[list[str], list[list[str]]]:
    """The header (coordinate names, and any other columns) and rows of a CSV of points, each
    value checked to be a number. Messages name the line and column, never a value."""
    from .runtime.runs.folder import number, read_csv

    header, rows = read_csv(path)
    if not any(header):
        raise FileError(path, "empty file; expected a header naming the coordinates", 1)
    for column, name in enumerate(header, start=1):
        if not _NAME.fullmatch(name):
            raise FileError(path, f"column {column} of the header is not a name (the header "
                            "names the coordinates, e.g. x,y)", 1)
        if header.index(name) != column - 1:
            raise FileError(path, f"column '{name}' appears twice in the header", 1)
    table = []
    for line, row in rows:
        if len(row) != len(header):
            raise FileError(path, f"{len(row)} values, the header names {len(header)}", line)
        for column, (name, cell) in enumerate(zip(header, row), start=1):
            number(path, line, column, name, cell)
        table.append([cell.strip() for cell in row])
    return header, table


if __name__ == "__main__":
    sys.exit(main())
