"""The training loop's service between chunks: time limit, Ctrl-C, progress, live metrics."""
from __future__ import annotations

import os
import signal
import struct
import threading
from pathlib import Path

import pytest

import pinnc
from pinnc.runtime.training import train

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SMALL = dict(points=40, boundary_points=16, model="mlp(hidden=[6])")


@pytest.fixture(scope="module")
def poisson():
    return pinnc.compile_file(EXAMPLES / "poisson.pde", **SMALL,
                              optimizer="adam(steps=50, lr=1e-2)")


def test_time_limit_stops_training_with_status_ok(poisson):
    limited = poisson.with_options(optimizer="adam(steps=10000000)", time_limit=1.5)
    result = limited.train(progress=False)
    assert result.metrics["status"] == "ok"
    assert result.metrics["stopped"] == "time_limit"
    assert 0 < result.metrics["steps"] < 10_000_000
    assert 1.5 <= result.metrics["time_s"] < 15
    assert result.history["step"][-1] == result.metrics["steps"]


def test_a_run_within_its_time_limit_is_not_marked_stopped(poisson):
    result = poisson.with_options(time_limit=600).train(progress=False)
    assert result.metrics["steps"] == 50 and "stopped" not in result.metrics


@pytest.mark.parametrize("value, words", [("0", "time_limit must be a number of seconds"),
                                          ("-5", "time_limit must be a number of seconds"),
                                          ("fast", "expected a number")])
def test_time_limit_errors_name_its_line(value, words):
    text = (EXAMPLES / "poisson.pde").read_text() + f"set time_limit = {value}\n"
    line = text.count("\n")
    with pytest.raises(pinnc.SpecError) as error:
        pinnc.compile_source(text, name="p")
    assert error.value.line == line and words in str(error.value)


def test_first_ctrl_c_says_at_once_that_the_chunk_in_flight_will_finish(poisson, capsys):
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers are installed from the main thread only")
    problem = poisson.with_options(optimizer="adam(steps=100000000)")
    said = []

    def interrupt(step, params, seconds):
        if not said:
            os.kill(os.getpid(), signal.SIGINT)
            said.append(capsys.readouterr().err)

    result = train(problem, progress=False, callback=interrupt)
    assert "stopping after the chunk of steps in flight" in said[0]
    assert result.metrics["status"] == "interrupted"
    assert result.metrics["steps"] < 100_000_000


def _scalars(directory: Path) -> dict[str, dict[int, float]]:
    """The scalars of the TensorBoard event files in ``directory``: {tag: {step: value}}.

    Each record of an event file is a TFRecord: length (u64), its CRC, the serialized `Event`,
    its CRC."""
    from tensorboardX.proto import event_pb2
    scalars: dict[str, dict[int, float]] = {}
    for path in sorted(directory.iterdir()):
        data = path.read_bytes()
        at = 0
        while at < len(data):
            (length,) = struct.unpack("<Q", data[at:at + 8])
            event = event_pb2.Event.FromString(data[at + 12:at + 12 + length])
            at += 12 + length + 4
            for value in event.summary.value:
                scalars.setdefault(value.tag, {})[event.step] = value.simple_value
    return scalars


def test_a_run_folder_gets_live_metrics_tensorboard_reads(poisson, tmp_path):
    directory = tmp_path / "run"
    history = train(poisson, progress=False, checkpoint=directory).history
    scalars = _scalars(directory / "events")
    recorded = history["step"][:-1]  # the last row is added after training
    assert sorted(scalars["loss"]) == recorded == list(range(0, 50, 10))
    for i, step in enumerate(recorded):
        assert scalars["loss"][step] == pytest.approx(history["loss"][i], rel=1e-6)
        for term in poisson.ir.terms:
            assert scalars[f"term/{term.label}"][step] == pytest.approx(
                history[term.label][i], rel=1e-6)


def test_a_new_run_in_the_folder_replaces_its_events(poisson, tmp_path):
    directory = tmp_path / "run"
    train(poisson, progress=False, checkpoint=directory)
    train(poisson.with_options(optimizer="adam(steps=20)"), progress=False, checkpoint=directory)
    assert max(_scalars(directory / "events")["loss"]) == 10
