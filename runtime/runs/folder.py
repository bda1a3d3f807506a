"""Run folders (INTERFACE.md): writing them after training and reading them back.

    DIR/metrics.json   status, steps, times, loss, terms, field errors, params
    DIR/params.npz     every array of the parameter pytree, keyed by its path ("fields/u/0/w");
                       numpy's format, read with allow_pickle=False: nothing executable
    DIR/history.csv    step, loss and each term, every RECORD_EVERY steps
    DIR/spec.pde       the program, and DIR/run.json the options overrides, to rebuild fields,
                       and what made the run (`record`: versions, seed, date, command, ...)
    DIR/*.png          loss history, fields (and errors, time slices)
    DIR/checkpoint.npz the state of training after the last finished chunk (`checkpoints`)
    DIR/vtk/*.vtu      the fields on a grid, for ParaView (`pinnc export`, `export`)
    DIR/.lock          held by the training that writes the folder (`writing`)

Every file is written to a temporary name and renamed into place, so that a reader sees the old
file or the new one, never half of one. Every file is read back with checks: a missing, damaged
or foreign file is a `FileError` naming it (and its line), never another exception.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import struct
import tempfile
import zipfile
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, NamedTuple

import filelock
import jax
import jax.numpy as jnp
import numpy as np

from ...compiler.errors import FileError, SpecError
from ...compiler.files import UnreadableFile, read_regular_file
from ...compiler.limits import MAX_DATA_BYTES, MAX_SOURCE_BYTES
from ..model import Params, Problem
from . import plots, record

FORMAT = 1
LOCK = ".lock"
# What a training leaves behind; a new training into the folder removes them first, so that a
# folder never pairs a new spec.pde with another program's parameters.
RESULTS = ("checkpoint.npz", "params.npz", "metrics.json", "history.csv")
# Where `pinnc export` writes by default: its files show the previous run's fields, so go too.
EXPORTS = "vtk"
# An .npz of parameters or a checkpoint (points included) is read whole into memory.
MAX_ARRAYS_BYTES = 4 << 30


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Files being written are named .pinnc-NAME.XXXX.tmp until they are complete.
_TEMPORARY = ".pinnc-"
# A temporary file's private mode is widened to what the umask allows before it is renamed.
_MODE = 0o666 & ~_umask()


# --- the folder ----------------------------------------------------------------------------------

@contextmanager
def writing(directory) -> Iterator[Path]:
    """Hold ``directory`` as the run folder being written: made if missing, checked writable and
    locked (DIR/.lock, never waited for) against a second training for as long as the block
    runs. Re-entrant within a process: the command line holds it around training and saving."""
    directory = Path(directory)
    _make_folder(directory)
    lock = filelock.FileLock(directory.resolve() / LOCK, timeout=0, is_singleton=True)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise FileError(directory, f"another training is writing this run folder (it holds "
                        f"{directory / LOCK}); wait for it to end or train into another "
                        "folder") from None
    except OSError as error:
        raise FileError(directory, f"cannot lock the run folder: {_reason(error)}") from None
    try:
        if lock.lock_counter == 1:  # no write of this process is under way: leftovers are stale
            for stale in directory.glob(f"{_TEMPORARY}*.tmp"):
                stale.unlink(missing_ok=True)
        yield directory
    finally:
        lock.release()


def _make_folder(directory: Path) -> None:
    if directory.exists() and not directory.is_dir():
        raise FileError(directory, "exists and is not a folder; name a new folder (or a run "
                        "folder) to train into")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise FileError(directory, f"cannot create the run folder: {_reason(error)}") from None
    try:  # a read-only folder is refused here, before training, not at its first checkpoint
        handle, name = tempfile.mkstemp(dir=directory, prefix=f"{_TEMPORARY}write-test.",
                                        suffix=".tmp")
        os.close(handle)
        os.unlink(name)
    except OSError as error:
        raise FileError(directory, f"cannot write into the run folder: {_reason(error)}") from None


def _reason(error: OSError) -> str:
    return (error.strerror or str(error)).lower()


def start(problem: Problem, directory) -> None:
    """Begin a new training in ``directory``: a previous run's results removed, the program
    written (spec.pde, run.json), so that even a run killed before its first chunk resumes."""
    directory = Path(directory)
    exported = [path.relative_to(directory) for path in (directory / EXPORTS).glob("*.vtu")]
    for name in [*RESULTS, "run.json", *exported]:
        try:
            (directory / name).unlink(missing_ok=True)
        except OSError as error:
            raise FileError(directory / name, f"cannot remove the previous run's file: "
                            f"{_reason(error)}") from None
    save_program(problem, directory)


def write_atomically(path: Path, write: Callable[[Any], None], text: bool = False) -> None:
    """Write ``path`` through ``write(handle)`` into a temporary file, then rename it into place.
    A failed write (a full disk) removes the temporary file and is a FileError naming the
    folder; the file written before, if any, is left as it was."""
    try:
        handle = tempfile.NamedTemporaryFile("w" if text else "wb", dir=path.parent,
                                             prefix=f"{_TEMPORARY}{path.name}.", suffix=".tmp",
                                             delete=False, **({"newline": ""} if text else {}))
    except OSError as error:
        raise _write_error(path, error) from None
    try:
        with handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())  # on disk before the rename makes it the file
        os.chmod(handle.name, _MODE)
        os.replace(handle.name, path)
    except BaseException as error:  # a Ctrl-C too: no temporary file is left behind
        Path(handle.name).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise _write_error(path, error) from None
        raise


def _write_error(path: Path, error: OSError) -> FileError:
    return FileError(path.parent, f"cannot write {path.name}: {_reason(error)}")


# --- writing a run -------------------------------------------------------------------------------

def save_run(directory, problem: Problem, params: Params, metrics: dict,
             history: dict[str, list[float]]) -> Path:
    """Write a trained ``problem`` (its ``params``, ``metrics`` as metrics.json, ``history``)
    as a run folder; returns its path."""
    with writing(directory) as directory:
        save_program(problem, directory)
        save_params(directory / "params.npz", params)
        _write_history(directory / "history.csv", history)
        _write_text(directory / "metrics.json",
                    json.dumps(_strict(metrics), indent=2, allow_nan=False) + "\n")
        try:
            plots.plot_run(directory, problem, params, history, metrics)
        except OSError as error:
            raise FileError(directory, f"cannot write the plots: {_reason(error)}") from None
    return directory


def _strict(value):
    """JSON has no NaN or infinity: such numbers are written as null."""
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def array_key(path) -> str:
    return "/".join(str(getattr(p, "key", getattr(p, "idx", getattr(p, "name", p)))) for p in path)


def save_params(path: Path, params: Params) -> None:
    arrays = {array_key(p): np.asarray(leaf)
              for p, leaf in jax.tree_util.tree_leaves_with_path(params)}
    write_atomically(path, lambda handle: np.savez(handle, **arrays))


def _write_history(path: Path, history: dict[str, list[float]]) -> None:
    columns = list(history)

    def write(handle):
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in zip(*(history[c] for c in columns)):
            writer.writerow([int(row[0])] + [repr(float(v)) for v in row[1:]])
    write_atomically(path, write, text=True)


def _write_text(path: Path, text: str) -> None:
    write_atomically(path, lambda handle: handle.write(text), text=True)


def save_program(problem: Problem, directory) -> None:
    """spec.pde and run.json: what `load_run` and `pinnc train --resume` rebuild the problem
    from, and what made the run (`record.provenance`)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    _write_text(directory / "spec.pde", problem.text)
    run = {"format": FORMAT, "spec": problem.filename, "name": problem.name,
           "overrides": {k: v for k, v in problem.overrides.items()},
           **record.provenance(problem)}
    # the date the run started: kept when the program is written again at its end or resume
    run["date"] = _started(directory / "run.json") or run["date"]
    _write_text(directory / "run.json", json.dumps(_strict(run), indent=2) + "\n")


