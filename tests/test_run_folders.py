"""Damaged run folders and points files: `pinnc eval`, `pinnc train --resume`, `pinnc.load_run`
end in one `FileError` message naming the file (and its line), exit status 1, never a traceback
or another exception; messages never quote a file's values."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import pinnc
from pinnc import FileError
from pinnc.cli import main
from pinnc.api import load_problem, load_run
from pinnc.runtime.optim import optimizer
from pinnc.runtime.runs import checkpoints

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TINY = ["--set", "points=64", "--set", "boundary_points=16", "--set", "model=mlp(hidden=[8])",
        "--set", "optimizer=adam(steps=20)"]
FILES = ["params.npz", "run.json", "metrics.json", "history.csv", "spec.pde", "checkpoint.npz"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """One tiny trained run folder (poisson.pde, 20 Adam steps), copied by `run_dir`."""
    directory = tmp_path_factory.mktemp("trained") / "poisson"
    assert main(["train", str(EXAMPLES / "poisson.pde"), "-q", "-o", str(directory), *TINY]) == 0
    return directory


@pytest.fixture
def run_dir(trained, tmp_path) -> Path:
    copy = tmp_path / "run"
    shutil.copytree(trained, copy)
    return copy


@pytest.fixture
def points(tmp_path) -> Path:
    path = tmp_path / "points.csv"
    path.write_text("x,y\n0.5,0.5\n0.25,0.75\n")
    return path


def refused(argv, capsys, path, line=None) -> str:
    """Run `pinnc ARGV`; check it exits 1 with one message at ``path`` (and ``line``)."""
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert status == 1, err
    assert out == "" and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    where = f"{path}:{line}: error: " if line else f"{path}: error: "
    assert err.startswith(where), err
    return err


def arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as stored:
        return {k: stored[k] for k in stored.files}


def flip(path: Path, at: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    data[int(len(data) * at)] ^= 0xFF
    path.write_bytes(bytes(data))


# --- params.npz ---

def _foreign(path):  # the arrays of a program whose field is v, not u
    np.savez(path, **{k.replace("/u/", "/v/"): v for k, v in arrays(path).items()})


def _wrong_shape(path):
    stored = arrays(path)
    stored["fields/u/0/w"] = stored["fields/u/0/w"].T
    np.savez(path, **stored)


def _pickled(path):
    stored = arrays(path)
    stored["fields/u/0/b"] = np.array([{"a": 1}, None], dtype=object)
    np.savez(path, **stored)


@pytest.mark.parametrize("damage, reason", [
    (_foreign, "another program"),
    (_wrong_shape, "has shape (8, 2), the program's has (2, 8)"),
    (lambda p: p.write_bytes(p.read_bytes()[:len(p.read_bytes()) // 2]), "damaged or truncated"),
    (flip, "damaged or truncated"),
    (lambda p: p.write_bytes(b""), "damaged or truncated"),
    (lambda p: p.write_text("step,loss\n0,1\n"), "damaged or truncated"),
    (_pickled, "pickle"),
], ids=["foreign", "wrong-shape", "truncated", "byte-flipped", "empty", "not-zip", "pickled"])
def test_eval_refuses_a_damaged_params_file(run_dir, points, capsys, damage, reason):
    damage(run_dir / "params.npz")
    err = refused(["eval", run_dir, points], capsys, run_dir / "params.npz")
    assert reason in err
    with pytest.raises(FileError, match="params.npz"):
        pinnc.load_run(run_dir)


# --- run.json, metrics.json, history.csv, spec.pde ---

@pytest.mark.parametrize("name, content, line, reason", [
    ("run.json", b'{\n  "format": 1,\n  "spec": ', 3, "not valid JSON"),
    ("run.json", b"[1, 2]", None, "not a JSON object"),
    ("run.json", b'{"overrides": {"points": [64]}}', None, "not a table of option values"),
    ("run.json", b'{"overrides": {"points": "sixty-four"}}', None, "option override"),
    ("run.json", b'{"format": 7}', None, "format"),
    ("metrics.json", b'{"status": "ok",\n"steps": 2\n', 3, "not valid JSON"),
    ("history.csv", b"step,loss,pde1,bc1\n0,1.0,2.0,3.0\n10,SECRET,2.0,3.0\n", 3,
     "column 2 ('loss'): not a number"),
    ("history.csv", b"step,loss,pde1,bc1\n0,1.0,2.0\n", 2, "3 values, the header names 4"),
    ("history.csv", b"not,a,history\n", 1, "not a history of training"),
    ("history.csv", b'step,loss,pde1,bc1\n0,1,2,"' + b"9" * (130 << 10) + b'"\n', 2,
     "field larger than field limit"),
    ("spec.pde", b"domain Omega = box(x in [0, 1], y in [0, 1])\nfield u(x, y)\npde lap(uu) = 0 "
     b"in Omega\n", 3, "unknown name 'uu'"),
], ids=["run-truncated", "run-array", "run-overrides", "run-bad-option", "run-format",
        "metrics-truncated", "history-value", "history-columns", "history-header",
        "history-huge-field", "spec-typo"])
def test_eval_refuses_a_corrupted_file(run_dir, points, capsys, name, content, line, reason):
    (run_dir / name).write_bytes(content)
    err = refused(["eval", run_dir, points], capsys, run_dir / name, line)
    assert reason in err and "SECRET" not in err


@pytest.mark.parametrize("name", ["run.json", "metrics.json", "history.csv", "spec.pde"])
def test_eval_refuses_a_missing_or_non_utf8_file(run_dir, points, capsys, name):
    text = (run_dir / name).read_bytes()
    (run_dir / name).write_bytes(text[:8] + b"\n\xe9\xff\n" + text[8:])
    line = text[:8].count(b"\n") + 2
    assert "not UTF-8" in refused(["eval", run_dir, points], capsys, run_dir / name, line)
    (run_dir / name).unlink()
    assert "no such file" in refused(["eval", run_dir, points], capsys, run_dir / name)


def test_eval_names_a_folder_that_is_no_run_folder(tmp_path, run_dir, points, capsys):
    missing = tmp_path / "nowhere"
    assert "no such run folder" in refused(["eval", missing, points], capsys, missing)
    assert "not a run folder" in refused(["eval", points, points], capsys, points)
    (run_dir / "params.npz").unlink()  # killed before training finished
    err = refused(["eval", run_dir, points], capsys, run_dir)
    assert f"pinnc train --resume {run_dir}" in err


# --- the points CSV ---

@pytest.mark.parametrize("content, line, reason", [
    (b"x,y\n0.5,0.5\n0.25,caf\xe9\n", 3, "not UTF-8"),
    (b"x,y\n0.5," + b"1" * (129 << 10) + b"\n", 2, "field larger than field limit"),
    (b"x,y\n0.5,0.5\n0.25,SECRET\n", 3, "column 2 ('y'): not a number"),
    (b"x,y\n0.5,0.5,1\n", 2, "3 values, the header names 2"),
    (b"x,y\n0.5\n", 2, "1 values, the header names 2"),
    (b"", 1, "empty file"),
    (b"x,SECRET value\n1,2\n", 1, "column 2 of the header is not a name"),
    (b"x,y,x\n1,2,3\n", 1, "column 'x' appears twice"),
    (b"x,z\n1,2\n", 1, "no column 'y' for field u(x, y)"),
], ids=["latin-1", "huge-field", "not-a-number", "extra-column", "missing-value", "empty",
        "header-not-a-name", "duplicate-column", "missing-coordinate"])
def test_eval_refuses_a_bad_points_file(run_dir, tmp_path, capsys, content, line, reason):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    err = refused(["eval", run_dir, path], capsys, path, line)
    assert reason in err and "SECRET" not in err


def test_eval_checks_the_points_before_the_run_folder(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("x,y\n1,one\n")
    refused(["eval", tmp_path / "nowhere", path], capsys, path, 2)


def test_eval_refuses_a_fifo_or_a_folder_as_points(run_dir, tmp_path, capsys):
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    assert "pipe (FIFO)" in refused(["eval", run_dir, fifo], capsys, fifo)
    assert "a directory" in refused(["eval", run_dir, tmp_path], capsys, tmp_path)


def test_eval_names_an_output_it_cannot_write(run_dir, points, tmp_path, capsys):
    refused(["eval", run_dir, points, "-o", tmp_path], capsys, tmp_path)


# --- resuming ---

@pytest.mark.parametrize("damage", [
    lambda p: p.write_bytes(p.read_bytes()[:len(p.read_bytes()) // 2]),
    flip,
    lambda p: p.write_bytes(b""),
], ids=["truncated", "byte-flipped", "empty"])
def test_resume_refuses_a_damaged_checkpoint(run_dir, capsys, damage):
    damage(run_dir / "checkpoint.npz")
    err = refused(["train", "--resume", run_dir, "-q"], capsys, run_dir / "checkpoint.npz")
    assert "damaged" in err


@pytest.mark.parametrize("name, content, line", [
    ("run.json", b'{"format": 1, "spec": "poisson.pde", "overrides": {', 1),
    ("spec.pde", b"domain Omega = box(x in [0, 1], y in [0, 1])\nfield u(x y)\n", 2),
    ("spec.pde", b"domain \xff", 1),
], ids=["run-json", "spec-syntax", "spec-not-utf8"])
def test_resume_refuses_a_corrupted_program(run_dir, capsys, name, content, line):
    (run_dir / name).write_bytes(content)
    refused(["train", "--resume", run_dir, "-q"], capsys, run_dir / name, line)


# --- any damage: a result or a FileError ---

def _damaged(data: bytes, kind: str, at: float, value: int, other: bytes,
             replacement: bytes) -> bytes:
    where = min(int(len(data) * at), max(len(data) - 1, 0))
    if kind == "truncate":
        return data[:where]
    if kind == "flip" and data:
        return data[:where] + bytes([data[where] ^ value]) + data[where + 1:]
    if kind == "swap":  # another file of the folder in its place
        return other
    return replacement


DAMAGE = st.tuples(st.sampled_from(FILES), st.sampled_from(["truncate", "flip", "swap", "bytes"]),
                   st.floats(0, 1), st.integers(1, 255), st.sampled_from(FILES),
                   st.binary(max_size=300))


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(damage=DAMAGE)
def test_a_damaged_run_folder_loads_or_is_a_file_error(trained, damage):
    name, kind, at, value, other, replacement = damage
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "run"
        shutil.copytree(trained, folder, ignore=shutil.ignore_patterns("*.png"))
        path = folder / name
        path.write_bytes(_damaged(path.read_bytes(), kind, at, value,
                                  (trained / other).read_bytes(), replacement))
        try:
            if name == "checkpoint.npz":
                _resume_state(folder)
            else:
                load_run(folder)
        except FileError as error:
            assert str(error).startswith(str(folder)), str(error)


_PROBLEMS: dict[str, pinnc.Problem] = {}


def _resume_state(folder: Path) -> None:
    """What `train(..., resume=True)` reads of a checkpoint, without training."""
    problem = _PROBLEMS.get("poisson") or _PROBLEMS.setdefault("poisson", load_problem(folder))
    init_key, sample_key = jax.random.split(jax.random.key(problem.options.seed))
    fresh = problem.init(init_key)
    saved = checkpoints.load_checkpoint(folder, problem, fresh, problem.sample(sample_key),
                                        len(problem.ir.terms))
    if saved is not None:
        saved.state_like(optimizer(problem.options.optimizer[saved.phase]).init(fresh))


# --- what a run folder says about its run: run.json's record, the plots' headings ---

LABELLED = ("domain O = box(x in [0, 1], y in [0, 1])\nfield u(x, y): mlp(hidden=[8])\n"
            "pde inside: lap(u) = -2*pi^2*sin(pi*x)*sin(pi*y) in O\n"
            "bc wall: u = 0 on boundary(O)\nexact u = sin(pi*x)*sin(pi*y)\n")


@pytest.mark.parametrize("status, stopped, shown", [("interrupted", None, "interrupted"),
                                                    ("ok", "time_limit", "stopped at time_limit")])
def test_an_api_run_records_itself_and_heads_its_plots(tmp_path, monkeypatch, status, stopped,
                                                       shown):
    from pinnc.runtime.runs import plots
    from pinnc.runtime.training import TrainResult

    problem = pinnc.compile_source(LABELLED, "labelled", points=32, seed=9)
    params = problem.init(jax.random.key(0))
    history = {"step": [0, 10], "loss": [2.0, 1.0], "inside": [1.5, 0.8], "wall": [0.5, 0.2]}
    metrics = {"status": status, "steps": 10, "loss": 1.0,
               "fields": {"u": {"rel_l2": 0.0123, "max_abs": 0.5}}, "params": {},
               **({"stopped": stopped} if stopped else {})}
    figures = {}
    save = plots._save

    def capture(figure, path, title=None):
        legend = [a.get_legend() for a in figure.axes if a.get_legend()]
        figures[Path(path).name] = (title, [a.get_title() for a in figure.axes],
                                    [t.get_text() for lg in legend for t in lg.get_texts()])
        return save(figure, path, title)
    monkeypatch.setattr(plots, "_save", capture)
    folder = TrainResult(problem, params, metrics, history).save(tmp_path / "run")

    _, titles, legend = figures["loss.png"]
    assert titles == [f"labelled: loss and its terms ({shown})"]
    assert legend == ["loss", "inside", "wall"]
    heading, titles, _ = figures["field_u.png"]
    assert heading == f"u (relative L2 error 1.23e-02, {shown})"
    assert titles[:3] == ["u: prediction", "u: exact", "u: absolute error"]

    run = json.loads((folder / "run.json").read_text())
    assert run["started_from"] == "python api" and "command" not in run
    assert run["seed"] == 9 and run["overrides"] == {"points": 32, "seed": 9}
    assert run["fields"] == {"u": ["x", "y"]}
    assert run["options"]["points"] == 32 and run["options"]["boundary_points"] == 200
    assert run["options"]["optimizer"] == [{"name": "engd", "steps": 5000, "damping": 1e-6,
                                            "adaptive": 1.0}]
    assert run["options"]["model"]["hidden"] == [64]
    assert run["options"]["time_limit"] == problem.options.time_limit
    assert set(run["options"]["chosen"]) == {name for name, _ in problem.options.chosen}
    # the record does not change what the folder rebuilds
    assert load_problem(folder).options == problem.options


def test_a_finished_runs_plots_say_finished():
    from pinnc.runtime.runs import plots

    assert plots.heading("u", "ok", 3.14159e-5) == "u (relative L2 error 3.14e-05, finished)"
    assert plots.heading("u", "diverged") == "u (diverged)"
    assert plots.heading("u") == "u"


def test_run_json_keeps_the_date_the_run_started(tmp_path):
    from pinnc.runtime.runs import folder

    problem = pinnc.compile_file(Path(__file__).parent.parent / "examples" / "seed.pde")
    folder.start(problem, tmp_path)
    run = tmp_path / "run.json"
    record = json.loads(run.read_text())
    run.write_text(json.dumps({**record, "date": "2026-01-31T12:00:00Z"}))
    folder.save_program(problem, tmp_path)   # at the end of training, or on resume
    assert json.loads(run.read_text())["date"] == "2026-01-31T12:00:00Z"
    folder.start(problem, tmp_path)           # a new run into the same folder
    assert json.loads(run.read_text())["date"] != "2026-01-31T12:00:00Z"
