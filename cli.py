"""The `pinnc` command: check, compile, train, eval, export, options (INTERFACE.md,
docs/cli.md). It only wires the stages.

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

from . import __version__, option_reference
from .compiler import derivatives
from .compiler.errors import FileError, SpecError, did_you_mean
from .compiler.pipeline import Compiled, compile_text, parse_assignment, read_source
from .summary import summary, training


class UsageError(Exception):
    """Arguments that do not go together (exit status 2, like argparse's own)."""


def main(argv: list[str] | None = None) -> int:
    """Run `pinnc ARGV` (``sys.argv[1:]`` where None); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    args.argv = ["pinnc", *argv]
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


def _examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def _command(commands, name: str, summary: str, *examples: str) -> argparse.ArgumentParser:
    return commands.add_parser(name, help=summary, description=summary[0].upper() + summary[1:]
                               + ".", epilog=_examples(*examples),
                               formatter_class=argparse.RawDescriptionHelpFormatter)


def _spec(parser: argparse.ArgumentParser, **more) -> None:
    parser.add_argument("spec", type=Path, metavar="SPEC.pde", **more,
                        help="the program, e.g. examples/poisson.pde")


def _overrides(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", action="append", default=[], metavar="OPTION=VALUE",
                        help="override an option the program sets (repeatable; 'pinnc options' "
                             "lists them), e.g. --set points=4000 --set "
                             "'optimizer=adam(steps=500) then lbfgs(steps=500)'")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pinnc", description="Compile .pde specifications to trained physics-informed "
        "neural networks.", formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_examples("pinnc check examples/poisson.pde",
                         "pinnc train examples/poisson.pde -o runs/poisson",
                         "pinnc eval runs/poisson points.csv -o values.csv",
                         "pinnc COMMAND --help   (each command's arguments and examples)"))
    parser.add_argument("--version", action="version", version=f"pinnc {__version__}",
                        help="print pinnc's version and exit, e.g. pinnc --version")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = _command(commands, "check", "parse and validate a spec; print a summary",
                     "pinnc check examples/poisson.pde")
    _spec(check)
    check.set_defaults(run=_check)

    compile_ = _command(commands, "compile", "write the generated JAX module",
                        "pinnc compile examples/poisson.pde -o poisson.py",
                        "pinnc compile examples/heat.pde --emit plan",
                        "pinnc compile examples/poisson.pde --set precision=float32")
    _spec(compile_)
    compile_.add_argument("-o", "--output", type=Path, metavar="OUT.py",
                          help="file to write (default: standard output), e.g. -o poisson.py")
    compile_.add_argument("--emit", choices=("jax", "sympy", "plan"), default="jax",
                          help="jax: the module (default); sympy: the symbolic residuals; "
                               "plan: the derivative plan, e.g. --emit sympy")
    _overrides(compile_)
    compile_.set_defaults(run=_compile)

    train = _command(commands, "train", "compile, sample, train; write a run folder",
                     "pinnc train examples/poisson.pde",
                     "pinnc train examples/poisson.pde -o runs/p1 --seed 1 --set points=4000",
                     "pinnc train --resume runs/p1",
                     "pinnc train examples/poisson.pde --distributed")
    _spec(train, nargs="?")
    train.add_argument("-o", "--output", type=Path, metavar="DIR",
                       help="run folder (default runs/<spec name>); a checkpoint is written "
                            "there after every chunk of steps, e.g. -o runs/poisson")
    train.add_argument("--resume", type=Path, metavar="DIR",
                       help="continue the killed or interrupted run in DIR from its checkpoint "
                            "(its own spec.pde and options; no SPEC.pde), e.g. --resume "
                            "runs/poisson")
    _overrides(train)
    train.add_argument("--seed", type=_natural, metavar="N",
                       help="the random seed of the initial weights and the points: the same as "
                            "--set seed=N, e.g. --seed 1")
    train.add_argument("-q", "--quiet", action="store_true",
                       help="no progress bar, e.g. pinnc train spec.pde -q")
    _processes(train)
    train.set_defaults(run=_train)

    evaluate = _command(commands, "eval", "trained fields at the points of a CSV",
                        "pinnc eval runs/poisson points.csv",
                        "pinnc eval runs/poisson points.csv -o values.csv")
    evaluate.add_argument("run_dir", type=Path, metavar="DIR",
                          help="a run folder written by 'pinnc train', e.g. runs/poisson")
    evaluate.add_argument("points", type=Path, metavar="POINTS.csv",
                          help="a CSV whose header names the fields' coordinates, one point "
                               "a row, e.g. a file holding 'x,y' then '0.5,0.25'")
    evaluate.add_argument("-o", "--output", type=Path, metavar="OUT.csv",
                          help="file to write (default: standard output), e.g. -o values.csv")
    evaluate.set_defaults(run=_eval)

    export = _command(commands, "export", "write a run's fields on a grid of their domains, "
                      "for ParaView", "pinnc export runs/poisson --vtk",
                      "pinnc export runs/poisson --vtk --grid 101 -o poisson_vtk")
    export.add_argument("run_dir", type=Path, metavar="DIR",
                        help="a run folder written by 'pinnc train', e.g. runs/poisson")
    export.add_argument("--vtk", action="store_true",
                        help="write VTK unstructured grids, <field>.vtu (the default and only "
                             "format), e.g. --vtk")
    export.add_argument("--grid", type=_natural, metavar="N",
                        help="points per axis of the grid (default 1001 for one coordinate, 201 "
                             "for two, 51 for three), e.g. --grid 101")
    export.add_argument("--field", action="append", metavar="NAME",
                        help="export this field only (repeatable; default every field), e.g. "
                             "--field u")
    export.add_argument("-o", "--output", type=Path, metavar="OUT_DIR",
                        help="folder to write the files into (default DIR/vtk), e.g. -o "
                             "poisson_vtk")
    export.set_defaults(run=_export)

    options = _command(commands, "options", "list the options 'set' takes, their values and "
                       "defaults", "pinnc options", "pinnc options optimizer seed")
    options.add_argument("names", nargs="*", metavar="OPTION",
                         help="list only these options, e.g. optimizer")
    options.set_defaults(run=_options)
    return parser


def _processes(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "several processes", "train over the devices of several processes (hosts) with "
        "jax.distributed:\nevery process runs the same command; process 0 writes the run "
        "folder")
    group.add_argument("--distributed", action="store_true",
                       help="join the processes of the cluster job JAX detects (SLURM, Open "
                            "MPI, ...), e.g. srun pinnc train spec.pde --distributed")
    group.add_argument("--coordinator", metavar="HOST:PORT",
                       help="the address process 0 serves the others on (with --num-processes "
                            "and --process-id), e.g. --coordinator node1:1234")
    group.add_argument("--num-processes", type=_positive, metavar="N",
                       help="how many processes train together, e.g. --num-processes 2")
    group.add_argument("--process-id", type=_natural, metavar="I",
                       help="this process's index, 0 to N-1, e.g. --process-id 0")


def _positive(text: str) -> int:
    """An argument that is a whole number >= 1."""
    value = _natural(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text}")
    return value


def _natural(text: str) -> int:
    """An argument that is a whole number >= 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text}")
    return value


