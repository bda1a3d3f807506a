"""Hostile and damaged input around a program: its file name, the files it names, its bytes.

Each case ends in exit status 1 with one message naming the file (and line:col where there is
one), never a traceback, a hang or code that was never given as code; a message never quotes a
named file's content beyond its header's names.
"""
import ast
import os
import re
import shutil
from pathlib import Path

import pytest

from pinnc import SpecError, compile_source
from pinnc.cli import main
from pinnc.compiler import pipeline, sources
from pinnc.compiler.pipeline import compile_text

ROOT = Path(__file__).resolve().parent.parent
POISSON = (ROOT / "examples" / "poisson.pde").read_text()
HEAD = "domain Omega = box(x in [0, 1], t in [0, 1])\nfield u(x, t)\n"
DATA = HEAD + "pde Dt(u) = Dxx(u) in Omega\ndata \"{name}\"\n"   # the data statement: line 4
SECRET = "root:$6$s3cr3tHASH:19000:0:99999:7:::"
TINY = ["--set", "points=32", "--set", "boundary_points=8", "--set", "model=mlp(hidden=[4])",
        "--set", "optimizer=adam(steps=3)", "-q"]


def run(argv, capsys):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out, err


def spec_naming(tmp_path: Path, target: str) -> Path:
    spec = tmp_path / "spec.pde"
    spec.write_text(DATA.format(name=target))
    return spec


# --- the program's own file name and bytes ------------------------------------------------------

PAYLOADS = ['p""";import os;os.mkdir("PWNED");"""q', "p'''+__import__('os').mkdir('PWNED')+'''q",
            'p\\";os.mkdir("PWNED")#', "p\nimport os; os.mkdir('PWNED')\nq", "p\u2028\x0c\\x00q"]


@pytest.mark.parametrize("name", PAYLOADS)
def test_a_file_name_reaches_the_module_only_as_text(name):
    problem = compile_source(POISSON, name=name)
    tree = ast.parse(problem.source)  # the source parses, and its docstring holds the name whole
    assert f"from {problem.name}.pde:" in ast.get_docstring(tree)
    assert problem.name == name.replace("\\", "/").rsplit("/", 1)[-1]
    assert all(not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute)
               or node.func.attr != "mkdir" for node in ast.walk(tree))


def test_training_a_spec_whose_file_name_carries_code_runs_none_of_it(tmp_path, capsys,
                                                                      monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / 'p""";import os;os.mkdir("PWNED");"""q.pde'
    spec.write_text(POISSON)
    status, out, err = run(["train", spec, "-o", tmp_path / "run", *TINY], capsys)
    assert status == 0, err
    assert not (tmp_path / "PWNED").exists() and not Path("PWNED").exists()
    assert (tmp_path / "run" / "metrics.json").exists()


def test_a_nul_byte_in_a_comment_inside_brackets_compiles_and_loads():
    text = POISSON.replace("pde  lap(u) = f", "pde  lap(u # a NUL \x00 here\n) = f")
    problem = compile_source(text, name="nul")
    assert "\\x00" in problem.source and "\x00" not in problem.source
    assert problem.module.residuals is not None


def test_a_byte_order_mark_is_dropped(tmp_path, capsys):
    spec = tmp_path / "bom.pde"
    spec.write_bytes(b"\xef\xbb\xbf" + POISSON.encode())
    assert run(["check", spec], capsys)[0] == 0
    compile_text("\ufeff" + POISSON, "bom.pde")


@pytest.mark.parametrize("kind", ["fifo", "directory", "device"])
def test_a_program_that_is_no_regular_file_is_refused(kind, tmp_path, capsys):
    path = {"fifo": tmp_path / "p.pde", "directory": tmp_path, "device": Path("/dev/zero")}[kind]
    if kind == "fifo":
        os.mkfifo(path)
    status, out, err = run(["check", path], capsys)
    assert status == 1
    assert err.startswith(f"{path}: error: cannot read the program: not a regular file")


def test_a_program_over_the_size_limit_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sources, "MAX_SOURCE_BYTES", 100)  # a file read
    monkeypatch.setattr(pipeline, "MAX_SOURCE_BYTES", 100)  # a text given
    spec = tmp_path / "big.pde"
    spec.write_text(POISSON)
    status, out, err = run(["check", spec], capsys)
    assert status == 1 and "more than the limit of 100 bytes" in err, err
    with pytest.raises(SpecError, match="more than the limit of 100"):
        compile_text(POISSON, "big.pde")
    assert sources.read_regular_file(spec, 10_000) == POISSON.encode()


# --- files a program names ------------------------------------------------------------------------

def _make(tmp_path: Path, kind: str) -> str:
    """A file of the given kind next to the program; returns the name the program uses."""
    if kind == "fifo":
        os.mkfifo(tmp_path / "obs.csv")
    elif kind == "fifo behind a link":
        os.mkfifo(tmp_path / "pipe")
        os.symlink(tmp_path / "pipe", tmp_path / "obs.csv")
    elif kind == "directory":
        (tmp_path / "obs.csv").mkdir()
    elif kind == "dangling link":
        os.symlink(tmp_path / "nowhere", tmp_path / "obs.csv")
    else:
        return {"device": "/dev/zero", "nul": "obs\x00.csv", "missing": "obs.csv"}[kind]
    return "obs.csv"


