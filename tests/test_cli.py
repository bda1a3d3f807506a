"""The `pinnc` command line (INTERFACE.md): check, compile, train, eval and their exit statuses.

Most tests call `pinnc.cli.main` in-process (fast); one runs the installed console script to see
a real exit status and stderr. One small training run (seed.pde, 50 L-BFGS steps) is shared by
the train and eval tests.
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from pinnc.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

# Line 3 has a misspelled field name: `uu` for `u`, at column 9.
MALFORMED = (
    "domain Omega = box(x in [0, 1], y in [0, 1])\n"
    "field u(x, y)\n"
    "pde lap(uu) = 1 in Omega\n"
    "bc u = 0 on boundary(Omega)\n"
)
MALFORMED_LINE, MALFORMED_COLUMN = 3, 9


def run(argv, capsys):
    """(exit status, stdout, stderr) of `pinnc ARGV` run in-process."""
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def malformed(tmp_path) -> Path:
    path = tmp_path / "typo.pde"
    path.write_text(MALFORMED)
    return path


# --- check ---

@pytest.mark.parametrize("name, expected", [
    ("seed", ["u(x, y)", "minimize1", "u_x", "Omega"]),
    ("poisson", ["u(x, y)", "pde1", "bc1", "u_xx", "u_yy", "exact"]),
    ("burgers", ["u(x, t)", "pde1", "ic1", "bc1", "u_t", "u_xx"]),
])
def test_check_examples(name, expected, capsys):
    status, out, err = run(["check", EXAMPLES / f"{name}.pde"], capsys)
    assert status == 0, err
    for text in expected:
        assert text in out, f"{text!r} missing from:\n{out}"
    assert "Traceback" not in err


@pytest.mark.parametrize("points, noted", [(2000, True), (2048, False)])
def test_check_notes_an_integral_over_sobol_points_not_a_power_of_two(points, noted, tmp_path,
                                                                       capsys):
    spec = tmp_path / "energy.pde"
    spec.write_text("domain O = box(x in [0, 1])\nfield u(x)\n"
                    "minimize integral(Dx(u)^2 - u)\n"
                    f"set points = {points}\n")
    status, out, err = run(["check", spec], capsys)
    assert status == 0, err
    note = ("note: its integral averages 2000 Sobol points; Sobol sets are balanced at powers "
            "of two, so 1024 or 2048 points would estimate it more closely")
    assert (note in out) is noted, out
    assert "note:" in out if noted else "note:" not in out


def test_check_terms_list_their_own_derivatives(capsys):
    status, out, _ = run(["check", EXAMPLES / "burgers.pde"], capsys)
    assert status == 0
    # Each term's block: its `term LABEL...` line and what follows, up to the next term.
    terms: dict[str, str] = {}
    label = None
    for line in out.splitlines():
        if line.strip().startswith("term "):
            label = line.split()[1].rstrip(":(")
            terms[label] = ""
        elif label and line.strip().startswith(("exact ", "field ", "domain ", "param ")):
            label = None
        if label:
            terms[label] += line + "\n"
    assert set(terms) == {"pde1", "ic1", "bc1"}
    assert "u_xx" in terms["pde1"] and "u_t" in terms["pde1"]
    assert "u_x" not in terms["ic1"] and "u_t" not in terms["bc1"]


def test_check_malformed_spec_points_at_the_mistake(malformed, capsys):
    status, out, err = run(["check", malformed], capsys)
    assert status == 1
    assert out == ""
    assert "Traceback" not in err
    assert f"{malformed}:{MALFORMED_LINE}:{MALFORMED_COLUMN}" in err
    assert "did you mean 'u'" in err
    lines = err.splitlines()
    shown = next(i for i, line in enumerate(lines) if "pde lap(uu) = 1 in Omega" in line)
    caret = lines[shown + 1]
    assert caret.strip() and set(caret.strip()) == {"^"}
    assert caret.index("^") == lines[shown].index("uu")


def test_check_missing_file(tmp_path, capsys):
    missing = tmp_path / "nope.pde"
    status, out, err = run(["check", missing], capsys)
    assert status == 1
    assert "nope.pde" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("command", ["check", "compile", "train"])
def test_file_not_utf8_is_located(tmp_path, capsys, command):
    spec = tmp_path / "latin1.pde"
    spec.write_bytes("field u(x)\n# café\n".encode("latin-1"))
    status, out, err = run([command, spec], capsys)
    assert status == 1
    assert "latin1.pde:2:6: error: the file is not UTF-8 text: byte 0xe9" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["check"], ["eval", "only-one-arg"],
                                  ["compile", "x.pde", "--emit", "bogus"]])
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "usage" in capsys.readouterr().err


def test_console_script_reports_spec_error_without_traceback(malformed):
    script = shutil.which("pinnc") or str(Path(sys.executable).parent / "pinnc")
    assert Path(script).exists(), "the `pinnc` console script is not installed"
    done = subprocess.run([script, "check", str(malformed)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert f":{MALFORMED_LINE}:{MALFORMED_COLUMN}" in done.stderr
    assert "did you mean 'u'" in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize("how", ["console script", "python -m pinnc"])
def test_python_m_pinnc_is_the_pinnc_command(how, malformed):
    script = shutil.which("pinnc") or str(Path(sys.executable).parent / "pinnc")
    command = [script] if how == "console script" else [sys.executable, "-m", "pinnc"]
    good = subprocess.run([*command, "check", str(EXAMPLES / "poisson.pde")],
                          capture_output=True, text=True, timeout=120)
    assert good.returncode == 0, good.stderr
    assert good.stdout.startswith("poisson.pde: ok\n") and "field u(x, y)" in good.stdout
    bad = subprocess.run([*command, "check", str(malformed)], capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert f":{MALFORMED_LINE}:{MALFORMED_COLUMN}" in bad.stderr


def test_version_is_the_installed_one_everywhere(capsys):
    import importlib.metadata

    import pinnc

    tomllib = pytest.importorskip("tomllib")
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert importlib.metadata.version("pinnc") == declared == pinnc.__version__
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"pinnc {declared}\n"


# --- compile ---

def test_compile_prints_the_module(capsys):
    status, out, err = run(["compile", EXAMPLES / "poisson.pde"], capsys)
    assert status == 0, err
    assert "import jax" in out
    assert "def pde1(" in out and "def bc1(" in out
    compile(out, "generated.py", "exec")  # valid Python


def test_compile_output_is_the_api_source(capsys):
    import pinnc
    status, out, _ = run(["compile", EXAMPLES / "poisson.pde"], capsys)
    assert status == 0
    assert out == pinnc.compile_file(EXAMPLES / "poisson.pde").source


def test_compile_writes_file(tmp_path, capsys):
    target = tmp_path / "poisson_gen.py"
    status, out, err = run(["compile", EXAMPLES / "poisson.pde", "-o", target], capsys)
    assert status == 0, err
    assert out == ""
    text = target.read_text()
    assert "def pde1(" in text and "import jax" in text


def test_compile_emit_sympy(capsys):
    status, out, err = run(["compile", EXAMPLES / "poisson.pde", "--emit", "sympy"], capsys)
    assert status == 0, err
    labels = [line.split(":")[0].strip() for line in out.strip().splitlines() if ":" in line]
    assert "pde1" in labels and "bc1" in labels
    assert "Derivative(u(x, y), (x, 2))" in out and "sin(pi*x)" in out
    assert "def " not in out and "import jax" not in out


def test_compile_emit_plan(capsys):
    status, out, err = run(["compile", EXAMPLES / "burgers.pde", "--emit", "plan"], capsys)
    assert status == 0, err
    for text in ("pde1", "ic1", "bc1", "u_xx", "u_t"):
        assert text in out
    assert "import jax" not in out


def test_compile_malformed_spec(malformed, capsys):
    status, out, err = run(["compile", malformed], capsys)
    assert status == 1
    assert out == ""
    assert f":{MALFORMED_LINE}:{MALFORMED_COLUMN}" in err


# --- --set ---

def test_set_unknown_option_suggests_the_nearest(capsys):
    status, _, err = run(["compile", EXAMPLES / "poisson.pde", "--set", "pionts=10"], capsys)
    assert status == 1
    assert "did you mean 'points'" in err
    assert "Traceback" not in err


def test_set_bad_value(capsys):
    status, out, err = run(["compile", EXAMPLES / "poisson.pde", "--set", "points=abc"], capsys)
    assert status == 1
    assert out == ""
    assert "error" in err and "number" in err
    assert "Traceback" not in err


def test_set_bad_value_is_reported_against_the_override(capsys):
    status, _, err = run(["compile", EXAMPLES / "poisson.pde", "--set", "points=abc"], capsys)
    assert status == 1
    assert "points=abc" in err
    assert "poisson.pde — strong form" not in err


@pytest.mark.parametrize("assignment", ["points", "points=", "points=0", "sampler=sobl",
                                        "optimizer=adam(steps=1"])
def test_set_other_mistakes_exit_1(assignment, capsys):
    status, out, err = run(["compile", EXAMPLES / "poisson.pde", "--set", assignment], capsys)
    assert status == 1
    assert out == ""
    assert "error" in err and "Traceback" not in err


def test_set_valid_option_is_accepted(capsys):
    status, out, err = run(["compile", EXAMPLES / "poisson.pde", "--set", "points=10",
                            "--set", "optimizer=adam(steps=5, lr=1e-2) then lbfgs(steps=5)"], capsys)
    assert status == 0, err
    assert "def pde1(" in out


# --- train and eval (one shared run) ---

TRAIN_ARGV = ["train", str(EXAMPLES / "seed.pde"), "--set", "optimizer=lbfgs(steps=50)",
              "--seed", "5", "-q"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, str]:
    """A run folder from `pinnc train seed.pde --set optimizer=lbfgs(steps=50) --seed 5 -q
    -o DIR`."""
    directory = tmp_path_factory.mktemp("cli") / "seed_run"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(TRAIN_ARGV + ["-o", str(directory)])
    assert status == 0, err.getvalue()
    return directory, out.getvalue() + err.getvalue()


def test_train_reports_and_writes_metrics(trained):
    directory, output = trained
    assert "Traceback" not in output
    assert "ok" in output and str(directory) in output
    metrics = json.loads((directory / "metrics.json").read_text())
    assert metrics["status"] == "ok"
    assert metrics["steps"] == 50
    for key in ("time_s", "compile_s", "loss", "terms", "fields", "params"):
        assert key in metrics
    assert metrics["time_s"] >= 0 and metrics["compile_s"] > 0
    assert set(metrics["terms"]) == {"minimize1"}
    assert math.isfinite(metrics["loss"])
    assert metrics["loss"] == pytest.approx(metrics["terms"]["minimize1"])
    assert metrics["fields"] == {} and metrics["params"] == {}


def test_train_writes_history(trained):
    directory, _ = trained
    with open(directory / "history.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["step", "loss", "minimize1"]
    steps = [int(r[0]) for r in rows[1:]]
    assert steps[0] == 0 and steps[-1] == 50
    assert all(0 < b - a <= 10 for a, b in zip(steps, steps[1:]))
    losses = [float(r[1]) for r in rows[1:]]
    assert all(math.isfinite(v) for v in losses)
    assert losses[-1] < losses[0]  # training made progress
    metrics = json.loads((directory / "metrics.json").read_text())
    assert losses[-1] == pytest.approx(metrics["loss"])


def test_train_writes_portable_params_and_plot(trained):
    directory, _ = trained
    with np.load(directory / "params.npz", allow_pickle=False) as stored:
        arrays = {k: stored[k] for k in stored.files}
    floats = [a for a in arrays.values() if a.dtype.kind == "f"]
    assert floats and all(np.all(np.isfinite(a)) for a in floats)
    # seed.pde's network, 2 inputs -> 20 -> 1: weights and biases of 40, 20, 20 and 1 numbers
    sizes = Counter(a.size for a in floats)
    assert all(sizes[n] >= k for n, k in Counter([40, 20, 20, 1]).items()), sizes
    pngs = list(directory.glob("*.png"))
    assert any("loss" in p.name for p in pngs)
    for png in pngs:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def points_csv(tmp_path) -> Path:
    path = tmp_path / "points.csv"
    # Columns in a different order from the domain's, and an extra column: eval picks by name.
    path.write_text("y,x,id\n0,0,1\n-2,1.5,2\n3,-3,3\n0.25,2.5,4\n")
    return path


def _read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_eval_prints_fields(trained, points_csv, capsys):
    import jax.numpy as jnp
    import pinnc

    directory, _ = trained
    status, out, err = run(["eval", directory, points_csv], capsys)
    assert status == 0, err
    rows = _read_csv(out)
    assert rows[0] == ["y", "x", "id", "u"]
    source = _read_csv(points_csv.read_text())
    assert len(rows) == len(source)
    for got, given in zip(rows[1:], source[1:]):
        assert [float(v) for v in got[:3]] == [float(v) for v in given]
    u = np.array([float(r[3]) for r in rows[1:]])
    assert np.all(np.isfinite(u))
    # The values are the trained field's at (x, y).
    table = np.array([[float(v) for v in r[:2]] for r in source[1:]])
    X = jnp.asarray(table[:, [1, 0]])
    expected = np.asarray(pinnc.load_run(directory).field("u")(X))
    np.testing.assert_allclose(u, expected, rtol=1e-10, atol=1e-12)


def test_eval_writes_file(trained, points_csv, tmp_path, capsys):
    directory, _ = trained
    status, printed, _ = run(["eval", directory, points_csv], capsys)
    assert status == 0
    target = tmp_path / "out.csv"
    status, out, err = run(["eval", directory, points_csv, "-o", target], capsys)
    assert status == 0, err
    assert out == ""
    assert target.read_text() == printed


def test_eval_missing_column(trained, tmp_path, capsys):
    directory, _ = trained
    points = tmp_path / "no_y.csv"
    points.write_text("x,z\n0,0\n1,1\n")
    status, out, err = run(["eval", directory, points], capsys)
    assert status == 1
    assert out == ""
    assert "'y'" in err
    assert "Traceback" not in err


def test_eval_bad_number(trained, tmp_path, capsys):
    directory, _ = trained
    points = tmp_path / "bad.csv"
    points.write_text("x,y\n0,zero\n")
    status, _, err = run(["eval", directory, points], capsys)
    assert status == 1
    assert "bad.csv" in err and "Traceback" not in err


def test_eval_not_a_run_folder(tmp_path, points_csv, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    status, out, err = run(["eval", empty, points_csv], capsys)
    assert status == 1
    assert out == ""
    assert "run folder" in err and "Traceback" not in err


def test_eval_missing_points_file(trained, tmp_path, capsys):
    directory, _ = trained
    status, _, err = run(["eval", directory, tmp_path / "absent.csv"], capsys)
    assert status == 1
    assert "absent.csv" in err and "Traceback" not in err


def test_a_let_that_an_exact_names_is_reported_and_evaluated_like_a_field(tmp_path, capsys):
    import json

    import pinnc

    spec = tmp_path / "hard.pde"
    spec.write_text("domain O = box(x in [0, 1], y in [0, 1])\nfield w(x, y)\n"
                    "let u = x*(1 - x)*w\npde lap(u) = -2 in O\nexact u = x*(1 - x)\n"
                    "set optimizer = adam(steps=3)\nset points = 30\n")
    directory = tmp_path / "run"
    status, _, err = run(["train", spec, "-q", "-o", directory], capsys)
    assert status == 0, err
    metrics = json.loads((directory / "metrics.json").read_text())
    assert set(metrics["fields"]) == {"u"} and metrics["fields"]["u"]["rel_l2"] > 0
    assert (directory / "field_u.png").exists()
    points = tmp_path / "points.csv"
    points.write_text("x,y\n0,0.5\n0.5,0.5\n0.25,0.75\n")
    status, out, err = run(["eval", directory, points], capsys)
    assert status == 0, err
    rows = _read_csv(out)
    assert rows[0] == ["x", "y", "w", "u"]
    w, u = (np.array([float(r[i]) for r in rows[1:]]) for i in (2, 3))
    x = np.array([0, 0.5, 0.25])
    np.testing.assert_allclose(u, x * (1 - x) * w, rtol=1e-12, atol=1e-15)
    assert u[0] == 0.0  # on the boundary whatever the network


# --- what run.json records ---

def test_run_json_records_versions_seed_date_devices_command_and_options(trained):
    import importlib.metadata
    from datetime import datetime, timedelta, timezone

    import jax

    directory, _ = trained
    run = json.loads((directory / "run.json").read_text())
    assert run["format"] == 1 and run["spec"].endswith("seed.pde") and run["name"] == "seed"
    assert run["overrides"] == {"optimizer": "lbfgs(steps=50)", "seed": 5}
    assert run["seed"] == 5 == run["options"]["seed"]
    assert run["versions"] == {name: importlib.metadata.version(name)
                               for name in ("pinnc", "jax", "jaxlib", "optax")}
    when = datetime.fromisoformat(run["date"].replace("Z", "+00:00"))
    assert when.utcoffset() == timedelta(0) and run["date"].endswith("Z")
    assert timedelta(0) <= datetime.now(timezone.utc) - when < timedelta(hours=1)
    assert run["devices"] == {"platform": jax.devices()[0].platform,
                              "kind": jax.devices()[0].device_kind, "count": len(jax.devices())}
    assert run["started_from"] == "command line"
    assert run["command"] == ["pinnc", *TRAIN_ARGV, "-o", str(directory)]
    assert run["fields"] == {"u": ["x", "y"]}
    # as resolved: the program's own settings, the override, and the defaults of the rest
    options = run["options"]
    assert options["points"] == 100 and options["sampler"] == "sobol"
    assert options["optimizer"] == [{"name": "lbfgs", "steps": 50, "memory": 10.0,
                                     "loss_tol": 0.0, "grad_tol": 0.0}]
    assert options["model"] == {"hidden": [32, 32, 32], "activation": "tanh",
                                "output": "identity", "form": "mlp", "fourier": 0,
                                "sigma": 1.0, "factorized": None}
    assert options["refine"] is None and options["precision"] == "float64"


def test_seed_is_the_seed_option(tmp_path, capsys):
    from pinnc.api import Problem

    seen = []

    def compile_and_stop(cls, text, filename="<spec>", overrides=None):
        seen.append(dict(overrides or {}))
        raise SystemExit(0)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Problem, "from_text", classmethod(compile_and_stop))
        for argv in (["--seed", "7"], ["--set", "seed=3", "--seed", "7"]):
            with pytest.raises(SystemExit):
                main(["train", str(EXAMPLES / "seed.pde"), *argv, "-o", str(tmp_path / "r")])
    assert seen == [{"seed": 7}, {"seed": 7}]
    status, _, err = run(["compile", EXAMPLES / "seed.pde", "--set", "seed=-1"], capsys)
    assert status == 1 and "seed must be an integer >= 0" in err
    with pytest.raises(SystemExit) as exit_info:
        main(["train", str(EXAMPLES / "seed.pde"), "--seed", "minus one"])
    assert exit_info.value.code == 2
    status, _, err = run(["train", "--resume", tmp_path, "--seed", "1"], capsys)
    assert status == 2 and "--seed" in err


# --- eval checks its points before compiling ---

@pytest.mark.parametrize("content, line, reason", [
    ("x,z\n0,0\n", 1, "no column 'y' for field u(x, y); the header has x, z"),
    ("y,x\n0,0\n1,one\n", 3, "column 2 ('x'): not a number"),
    ("", 1, "empty file"),
    (None, None, "no such file"),
])
def test_eval_refuses_bad_points_before_compiling(trained, tmp_path, capsys, content, line,
                                                  reason):
    import time

    import pinnc.api

    def never(*args, **kwargs):
        raise AssertionError("the run's program was compiled")
    points = tmp_path / "points.csv"
    if content is not None:
        points.write_text(content)
    directory, _ = trained
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pinnc.api, "compile_text", never)
        patch.setattr(pinnc.api.Problem, "from_text", classmethod(never))
        started = time.perf_counter()
        status, out, err = run(["eval", directory, points], capsys)
        seconds = time.perf_counter() - started
    assert status == 1 and out == "" and "Traceback" not in err
    assert err.startswith(f"{points}:{line}: error: " if line else f"{points}: error: "), err
    assert reason in err
    assert seconds < 5


# --- options ---

def test_options_lists_every_option_the_compiler_reads(capsys):
    from pinnc.compiler import options as table
    from pinnc.option_reference import UNDESCRIBED, rows

    status, out, err = run(["options"], capsys)
    assert status == 0, err
    headers = [line for line in out.splitlines() if line and not line.startswith(" ")]
    assert headers == list(table.OPTION_NAMES)
    assert UNDESCRIBED not in out, "describe the new option in option_reference._VALUES"
    for sampler in table.SAMPLERS:
        assert sampler in out
    for name, settings in table.OPTIMIZERS.items():
        assert f"{name}(steps={int(settings['steps'])}" in out
    described = {row.name: row for row in rows()}
    status, out, _ = run(["options", "seed", "sampler"], capsys)
    assert [line for line in out.splitlines() if not line.startswith(" ")] == ["sampler", "seed"]
    assert described["seed"].default == "0"
    status, _, err = run(["options", "sed"], capsys)
    assert status == 2 and "did you mean 'seed'" in err


def test_options_defaults_are_the_compilers(tmp_path):
    """Each listed default, set explicitly, compiles to the options a program that sets nothing
    gets (a program with a minimize term: no engd defaults), and the defaults the listing gives
    for a least-squares program (engd's) are those it gets."""
    import pinnc
    from pinnc.option_reference import rows

    general = "domain O = box(x in [0, 1])\nfield u(x)\nminimize integral(u^2)\n"
    least_squares = "domain O = box(x in [0, 1])\nfield u(x)\npde D(u, x) = 1 in O\n"
    plain = pinnc.compile_source(general, "g").options
    engd = pinnc.compile_source(least_squares, "l").options
    for row in rows():
        first, _, under_engd = row.default.partition("; ")
        if row.name == "optimizer":
            mean_square = row.default.partition(" where every term is a mean square")[0]
            other = row.default.partition("; else ")[2]
            assert _phases(pinnc.compile_source(general, "g", optimizer=other)) == _phases(plain)
            assert _phases(pinnc.compile_source(least_squares, "l", optimizer=mean_square)
                           ) == _phases(engd)
            continue
        if getattr(plain, row.name) is None:
            assert first == "none", row
        else:
            assert pinnc.compile_source(general, "g", **{row.name: first}).options == plain, row
        if under_engd:
            value = under_engd.partition(" where ")[0]
            assert getattr(pinnc.compile_source(least_squares, "l", **{row.name: value})
                           .options, row.name) == getattr(engd, row.name), row


def _phases(options) -> list:
    """The optimizer's phases with every setting, given or defaulted."""
    from pinnc.compiler.options import OPTIMIZERS

    options = getattr(options, "options", options)
    return [(p.name, p.steps, {**OPTIMIZERS[p.name], "steps": p.steps, **dict(p.settings)})
            for p in options.optimizer]


# --- help: every argument explained with an example; docs/cli.md names every flag ---

def _parsers():
    """(name, parser) for `pinnc` and each of its commands."""
    import argparse

    from pinnc.cli import _parser

    top = _parser()
    found = [("pinnc", top)]
    for action in top._actions:
        if isinstance(action, argparse._SubParsersAction):
            found += [(f"pinnc {name}", sub) for name, sub in action.choices.items()]
    return found


def test_every_argument_has_help_with_an_example_and_every_command_examples():
    import shlex

    from pinnc.cli import _parser

    for name, parser in _parsers():
        for action in parser._actions:
            if action.dest in ("help", "command"):
                continue
            assert action.help and "e.g." in action.help, (name, action.dest)
        examples = [line.strip() for line in parser.epilog.splitlines()[1:]]
        assert parser.epilog.startswith("examples:") and examples, name
        for example in examples:
            if "--help" in example:
                continue
            assert example.startswith(name), (name, example)
            _parser().parse_args(shlex.split(example)[1:])  # a usage error exits


def _help(argv: list[str]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        main(argv)
    return out.getvalue()


def test_docs_cli_names_every_command_and_flag_the_help_lists():
    import re

    doc = (ROOT / "docs" / "cli.md").read_text()
    commands = [name.split()[1] for name, _ in _parsers()[1:]]
    assert commands and all(f"pinnc {c}" in doc for c in commands)
    for argv in [["--help"], *([c, "--help"] for c in commands)]:
        text = _help(argv)
        flags = set(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", text))
        assert "--help" in flags
        missing = sorted(f for f in flags if f"`{f}" not in doc and f" {f}" not in doc)
        assert not missing, f"docs/cli.md does not name {missing} of pinnc {' '.join(argv)}"
