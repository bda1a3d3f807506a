"""compiler/sources.py: the files a program names, read through its public functions."""
from pathlib import Path

import numpy as np
import pytest

from pinnc import SpecError
from pinnc.compiler import files, sources
from pinnc.compiler.errors import Span

AT = Span(4, 6)


def test_a_program_is_read_as_utf8_without_its_byte_order_mark(tmp_path):
    path = tmp_path / "p.pde"
    path.write_bytes(b"\xef\xbb\xbffield u(x)\n")
    assert sources.read_source(path) == "field u(x)\n"


def test_a_program_that_is_not_utf8_is_refused_at_its_first_bad_byte(tmp_path):
    path = tmp_path / "p.pde"
    path.write_bytes("field u(x)\nlet é = \xff".encode("latin-1"))
    with pytest.raises(SpecError) as caught:
        sources.read_source(path)
    assert (caught.value.line, caught.value.column) == (2, 5)
    assert "byte 0xe9 cannot be decoded" in caught.value.reason


def test_a_program_over_the_size_limit_or_not_a_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MAX_SOURCE_BYTES", 10)
    path = tmp_path / "p.pde"
    path.write_text("x" * 11)
    with pytest.raises(SpecError, match="cannot read the program: 11 bytes, more than the limit"):
        sources.read_source(path)
    with pytest.raises(SpecError, match="not a regular file: it is a directory"):
        sources.read_source(tmp_path)
    with pytest.raises(SpecError, match="no such file"):
        sources.read_source(tmp_path / "missing.pde")


def test_a_named_file_is_found_next_to_the_program():
    assert sources.named_path("runs/spec.pde", "obs.csv") == Path("runs/obs.csv")
    assert sources.named_path("spec.pde", "/data/obs.csv") == Path("/data/obs.csv")


def test_a_table_holds_its_header_and_its_numbers(tmp_path):
    path = tmp_path / "obs.csv"
    path.write_text(" x, t ,u\n0.5,1,2e-3\n\n-1,0,3\n")
    table = sources.read_table(path, AT)
    assert table.header == ("x", "t", "u")
    np.testing.assert_array_equal(table.values, [[0.5, 1.0, 2e-3], [-1.0, 0.0, 3.0]])
    columns = table.columns([2, 0])
    assert columns.flags.c_contiguous
    np.testing.assert_array_equal(columns, [[2e-3, 0.5], [3.0, -1.0]])


@pytest.mark.parametrize("text, reason", [
    ("", "obs.csv is empty; expected a header row naming its columns"),
    ("x,u\n", "obs.csv has a header but no rows of values"),
    ("x,u\n1,2\n3\n", "obs.csv:3: 1 values, the header names 2"),
    ("x,u\n1,two\n", "obs.csv:2: the value in column 'u' is not a number"),
    ("x,u\n1,nan\n", "obs.csv: holds a value that is not finite (nan or inf)"),
    ("x,secret value\n1,2\n", "obs.csv: column 2 of the header is not a name (the header names "
                              "coordinates and fields, e.g. x,t,u)"),
    ("x,x\n1,2\n", "obs.csv: column 'x' appears twice"),
])
def test_a_damaged_table_is_refused_at_the_place_that_names_it(tmp_path, text, reason):
    path = tmp_path / "obs.csv"
    path.write_text(text)
    with pytest.raises(SpecError) as caught:
        sources.read_table(path, AT)
    assert caught.value.reason == reason
    assert caught.value.span == AT


def test_a_table_over_the_size_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MAX_DATA_BYTES", 1 << 10)
    path = tmp_path / "obs.csv"
    path.write_text("x,u\n" + "0.5,1.0\n" * 200)
    with pytest.raises(SpecError, match="more than the limit of 1 KiB"):
        sources.read_table(path, AT)


def test_a_path_is_shown_with_its_unprintable_characters_escaped():
    assert sources.shown_path("a\x00b.csv") == "a\\x00b.csv"


def test_the_runtime_reads_run_folders_through_the_same_functions():
    assert files.read_regular_file is sources.read_regular_file
    assert files.UnreadableFile is sources.UnreadableFile