@pytest.mark.parametrize("kind, reason", [
    ("fifo", "not a regular file: it is a pipe (FIFO)"),
    ("fifo behind a link", "not a regular file: it is a pipe (FIFO)"),
    ("device", "not a regular file: it is a character device"),
    ("directory", "not a regular file: it is a directory"),
    ("dangling link", "no such file"),
    ("missing", "no such file"),
    ("nul", "the file name holds a NUL byte"),
])
def test_a_named_file_that_is_no_regular_file_is_refused_at_once(kind, reason, tmp_path, capsys):
    spec = spec_naming(tmp_path, _make(tmp_path, kind))
    status, out, err = run(["check", spec], capsys)
    assert status == 1
    head = err.splitlines()[0]
    assert re.fullmatch(rf"{re.escape(str(spec))}:4:6: error: cannot read .*: {re.escape(reason)}",
                        head), head


CSV_CASES = [
    ("a secret file", f"{SECRET}\ndaemon:*:19000:0:99999:7:::\n".encode(),
     "obs.csv: column 1 of the header is not a name"),
    ("a secret second line", f"x,t,u\n{SECRET}\n".encode(), "obs.csv:2: 1 values, the header names 3"),
    ("a word among numbers", b"x,t,u\n0.5,0.5,hunter2\n",
     "obs.csv:2: the value in column 'u' is not a number"),
    ("a Latin-1 byte", b"x,t,u\n0.5,0.5,1.0\n0.1,0.2,\xe9\n", "obs.csv:3: not UTF-8 text"),
    ("a 200 KiB field", b"x,t,u\n0.5,0.5," + b"1" * (200 << 10) + b"\n",
     "obs.csv: not a readable CSV file (field larger than field limit"),
    ("a NUL byte", b"x,t,u\n0.5,\x000.5,1\n", "obs.csv:2: the value in column 't' is not a number"),
    ("an empty file", b"", "obs.csv is empty"),
    ("infinity", b"x,t,u\n0.5,0.5,inf\n", "obs.csv: holds a value that is not finite"),
]


@pytest.mark.parametrize("case, content, reason", CSV_CASES, ids=[c[0] for c in CSV_CASES])
def test_a_damaged_csv_is_refused_without_quoting_it(case, content, reason, tmp_path, capsys):
    (tmp_path / "obs.csv").write_bytes(content)
    spec = spec_naming(tmp_path, "obs.csv")
    status, out, err = run(["check", spec], capsys)
    assert status == 1
    assert err.startswith(f"{spec}:4:6: error: {reason}"), err
    for secret in ("s3cr3t", "hunter2", "daemon", "111111"):
        assert secret not in err


def test_a_csv_with_a_byte_order_mark_is_read(tmp_path, capsys):
    (tmp_path / "obs.csv").write_bytes(b"\xef\xbb\xbfx,t,u\n0.5,0.5,1.0\n")
    assert run(["check", spec_naming(tmp_path, "obs.csv")], capsys)[0] == 0


def test_a_csv_over_the_size_limit_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sources, "MAX_DATA_BYTES", 1 << 10)
    (tmp_path / "obs.csv").write_text("x,t,u\n" + "0.5,0.5,1.0\n" * 200)
    status, out, err = run(["check", spec_naming(tmp_path, "obs.csv")], capsys)
    assert status == 1 and "more than the limit of 1 KiB" in err, err


def test_a_csv_outside_the_programs_folder_is_read(tmp_path, capsys):
    (tmp_path / "obs.csv").write_text("x,t,u\n0.5,0.5,1.0\n")
    (tmp_path / "specs").mkdir()
    spec = spec_naming(tmp_path / "specs", "../obs.csv")
    assert run(["check", spec], capsys)[0] == 0


# --- regions that turn out empty when sampled -----------------------------------------------------

def test_sampling_an_empty_region_names_the_terms_line(tmp_path, capsys):
    spec = tmp_path / "empty.pde"
    spec.write_text("domain A = box(x in [0, 1], y in [0, 1])\nfield u(x, y)\n"
                    "pde lap(u) = 1 in A\n"
                    "bc u = 0 on boundary(A) where x == 0.5\n")
    status, out, err = run(["train", spec, "-o", tmp_path / "run", *TINY], capsys)
    assert status == 1
    assert err.startswith(f"{spec}:4:1: error: cannot sample bc1's points: "), err


def test_control_characters_of_a_program_never_reach_the_terminal(tmp_path, capsys):
    spec = tmp_path / "escape.pde"
    line = "pde  lap(u) = f            in Omega"
    spec.write_text(POISSON.replace(line, line.replace("(u)", "(uu)") + " # \x1b]0;title\x07\x00"))
    status, out, err = run(["check", spec], capsys)
    assert status == 1 and "\x1b" not in err and "\x00" not in err
    head, shown, caret = err.splitlines()
    assert head.startswith(f"{spec}:5:10: error: unknown name 'uu'")
    assert shown.endswith("# \\x1b]0;title\\x07\\x00") and caret == "    " + " " * 9 + "^^"
