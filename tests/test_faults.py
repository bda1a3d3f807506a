"""Faults while training: a kill (during compilation, while writing), a folder that cannot be
written, a second training into the same folder, a full disk, a loss that turns NaN. Each ends
with a usable run folder or one message naming the folder, exit status 1."""
from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import pytest

import pinnc
from pinnc import FileError
from pinnc.cli import main
from pinnc.runtime.runs import CHECKPOINT
from pinnc.runtime.training import loop as training

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
POISSON = EXAMPLES / "poisson.pde"
OPTIONS = dict(points=64, boundary_points=16, model="mlp(hidden=[8])",
               optimizer="adam(steps=20)")
TINY = [a for name, value in OPTIONS.items() for a in ("--set", f"{name}={value}")]
# two phases, so two checkpoints (one after each chunk)
TWO_CHUNKS = [*TINY, "--set", "optimizer=adam(steps=20) then adam(steps=20)"]


@pytest.fixture(scope="module")
def problem():
    return pinnc.compile_file(POISSON, **OPTIONS)


def run(argv, capsys) -> tuple[int, str]:
    status = main([str(a) for a in argv])
    _, err = capsys.readouterr()
    assert "Traceback" not in err
    return status, err


def refused(argv, capsys, folder: Path) -> str:
    status, err = run(argv, capsys)
    assert status == 1, err
    assert err.startswith(f"{folder}: error: ") and len(err.strip().splitlines()) == 1, err
    return err


def metrics(folder: Path) -> dict:
    return json.loads((folder / "metrics.json").read_text())


class Killed(Exception):
    pass


def killed_while_compiling(*args):
    raise Killed  # the process ends here, before its first chunk of steps


# --- kills ---

def test_a_run_killed_during_compilation_resumes_from_step_0(problem, tmp_path, capsys,
                                                            monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(training, "compiled_chunk", killed_while_compiling)
        with pytest.raises(Killed):
            training.train(problem, progress=False, checkpoint=tmp_path)
    assert {"spec.pde", "run.json"} <= {p.name for p in tmp_path.iterdir()}
    assert not (tmp_path / CHECKPOINT).exists()
    status, err = run(["train", "--resume", tmp_path, "-q"], capsys)
    assert status == 0, err
    assert f"note: {tmp_path} has no {CHECKPOINT}" in err and "training from step 0" in err
    assert metrics(tmp_path)["status"] == "ok" and metrics(tmp_path)["steps"] == 20


def test_a_new_training_into_a_folder_killed_during_compilation_works(problem, tmp_path,
                                                                     capsys, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(training, "compiled_chunk", killed_while_compiling)
        with pytest.raises(Killed):
            training.train(problem, progress=False, checkpoint=tmp_path)
    status, err = run(["train", POISSON, "-q", "-o", tmp_path, *TINY], capsys)
    assert status == 0, err
    assert metrics(tmp_path)["steps"] == 20
    assert pinnc.load_run(tmp_path).metrics["status"] == "ok"


def test_a_killed_process_leaves_the_folder_unlocked_and_no_half_written_file(tmp_path, capsys):
    # a training killed (SIGKILL) while it holds the folder and writes a checkpoint
    code = ("import os, signal, sys\nfrom pinnc.runtime.runs import writing\n"
            "with writing(sys.argv[1]) as folder:\n"
            "    (folder / '.pinnc-checkpoint.npz.x1y2.tmp').write_bytes(b'half')\n"
            "    os.kill(os.getpid(), signal.SIGKILL)\n")
    killed = subprocess.run([sys.executable, "-c", code, str(tmp_path)], timeout=120)
    assert killed.returncode == -signal.SIGKILL
    status, err = run(["train", POISSON, "-q", "-o", tmp_path, *TINY], capsys)
    assert status == 0, err
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))


# --- folders that cannot be written ---

def test_a_read_only_folder_is_refused_before_training(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "readonly"
    folder.mkdir()
    real_open = os.open

    def read_only_open(path, flags, *args, **kwargs):  # a read-only file system under folder
        writes = flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
        if writes and str(path).startswith(str(folder)):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only_open)
    monkeypatch.setattr(training, "_train", lambda *args: pytest.fail("training started"))
    err = refused(["train", POISSON, "-q", "-o", folder, *TINY], capsys, folder)
    assert "cannot write into the run folder: read-only file system" in err
    with pytest.raises(FileError, match="read-only"):
        training.train(pinnc.compile_file(POISSON, **OPTIONS), checkpoint=folder)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder")