def _started(path: Path) -> str | None:
    """The date a run.json already in place records, if any."""
    try:
        date = json.loads(path.read_text()).get("date")
    except (OSError, ValueError, AttributeError):
        return None
    return date if isinstance(date, str) else None


def field_coordinates(directory) -> dict[str, list[str]] | None:
    """{field: its coordinates} as run.json records them (without compiling the program), or
    None where it records none; a FileError where run.json is missing or damaged."""
    directory = _run_folder(directory)
    record_path = directory / "run.json"
    if not record_path.exists() and not (directory / "params.npz").exists():
        raise FileError(directory, _unfinished(directory))
    fields = _read_json(record_path).get("fields")
    if fields is None:
        return None
    if not isinstance(fields, dict) or not all(
            isinstance(coords, list) and all(isinstance(c, str) for c in coords)
            for coords in fields.values()):
        raise FileError(record_path, "'fields' is not a table of coordinate names")
    return fields


# --- reading a run -------------------------------------------------------------------------------

# How a run folder's program is compiled again: (text, filename, overrides) -> Problem. The
# caller passes it (`pinnc.api`), so that this layer never calls the compiler's driver.
CompileProgram = Callable[[str, str, Mapping[str, object]], Problem]


class SavedRun(NamedTuple):
    """A run folder read back: the problem, its trained params, metrics and history."""
    problem: Problem
    params: Params
    metrics: dict
    history: dict[str, list[float]]


