"""Training over several processes (jax.distributed): two processes of one CPU device each
train as one process of two devices, to round-off (adam with moving points and adaptive
weights, engd, a run killed and resumed); only process 0 writes a run folder; the command
line's flags join the processes and refuse what does not go together.

The processes talk over 127.0.0.1 (JAX's CPU collectives, gloo) in subprocesses of their own
(tests/distributed_runs.py)."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pinnc import cli
from pinnc.runtime.training import processes

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SPEC = HERE.parent / "examples" / "poisson.pde"
TIMEOUT_S = 900
# the sums over points are added in another order; ENGD's solve amplifies it
ROUND_OFF = {"adam": 1e-12, "engd": 1e-9, "resumed": 1e-9}


def _environment(devices: int) -> dict:
    return dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}",
                JAX_PLATFORMS="cpu", PINNC_CACHE="off", PYTHONPATH=os.pathsep.join(
                    [str(ROOT), os.environ.get("PYTHONPATH", "")]))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _together(commands: list[list[str]], devices: int) -> list[subprocess.CompletedProcess]:
    """``commands`` run at once, each a process with ``devices`` CPU devices; their results."""
    started = [subprocess.Popen(command, env=_environment(devices), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for command in commands]
    try:
        finished = []
        for process in started:
            out, err = process.communicate(timeout=TIMEOUT_S)
            finished.append(subprocess.CompletedProcess(process.args, process.returncode,
                                                        out, err))
        return finished
    finally:
        for process in started:
            process.kill()


def _runs(tmp_path: Path, name: str, count: int) -> list[dict]:
    """tests/distributed_runs.py in ``count`` processes of one device each (joined), or in one
    process of two devices where ``count`` is 1; what each process saw."""
    folder, port = tmp_path / name, _free_port()
    script = [sys.executable, str(HERE / "distributed_runs.py")]
    if count == 1:
        commands = [[*script, str(tmp_path / f"{name}.json"), str(folder)]]
    else:
        commands = [[*script, str(tmp_path / f"{name}{i}.json"), str(folder),
                     f"127.0.0.1:{port}", str(count), str(i)] for i in range(count)]
    for done in _together(commands, 2 if count == 1 else 1):
        assert done.returncode == 0, done.stderr[-3000:]
    outputs = [tmp_path / f"{name}.json"] if count == 1 else [
        tmp_path / f"{name}{i}.json" for i in range(count)]
    return [json.loads(path.read_text()) for path in outputs]


@pytest.mark.slow
def test_two_processes_train_as_one_process_of_two_devices(tmp_path):
    (one,) = _runs(tmp_path, "one", 1)
    first, second = _runs(tmp_path, "two", 2)
    assert (one["processes"], one["devices"]) == (1, 2)
    assert (first["processes"], first["devices"]) == (2, 2)
    for name, reference in one["runs"].items():
        assert reference["metrics"]["devices"]["count"] == 2
        for process in (first, second):
            run = process["runs"][name]
            assert run["metrics"]["devices"] == dict(reference["metrics"]["devices"],
                                                     processes=2)
            assert run["history"]["step"] == reference["history"]["step"], name
            assert run["metrics"]["steps"] == reference["metrics"]["steps"], name
            np.testing.assert_allclose(run["history"]["loss"], reference["history"]["loss"],
                                       rtol=ROUND_OFF[name], err_msg=name)
        for leaf, expected in zip(first["runs"][name]["params"], reference["params"]):
            np.testing.assert_allclose(leaf, expected, rtol=ROUND_OFF[name], atol=1e-12)
        # every process returns the same result
        assert first["runs"][name] == second["runs"][name], name
    assert first["runs"]["resumed"]["metrics"]["steps"] == 14
    # process 0 wrote its folders; process 1 none of its own
    assert (tmp_path / "two-own-0" / "checkpoint.npz").exists()
    assert not (tmp_path / "two-own-1").exists()
    assert (tmp_path / "two-adam" / "run.json").exists()
    assert (tmp_path / "two-adam" / "events").is_dir()


@pytest.mark.slow
def test_the_command_line_joins_two_processes_and_process_0_alone_reports(tmp_path):
    folder, port = tmp_path / "run", _free_port()
    commands = [[sys.executable, "-m", "pinnc", "train", str(SPEC), "-o", str(folder),
                 "--set", "points=16", "--set", "boundary_points=8", "--set",
                 "model=mlp(hidden=[4])", "--set", "optimizer=adam(steps=10, lr=0.01)",
                 "--coordinator", f"127.0.0.1:{port}", "--num-processes", "2",
                 "--process-id", str(i)] for i in range(2)]
    first, second = _together(commands, 1)
    assert first.returncode == second.returncode == 0, first.stderr[-3000:] + second.stderr[-3000:]
    assert "poisson: ok after 10 steps" in first.stdout
    # process 1 prints nothing of its own (gloo, the CPU collectives, says it connected)
    assert all(line.startswith("[Gloo]") for line in second.stdout.splitlines())
    assert "poisson" not in second.stderr and "Traceback" not in second.stderr
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["devices"]["count"] == 2 and metrics["devices"]["processes"] == 2
    assert json.loads((folder / "run.json").read_text())["command"][-1] == "0"


def test_the_explicit_flags_go_together(capsys):
    assert cli.main(["train", str(SPEC), "--coordinator", "127.0.0.1:1234"]) == 2
    assert "--coordinator, --num-processes and --process-id go together" in \
        capsys.readouterr().err
    assert cli.main(["train", str(SPEC), "--coordinator", "127.0.0.1:1234",
                     "--num-processes", "2", "--process-id", "2"]) == 2
    assert "the processes are numbered 0 to 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["train", str(SPEC), "--distributed", "--num-processes", "0"])
    assert "must be at least 1" in capsys.readouterr().err


def test_no_cluster_to_detect_is_a_clear_error(monkeypatch, capsys):
    def undetected(*args):
        raise ValueError("coordinator_address should be defined.")
    monkeypatch.setattr(processes.jax.distributed, "initialize", undetected)
    assert cli.main(["train", str(SPEC), "--distributed"]) == 2
    err = capsys.readouterr().err
    assert "--distributed: JAX found no cluster job (SLURM, Open MPI, ...) to join" in err
    assert "--coordinator HOST:PORT --num-processes N --process-id I" in err


def test_a_coordinator_out_of_reach_is_a_clear_error(monkeypatch):
    def unreachable(*args):
        raise RuntimeError("connection refused")
    monkeypatch.setattr(processes.jax.distributed, "initialize", unreachable)
    with pytest.raises(processes.JoinError, match="cannot join the processes: connection"):
        processes.initialize("127.0.0.1:1", 2, 0)


def test_one_process_agrees_with_itself_and_keeps_its_arrays():
    import jax.numpy as jnp

    tree = {"a": jnp.arange(3.0)}
    assert processes.gathered(tree) is tree
    assert processes.first((1.5, 2.0)) == (1.5, 2.0) and processes.first(False) is False
    assert processes.anywhere(True) and not processes.anywhere(False)
    assert processes.same(3.0) and processes.writes()