def test_a_folder_without_write_permission_is_refused(tmp_path, capsys):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        err = refused(["train", POISSON, "-q", "-o", folder, *TINY], capsys, folder)
        assert "permission denied" in err
    finally:
        folder.chmod(0o700)


def test_a_run_folder_under_a_regular_file_is_refused(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    folder = tmp_path / "file" / "run"
    err = refused(["train", POISSON, "-q", "-o", folder, *TINY], capsys, folder)
    assert "cannot create the run folder: not a directory" in err


def test_output_naming_a_regular_file_is_refused(tmp_path, capsys):
    target = tmp_path / "results.txt"
    target.write_text("keep me")
    err = refused(["train", POISSON, "-q", "-o", target, *TINY], capsys, target)
    assert "exists and is not a folder" in err
    assert target.read_text() == "keep me"


# --- two trainings into one folder ---

def test_a_second_training_into_a_folder_in_use_refuses_at_once(problem, tmp_path, capsys):
    holder = subprocess.Popen(  # the first training, as far as the folder can tell
        [sys.executable, "-c", "import filelock, sys\nwith filelock.FileLock(sys.argv[1]):\n"
         "    print('held', flush=True); sys.stdin.read()", str(tmp_path / ".lock")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(FileError, match="another training is writing this run folder"):
            training.train(problem, progress=False, checkpoint=tmp_path)
        assert time.monotonic() - started < 5  # no waiting for the lock
        err = refused(["train", POISSON, "-q", "-o", tmp_path, *TINY], capsys, tmp_path)
        assert str(tmp_path / ".lock") in err
        assert list(tmp_path.iterdir()) == [tmp_path / ".lock"]  # nothing written
    finally:
        holder.communicate("", timeout=60)
    status, err = run(["train", POISSON, "-q", "-o", tmp_path, *TINY], capsys)
    assert status == 0, err


# --- a full disk ---

@pytest.mark.parametrize("failing, name, kept", [(2, CHECKPOINT, 20), (3, "params.npz", 40)])
def test_a_full_disk_keeps_the_last_checkpoint_and_ends_with_a_message(
        tmp_path, capsys, monkeypatch, failing, name, kept):
    real_savez, calls = np.savez, []

    def savez(handle, **arrays):  # the disk fills up halfway through one write
        calls.append(handle)
        if len(calls) == failing:
            handle.write(b"PK\x03\x04 half an archive")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_savez(handle, **arrays)

    with monkeypatch.context() as patch:
        patch.setattr(np, "savez", savez)
        err = refused(["train", POISSON, "-q", "-o", tmp_path, *TWO_CHUNKS], capsys, tmp_path)
    assert f"cannot write {name}: no space left on device" in err
    if name == CHECKPOINT:
        assert "training stopped at step 40, its checkpoint of step 20 is intact" in err
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    with np.load(tmp_path / CHECKPOINT, allow_pickle=False) as stored:
        assert json.loads(str(stored["meta"]))["step"] == kept
    status, err = run(["train", "--resume", tmp_path, "-q"], capsys)
    assert status == 0, err
    assert metrics(tmp_path)["status"] == "ok" and metrics(tmp_path)["steps"] == 40


# --- a residual that turns NaN ---

@pytest.mark.parametrize("residual, k, steps", [("sqrt(k)", 0.05, (1, 100)),
                                                ("log(k)", -1, (0, 1))])
def test_a_nan_residual_ends_diverged_with_the_last_finite_params(tmp_path, capsys, residual,
                                                                  k, steps):
    spec = tmp_path / "nan.pde"
    spec.write_text("domain Omega = box(x in [0, 1])\nfield u(x)\n"
                    f"param k = {k}\npde u + {residual} = 0 in Omega\n"
                    "set points = 32\nset model = mlp(hidden=[4])\n"
                    "set optimizer = adam(steps=100, lr=0.01)\n")
    folder = tmp_path / "run"
    status = main(["train", str(spec), "-q", "-o", str(folder)])
    out, err = capsys.readouterr()
    assert status == 1 and "Traceback" not in err
    assert err.startswith(f"{folder}: error: training diverged at step "), err
    result = metrics(folder)
    assert result["status"] == "diverged" and steps[0] <= result["steps"] < steps[1]
    if result["steps"] == 0:
        assert result["params"]["k"] == k
    else:
        assert 0 < result["params"]["k"] < k
    params = jax.tree.leaves(pinnc.load_run(folder).params)
    assert all(np.all(np.isfinite(np.asarray(leaf))) for leaf in params)