def read_run(directory, compile_program: CompileProgram) -> SavedRun:
    """Read a run folder back: the problem compiled again from its spec (`load_problem`), the
    trained params. Raises `FileError` naming the file that is missing, damaged or of another
    program."""
    directory = _run_folder(directory)
    if not (directory / "params.npz").exists():
        raise FileError(directory, _unfinished(directory))
    problem = load_problem(directory, compile_program)
    params = load_params(directory / "params.npz", problem.init(jax.random.key(0)))
    metrics = _read_json(directory / "metrics.json")
    return SavedRun(problem, params, metrics, _read_history(directory / "history.csv"))


def _run_folder(directory) -> Path:
    directory = Path(directory)
    if not directory.is_dir():
        reason = "no such run folder" if not directory.exists() else "not a run folder"
        raise FileError(directory, f"{reason}; train one with 'pinnc train SPEC.pde -o "
                        f"{directory}'")
    return directory


def _unfinished(directory: Path) -> str:
    if (directory / "run.json").exists():
        return (f"no params.npz: the run's training has not finished; resume it with "
                f"'pinnc train --resume {directory}'")
    return f"not a run folder (no params.npz); train with 'pinnc train SPEC.pde -o {directory}'"


def load_problem(directory, compile_program: CompileProgram) -> Problem:
    """The problem a run folder holds: its spec.pde compiled (``compile_program``) with the
    overrides of run.json.
    A program or an option that no longer compiles is a FileError at spec.pde or run.json."""
    directory = Path(directory)
    record, spec = directory / "run.json", directory / "spec.pde"
    run = _read_json(record)
    filename, overrides = run.get("spec", "spec.pde"), run.get("overrides", {})
    if run.get("format", FORMAT) != FORMAT:
        raise FileError(record, f"not a run folder of format {FORMAT}, the one this pinnc reads")
    if not isinstance(filename, str):
        raise FileError(record, "'spec' is not the name of a program")
    if not isinstance(overrides, dict) or not all(
            isinstance(v, (int, float, str)) and not isinstance(v, bool)
            for v in overrides.values()):
        raise FileError(record, "'overrides' is not a table of option values")
    text = read_text(spec, MAX_SOURCE_BYTES)
    try:
        return compile_program(text, filename, overrides)
    except FileError:
        raise
    except SpecError as error:
        if error.filename != filename:  # the mistake is in an override's own text
            raise FileError(record, f"an option override does not apply: {error.reason}") from None
        where = f" (column {error.column})" if error.column else ""
        raise FileError(spec, f"the run's program does not compile: {error.reason}{where}",
                        error.line) from None


def read_text(path: Path, limit: int = MAX_DATA_BYTES) -> str:
    """The UTF-8 text of the regular file at ``path`` (a byte-order mark dropped)."""
    try:
        data = read_regular_file(path, limit)
    except UnreadableFile as error:
        raise FileError(path, f"cannot read: {error}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise FileError(path, "not UTF-8 text (damaged, or saved in another encoding)",
                        line) from None


def _read_json(path: Path) -> dict:
    try:
        value = json.loads(read_text(path))
    except json.JSONDecodeError as error:
        raise FileError(path, f"not valid JSON ({error.msg}, column {error.colno})",
                        error.lineno) from None
    except RecursionError:
        raise FileError(path, "not valid JSON (nested too deeply)") from None
    if not isinstance(value, dict):
        raise FileError(path, "not a JSON object")
    return value


