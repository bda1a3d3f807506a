"""The documentation's code runs as printed: README.md and every page under docs/.

- A ```pde block is a whole program that checks and compiles.
- A ```python block runs, on its own, in a folder holding a copy of `examples/` (so paths are
  written relative to the repository's root, and what a block writes stays out of it). A
  block that trains takes a few steps; one preceded by `<!-- slow -->` runs with `-m slow`.
- A ```sh block is not run, but every `pinnc` command in it names a real command, and every
  option it gives is one that command takes.
- Every fenced block names its language, so that none escapes these tests; every link to a
  file of the repository points at one that exists.
"""
from __future__ import annotations

import argparse
import re
import shlex
import shutil
import textwrap
from pathlib import Path

import pytest

from pinnc import cli
from pinnc.compiler.pipeline import compile_text

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
# A fenced block, possibly indented (inside a list): its indent, language and text.
FENCE = re.compile(r"^( *)```([^\n`]*)\n(.*?)^\1```[ \t]*$", re.MULTILINE | re.DOTALL)
LANGUAGES = {"pde", "python", "sh", "text"}
SHELL = {"sh", "bash"}


SLOW = "<!-- slow -->"  # on the line before a block: it runs with the slow tests only


def fenced_blocks():
    """(page, line of the opening fence, language, text, slow) of every fenced block."""
    for page in PAGES:
        content = page.read_text(encoding="utf-8")
        for match in FENCE.finditer(content):
            line = content.count("\n", 0, match.start()) + 1
            slow = content[:match.start()].rstrip().endswith(SLOW)
            yield page, line, match.group(2).strip(), textwrap.dedent(match.group(3)), slow


def blocks(*languages: str):
    return [pytest.param(page, line, text, id=f"{page.relative_to(ROOT)}:{line}",
                         marks=[pytest.mark.slow] if slow else [])
            for page, line, language, text, slow in fenced_blocks() if language in languages]


@pytest.mark.parametrize("page, line, program", blocks("pde"))
def test_a_program_of_the_docs_compiles(page, line, program):
    # Programs that name a data file find it among the examples, as the examples do.
    compiled = compile_text(program, str(ROOT / "examples" / "docs.pde"))
    assert compiled.problem.terms


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """A folder like the repository's root for a python block: `examples/` and nothing else."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("page, line, code", blocks("python"))
def test_a_python_block_of_the_docs_runs(page, line, code, workdir):
    # Line numbers of a traceback are those of the page.
    compiled = compile("\n" * line + code, str(page), "exec")
    exec(compiled, {"__name__": "__docs__"})


def _commands() -> tuple[set[str], dict[str, set[str]]]:
    """The options of `pinnc` itself, and {command: its options}."""
    parser = cli._parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return (set(parser._option_string_actions),
            {name: set(sub._option_string_actions) for name, sub in subparsers.choices.items()})


def pinnc_commands(script: str):
    """Every `pinnc ...` command of a shell block, as its words after `pinnc`."""
    for line in script.splitlines():
        lexer = shlex.shlex(line.strip().removeprefix("$ "), posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words: list[str] = []
        for token in [*lexer, ";"]:
            if token and set(token) <= set("();<>|&"):  # between two commands
                if words and words[0] == "pinnc":
                    yield words[1:]
                words = []
            else:
                words.append(token)


@pytest.mark.parametrize("page, line, script", blocks(*SHELL))
def test_pinnc_commands_of_the_docs_are_real(page, line, script):
    top, commands = _commands()
    for words in pinnc_commands(script):
        options = [w.strip("[]").split("=")[0] for w in words if w.strip("[]").startswith("-")]
        if not words or words[0].startswith("-"):
            assert set(options) <= top, ("pinnc", words)
            continue
        assert words[0] in commands, f"no command 'pinnc {words[0]}' (line {line})"
        unknown = set(options) - commands[words[0]]
        assert not unknown, f"'pinnc {words[0]}' takes no {sorted(unknown)} (line {line})"


def test_every_block_names_its_language():
    unnamed = [f"{page.relative_to(ROOT)}:{line}" for page, line, language, _, _ in fenced_blocks()
               if language not in LANGUAGES | SHELL]
    assert not unnamed, f"blocks without a known language ({sorted(LANGUAGES)}): {unnamed}"


LINK = re.compile(r"\]\(([^)#\s]+)(#[^)\s]*)?\)")


def test_links_to_files_of_the_repository_exist():
    broken = []
    for page in PAGES:
        for match in LINK.finditer(page.read_text(encoding="utf-8")):
            target = match.group(1)
            if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert not broken, broken


def test_the_docs_hold_code_of_every_kind():
    assert len(blocks("pde")) >= 6
    assert len(blocks("python")) >= 5
    assert len(blocks(*SHELL)) >= 3