def _compiled(spec: Path, assignments: list[str]) -> Compiled:
    overrides = dict(parse_assignment(a) for a in assignments)
    return compile_text(read_source(spec), str(spec), overrides)


def _check(args) -> int:
    compiled = _compiled(args.spec, [])
    print(summary(compiled, args.spec.name))
    return 0


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
    from .runtime.runs.record import command_line
    from .runtime.training import train

    writes = _join(args)
    use_compilation_cache()
    if args.resume is not None:
        problem, directory = _resumed(args, writes)
    else:
        if args.spec is None:
            raise UsageError("train needs SPEC.pde (or --resume DIR)")
        overrides = dict(parse_assignment(a) for a in args.set)
        if args.seed is not None:
            overrides["seed"] = args.seed
        problem = Problem.from_text(read_source(args.spec), str(args.spec), overrides)
        directory = args.output or Path("runs") / problem.name
    if not writes:  # the others train their share of the points silently
        result = train(problem, progress=False, checkpoint=directory,
                       resume=args.resume is not None)
        return 1 if result.metrics["status"] == "diverged" else 0
    if not args.quiet:
        print("\n".join(line[2:] for line in training(problem.ir)), file=sys.stderr)
    # a folder that cannot be written, or is in use, ends here; run.json records the command
    with writing(directory), command_line(args.argv):
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