def read_csv(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header (names stripped) and the rows of a CSV file, each with its line number;
    rows of blanks are skipped. A file that is no CSV is a FileError at its line."""
    reader = csv.reader(io.StringIO(read_text(path), newline=""))
    try:
        header = [cell.strip() for cell in next(reader, [])]
        rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as error:  # a field over csv's size limit
        raise FileError(path, f"not a readable CSV file ({error})", reader.line_num) from None
    return header, rows


def number(path: Path, line: int, column: int, name: str, cell: str, kind=float):
    """``cell``, the value in column ``column`` (1-based) headed ``name``, as ``kind``; a
    FileError at its line and column otherwise (the cell itself is never quoted)."""
    try:
        return kind(cell)
    except ValueError:
        raise FileError(path, f"column {column} ('{name}'): not a number", line) from None


def _read_history(path: Path) -> dict[str, list[float]]:
    header, rows = read_csv(path)
    if header[:2] != ["step", "loss"] or len(set(header)) != len(header):
        raise FileError(path, "not a history of training (its header is not step, loss and "
                        "each term once)", 1)
    history = {c: [] for c in header}
    for line, row in rows:
        if len(row) != len(header):
            raise FileError(path, f"{len(row)} values, the header names {len(header)}", line)
        for column, (name, cell) in enumerate(zip(header, row), start=1):
            history[name].append(number(path, line, column, name, cell,
                                        int if name == "step" else float))
    return history


def load_params(path: Path, like: Params) -> Params:
    """Parameters from ``path`` in the structure (and dtypes) of ``like``; a FileError where
    the file is damaged or holds the parameters of another program."""
    stored = read_arrays(path, "parameter file")
    expected = {array_key(p) for p, _ in jax.tree_util.tree_leaves_with_path(like)}
    unknown = len(set(stored) - expected)
    if unknown:
        raise FileError(path, f"holds {unknown} array{'s' if unknown > 1 else ''} that this "
                        "run's program has no parameter for; was it written by another program?")
    return restore_arrays(stored, "", like, path)


def restore_arrays(stored: dict[str, np.ndarray], prefix: str, like, path: Path):
    """The arrays ``prefix + key`` of ``stored`` in the structure and dtypes of ``like``."""
    def take(p, leaf):
        key = prefix + array_key(p)
        if key not in stored:
            raise FileError(path, f"no array '{key}'; was it written by another program?")
        value = stored[key]
        if value.shape != leaf.shape:
            raise FileError(path, f"array '{key}' has shape {value.shape}, the program's "
                            f"has {leaf.shape}; was it written by another program?")
        if not np.can_cast(value.dtype, leaf.dtype, "same_kind"):
            raise FileError(path, f"array '{key}' does not hold numbers of type {leaf.dtype}")
        return jnp.asarray(value, leaf.dtype)
    return jax.tree_util.tree_map_with_path(take, like)


# What damage to a zip archive or an .npy header raises (zipfile, numpy.lib.format, ast).
_DAMAGE = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, TypeError,
           KeyError, IndexError, OverflowError, NotImplementedError, RuntimeError, SyntaxError,
           struct.error, zlib.error)


def read_arrays(path: Path, what: str) -> dict[str, np.ndarray]:
    """Every array of the .npz file at ``path``, by name. Each header is checked before its
    data is read: an object array (a pickle) is refused, and so is a header promising more
    bytes than the archive holds; any other damage is a FileError too."""
    try:
        data = read_regular_file(path, MAX_ARRAYS_BYTES)
    except UnreadableFile as error:
        raise FileError(path, f"cannot read: {error}") from None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return {info.filename[:-len(".npy")]: _read_member(archive, info, path)
                    for info in archive.infolist()}
    except _DAMAGE:
        raise FileError(path, f"not a readable {what} (damaged or truncated)") from None


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> np.ndarray:
    if not info.filename.endswith(".npy"):
        raise ValueError("not an array")
    fmt = np.lib.format
    with archive.open(info) as member:
        version = fmt.read_magic(member)
        if version not in ((1, 0), (2, 0)):
            raise ValueError("unknown .npy version")
        read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
        shape, _, dtype = read_header(member)
    if dtype.hasobject:
        raise FileError(path, "holds an array of Python objects (a pickle), which pinnc never "
                        "reads; was it written by pinnc?")
    if math.prod(shape) * dtype.itemsize > info.file_size:
        raise ValueError("the header promises more data than the archive holds")
    with archive.open(info) as member:
        return fmt.read_array(member, allow_pickle=False)
