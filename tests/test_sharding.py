"""Data parallelism (the option ``devices``): the points split over several devices train as on
one, to round-off, with every optimizer; a checkpoint of a run on 4 devices resumes on 1 and
on 4; the generated code does not depend on it.

JAX fixes its devices when it starts, so the runs on 4 host devices (XLA_FLAGS) are made in
processes of their own (tests/sharded_runs.py)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

import pinnc
from pinnc.compiler.errors import SpecError
from pinnc.runtime.training import sharding

import sharded_runs

HERE = Path(__file__).resolve().parent
POISSON = (HERE.parent / "examples" / "poisson.pde").read_text()
# the sum of the residuals' squares is added in another order: the histories agree to
# round-off, which ENGD's Gauss–Newton solve amplifies by its condition number
ROUND_OFF = {"adam": 1e-12, "lbfgs": 1e-10, "ssbroyden": 1e-10, "engd": 1e-7, "nystrom": 1e-7,
             "moving": 1e-12}


def on_devices(count: int, out: Path, *tasks: str) -> dict:
    """tests/sharded_runs.py's ``tasks`` run in a process with ``count`` host devices."""
    env = dict(os.environ, XLA_FLAGS=f"--xla_force_host_platform_device_count={count}",
               JAX_PLATFORMS="cpu", PYTHONPATH=os.pathsep.join(
                   [str(HERE.parent.parent), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, str(HERE / "sharded_runs.py"), str(out), *tasks],
                          env=env, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


def test_devices_is_all_or_a_number():
    assert pinnc.compile_source(POISSON).options.devices == "all"
    assert pinnc.compile_source(POISSON, devices=2).options.devices == 2
    for wrong in ("0", "many", "1.5"):
        with pytest.raises(SpecError, match="devices"):
            pinnc.compile_source(f"set devices = {wrong}\n" + POISSON)


def test_more_devices_than_the_machine_has_is_an_error():
    with pytest.raises(SpecError, match="this machine has"):
        sharding.mesh(len(jax.local_devices()) + 1)
    assert sharding.mesh("all").size == len(jax.local_devices())


def test_the_generated_code_does_not_depend_on_the_devices():
    assert pinnc.compile_source(POISSON, devices=4).source == pinnc.compile_source(POISSON).source


def test_sampled_sets_are_rounded_up_to_split_evenly():
    problem = pinnc.compile_source(POISSON, points=30, boundary_points=10)
    batch = problem.sample(jax.random.key(0), multiple=4)
    assert {label: entry.points.shape[0] for label, entry in batch.items()} == \
        {"pde1": 32, "bc1": 12}
    assert problem.sample(jax.random.key(0))["pde1"].points.shape[0] == 30


# the parameter form of engd and the moving points (resampling, refinement, weighting) are the
# sharded paths of their own; the other optimizers only sum a gradient, like adam
@pytest.mark.parametrize("runs", [
    "adam,engd,moving",
    pytest.param("lbfgs,ssbroyden,nystrom", marks=pytest.mark.slow)])
def test_every_optimizer_trains_on_4_devices_as_on_1(tmp_path, runs):
    task = f"compare:{runs}"
    four = on_devices(4, tmp_path / "four.json", task)
    assert four["devices"] == 4
    assert sorted(four[task]) == sorted(runs.split(","))
    for name, compared in four[task].items():
        one, split = compared["1"], compared["all"]
        assert split["metrics"]["devices"]["count"] == 4 and one["metrics"]["devices"]["count"] == 1
        assert split["history"]["step"] == one["history"]["step"], name
        np.testing.assert_allclose(split["history"]["loss"], one["history"]["loss"],
                                   rtol=ROUND_OFF[name], err_msg=name)
        # the split program sums over the devices: XLA's all-reduces; on one device, none
        assert split["all_reduces"] > 0 and one["all_reduces"] == 0, name
    if "engd" in four[task]:
        assert four[task]["engd"]["all"]["metrics"]["solver"] == {"0:engd": "parameter"}


def test_a_checkpoint_written_on_4_devices_resumes_on_1_and_on_4(tmp_path):
    folder = str(tmp_path / "run")
    four = on_devices(4, tmp_path / "four.json", f"interrupt:{folder}:25",
                      f"resume:{folder}-copy")
    # this process has one device
    assert len(jax.devices()) == 1
    one = sharded_runs.resumed(folder)
    for count, runs in ((4, four[f"resume:{folder}-copy"]), (1, one)):
        resumed, uninterrupted = runs["resumed"], runs["uninterrupted"]
        assert resumed["metrics"]["devices"]["count"] == count
        assert resumed["metrics"]["steps"] == uninterrupted["metrics"]["steps"] == 30
        assert resumed["history"]["step"] == uninterrupted["history"]["step"]
        np.testing.assert_allclose(resumed["history"]["loss"], uninterrupted["history"]["loss"],
                                   rtol=ROUND_OFF["engd"])