def _join(args) -> bool:
    """Join the other processes where the flags say so (before JAX starts); whether this
    process writes the run folder (process 0, or the only one)."""
    explicit = (args.coordinator, args.num_processes, args.process_id)
    if not args.distributed and all(flag is None for flag in explicit):
        return True
    if not args.distributed and any(flag is None for flag in explicit):
        raise UsageError("--coordinator, --num-processes and --process-id go together (or "
                         "give --distributed to let JAX detect the cluster job)")
    if None not in explicit[1:] and args.process_id >= args.num_processes:
        raise UsageError(f"--process-id {args.process_id}: the processes are numbered 0 to "
                         f"{args.num_processes - 1}")
    from .runtime.training import processes

    try:
        processes.initialize(*explicit)
    except processes.JoinError as error:
        if args.coordinator is None:
            raise UsageError(f"--distributed: {error}; give them as --coordinator HOST:PORT "
                             "--num-processes N --process-id I") from None
        raise
    return processes.writes()


def _resumed(args, writes: bool = True):
    """The problem of the run folder ``--resume DIR`` names, and the folder."""
    from .api import load_problem
    from .runtime.runs import CHECKPOINT

    if args.spec is not None or args.set or args.output is not None or args.seed is not None:
        raise UsageError("--resume DIR takes the run folder's own spec and options: "
                         "give no SPEC.pde, --set, --seed or -o with it")
    directory = args.resume
    if not (directory / "run.json").exists() or not (directory / "spec.pde").exists():
        raise FileError(directory, "not a run folder (no run.json and spec.pde); train with "
                        f"'pinnc train SPEC.pde -o {directory}'")
    problem = load_problem(directory)
    if writes and not (directory / CHECKPOINT).exists():
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
    from .runtime.runs.folder import field_coordinates

    # The points are checked before the run's program is compiled (seconds): their numbers,
    # then their header against the fields' coordinates that run.json records.
    header, rows = _read_points(args.points)
    _check_header(args.points, header, field_coordinates(args.run_dir))
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


def _check_header(points: Path, header: list[str], fields: dict[str, list[str]] | None) -> None:
    """A FileError at line 1 of ``points`` where its header lacks a field's coordinate."""
    for name, coords in (fields or {}).items():
        missing = [c for c in coords if c not in header]
        if missing:
            raise FileError(points, f"no column '{missing[0]}' for field {name}"
                            f"({', '.join(coords)}); the header has {', '.join(header)}", 1)


def _evaluate(result, header: list[str], rows: list[list[str]], points: Path):
    """(name, values at the rows) for every field the run reports."""
    import jax.numpy as jnp
    import numpy as np

    table = np.asarray(rows, dtype=np.float64).reshape(len(rows), len(header))
    quantities = result.problem.ir.quantities
    _check_header(points, header, {f.name: list(f.coords) for f in quantities})
    outputs = []
    for f in quantities:
        X = jnp.asarray(table[:, [header.index(c) for c in f.coords]], result.problem.dtype)
        outputs.append((f.name, np.asarray(result.field(f.name)(X)) if len(rows) else np.zeros(0)))
    return outputs


def _export(args) -> int:
    from .api import load_run
    from .runtime.runs import export, use_compilation_cache
    from .runtime.runs.folder import EXPORTS, field_coordinates

    fields = field_coordinates(args.run_dir)
    for name in args.field or []:
        if fields is not None and name not in fields:
            raise UsageError(f"the run has no field '{name}'{did_you_mean(name, fields)}; its "
                             f"fields are {', '.join(fields)}")
    for name, coords in (fields or {}).items():  # before the program is compiled
        n = export.grid_size(len(coords), args.grid) if len(coords) <= 3 else 2
        if n < 2 or n ** len(coords) > export.MAX_GRID_POINTS:
            raise UsageError(f"--grid {n}: field {name} has {len(coords)} coordinates; a grid "
                             f"takes at least 2 points per axis and at most "
                             f"{export.MAX_GRID_POINTS:,} points in all")
    use_compilation_cache()
    result = load_run(args.run_dir)
    known = [q.name for q in result.problem.ir.quantities]
    for name in args.field or []:
        if name not in known:
            raise UsageError(f"the run has no field '{name}'{did_you_mean(name, known)}; its "
                             f"fields are {', '.join(known)}")
    folder = args.output or args.run_dir / EXPORTS
    for entry in export.export_vtk(result.problem, result.params, folder, args.grid,
                                   args.field):
        if entry.path is None:
            print(f"note: {entry.name} is not exported: {entry.reason}", file=sys.stderr)
        else:
            print(entry.path)
    return 0


def _options(args) -> int:
    rows = option_reference.rows()
    known = [row.name for row in rows]
    for name in args.names:
        if name not in known:
            raise UsageError(f"no option '{name}'{did_you_mean(name, known)}; options are "
                             f"{', '.join(known)}")
    selected = [row for row in rows if not args.names or row.name in args.names]
    sys.stdout.write(option_reference.describe(selected))
    return 0


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
