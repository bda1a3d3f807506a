"""Every `pde` block of the documentation is a whole program that checks and compiles."""
import re
from pathlib import Path

import pytest

from pinnc.compiler.pipeline import compile_text

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "docs").glob("*.md"))
BLOCK = re.compile(r"^```pde\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks():
    for page in PAGES:
        for number, match in enumerate(BLOCK.finditer(page.read_text()), start=1):
            yield pytest.param(match.group(1), id=f"{page.stem}-{number}")


@pytest.mark.parametrize("program", list(blocks()))
def test_a_program_of_the_docs_compiles(program):
    # Programs that name a data file find it among the examples, as the examples do.
    compiled = compile_text(program, str(ROOT / "examples" / "docs.pde"))
    assert compiled.problem.terms


def test_the_docs_hold_programs():
    assert len(list(blocks())) >= 6
