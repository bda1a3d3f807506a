"""Never lose a run: checkpoints after every chunk, Ctrl-C, and resuming a killed or
interrupted run so that it ends where an uninterrupted run would."""
from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import jax
import numpy as np
import pytest

import pinnc
from pinnc.cli import main
from pinnc.api import load_run
from pinnc.runtime.training import train

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
OPTIONS = dict(points=60, boundary_points=24, model="mlp(hidden=[8, 8])",
               optimizer="adam(steps=400) then lbfgs(steps=100) then engd(steps=10)")


@pytest.fixture(scope="module")
def problem():
    return pinnc.compile_file(EXAMPLES / "poisson.pde", **OPTIONS)


@pytest.fixture(scope="module")
def uninterrupted(problem):
    return train(problem, progress=False)


def same_params(a, b):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


class Killed(Exception):
    pass


@pytest.mark.parametrize("stop_at", [pytest.param(200, marks=pytest.mark.slow), 450,
                                     pytest.param(505, marks=pytest.mark.slow)])
# killed in adam, in lbfgs, in engd
def test_a_killed_run_resumes_and_ends_where_an_uninterrupted_run_does(problem, uninterrupted,
                                                                        tmp_path, stop_at):
    def kill(step, params, seconds):
        if step == stop_at:
            raise Killed  # after the chunk's checkpoint was written, as a SIGKILL would
    with pytest.raises(Killed):
        train(problem, progress=False, checkpoint=tmp_path, callback=kill)
    assert (tmp_path / "checkpoint.npz").exists() and (tmp_path / "spec.pde").exists()
    resumed = train(problem, progress=False, checkpoint=tmp_path, resume=True)
    assert resumed.metrics["status"] == "ok" and resumed.metrics["steps"] == 510
    same_params(resumed.params, uninterrupted.params)
    assert resumed.history["step"] == uninterrupted.history["step"]
    np.testing.assert_array_equal(resumed.history["loss"], uninterrupted.history["loss"])


def test_ctrl_c_finishes_the_chunk_and_the_run_folder_says_interrupted(problem, uninterrupted,
                                                                       tmp_path):
    def press_ctrl_c(step, params, seconds):
        if step == 450:
            os.kill(os.getpid(), signal.SIGINT)
    result = train(problem, progress=False, checkpoint=tmp_path, callback=press_ctrl_c)
    # the signal arrives after the chunk ending at 450; the loop stops before the next one
    assert result.metrics["status"] == "interrupted" and result.metrics["steps"] == 450
    result.save(tmp_path)
    assert json.loads((tmp_path / "metrics.json").read_text())["status"] == "interrupted"
    assert load_run(tmp_path).metrics["steps"] == 450
    # and the command line resumes it to the end
    assert main(["train", "--resume", str(tmp_path), "-q"]) == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["status"] == "ok" and metrics["steps"] == 510
    same_params(load_run(tmp_path).params, uninterrupted.params)


def test_resume_refuses_a_checkpoint_of_another_program(problem, tmp_path, capsys):
    train(problem.with_options(optimizer="adam(steps=5)"), progress=False, checkpoint=tmp_path)
    with pytest.raises(pinnc.FileError, match="another program or other options"):
        train(problem, progress=False, checkpoint=tmp_path, resume=True)
    assert main(["train", "--resume", str(tmp_path / "nowhere"), "-q"]) == 1
    assert "not a run folder" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path), str(EXAMPLES / "poisson.pde")]) == 2
    assert "--resume DIR takes the run folder's own spec" in capsys.readouterr().err
