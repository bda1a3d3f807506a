"""Property tests: whatever the text, compiling it ends in a result or a `SpecError` that names
its place; never another exception, a hang or a traceback (LANGUAGE.md, Errors)."""
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pinnc import SpecError
from pinnc.compiler.pipeline import compile_text

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.pde"))
SOURCES = [path.read_text() for path in EXAMPLES]
HEAD = "domain Omega = box(x in [0, 1], y in [0, 2])\nfield u(x, y)\n"

KEYWORDS = ("let param domain field pde bc ic minimize data exact set in on where with then "
            "and or not from boundary").split()
NAMES = ("u v x y t z k Omega D Dx Dxx Dy Dt Dxy grad div lap dot norm integral dn sin cos exp "
         "log sqrt abs pi mlp adam lbfgs box interval ball polygon center radius hidden "
         "activation tanh points weight seed sampler optimizer model").split()
NUMBERS = ["0", "1", "2", "0.5", ".5", "1e-3", "2.5E+4", "1e999", "1e-999", "9" * 40, "100"]
PUNCTUATION = ["(", ")", "[", "]", ",", "=", "+", "-", "*", "/", "^", "**", ":", ";", "|", "&",
               "<", ">", "==", "<=", ">=", "\n", "#", '"obs.csv"', "'", "$"]
TOKENS = KEYWORDS + NAMES + NUMBERS + PUNCTUATION

FAST = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(text: str, filename: str = "fuzz.pde") -> SpecError | None:
    """Compile ``text``: None when it compiles, else its SpecError, checked to be well formed.
    Any other exception propagates and fails the test."""
    try:
        compile_text(text, filename)
    except SpecError as error:
        check_message(error, text, filename)
        return error
    return None


def check_message(error: SpecError, text: str, filename: str) -> None:
    message = str(error)
    assert message.startswith(f"{filename}:"), message
    if error.line is None:
        return
    assert message.startswith(f"{filename}:{error.line}:{error.column}: error: "), message
    lines = text.split("\n")
    assert 1 <= error.line <= len(lines), message
    assert error.column >= 1, message
    head, shown, caret = message.split("\n")
    line = lines[error.line - 1].rstrip("\r").expandtabs(1)
    assert shown.isprintable(), message  # control characters are shown as escapes
    if len(line) <= 120:
        assert shown == "    " + escaped(line), message
        at = len(escaped(line[:error.column - 1]))
        assert caret.startswith("    " + " " * at + "^"), message
    else:  # a window of the line, the caret under the same character
        assert shown[4:].removeprefix("...").removesuffix("...") in escaped(line), message
        at = caret.index("^")
        spot = line[error.column - 1] if error.column <= len(line) else ""
        assert not spot.isprintable() or shown[at] == spot, message


def escaped(text: str) -> str:
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in text)


@contextmanager
def time_limit(seconds: float):
    """Fail, instead of hanging the suite, when the block runs longer than ``seconds``."""
    def expire(signum, frame):
        raise TimeoutError(f"still running after {seconds} s")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- (a) random text and token soups ----------------------------------------------------------------

printable = st.text(st.characters(min_codepoint=32, max_codepoint=126) | st.sampled_from("\n\t\r\f"),
                    max_size=120)
any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=80)


@FAST
@given(st.one_of(printable, any_text))
def test_random_text(text):
    with time_limit(20):
        outcome(text)


separators = st.sampled_from([" ", " ", " ", "", "\n"])
soups = st.lists(st.tuples(st.sampled_from(TOKENS), separators), max_size=40).map(
    lambda pairs: "".join(token + sep for token, sep in pairs))


@FAST
@given(soups)
def test_token_soup(text):
    with time_limit(20):
        outcome(text)


TEMPLATES = [
    "pde {} = 0 in Omega", "pde lap(u) = {} in Omega", "let a = {}\npde u = a in Omega",
    "bc u = {} on boundary(Omega)", "pde u = 0 in Omega where {}", "minimize {}",
    "pde u = 0 in Omega with {}", "pde u = 0 in Omega\nset optimizer = {}",
    "pde u = 0 in Omega\nset model = {}", "domain B = {}\npde u = 0 in B", "field v({})\npde u = v in Omega",
    "pde u = 0 in Omega\nexact u = {}",
]


@FAST
@given(st.sampled_from(TEMPLATES), soups)
def test_token_soup_in_a_program(template, soup):
    """Soups inside an otherwise sound program, so that they reach analysis too."""
    with time_limit(20):
        outcome(HEAD + template.format(soup.replace("\n", " ")) + "\n")


# --- (b) mutations of the examples ------------------------------------------------------------------

WORD = re.compile(r"\s+|\w+|[^\w\s]")


def mutate(source: str, edits: list[tuple[int, float, str]]) -> str:
    """Apply edits (kind, where in [0, 1), token) to ``source``, one after another."""
    for kind, where, token in edits:
        pieces = WORD.findall(source)
        if kind == 0 and source:  # delete a character
            i = int(where * len(source))
            source = source[:i] + source[i + 1:]
        elif kind == 1 and source:  # duplicate a character
            i = int(where * len(source))
            source = source[:i] + source[i] + source[i:]
        elif kind == 2 and len(source) > 1:  # swap two neighbouring characters
            i = int(where * (len(source) - 1))
            source = source[:i] + source[i + 1] + source[i] + source[i + 2:]
        elif kind == 3 and pieces:  # delete a token
            i = int(where * len(pieces))
            source = "".join(pieces[:i] + pieces[i + 1:])
        elif kind == 4:  # insert a token
            i = int(where * (len(pieces) + 1))
            source = "".join(pieces[:i] + [token + " "] + pieces[i:])
        elif kind == 5 and len(pieces) > 1:  # swap a token with the next
            i = int(where * (len(pieces) - 1))
            pieces[i], pieces[i + 1] = pieces[i + 1], pieces[i]
            source = "".join(pieces)
        elif kind == 6:  # truncate
            source = source[:int(where * len(source))]
    return source


edits = st.lists(st.tuples(st.integers(0, 6), st.floats(0, 1, exclude_max=True),
                           st.sampled_from(TOKENS)), min_size=1, max_size=4)


@FAST
@given(st.sampled_from(SOURCES), edits)
def test_mutated_examples(source, edits):
    with time_limit(20):
        outcome(mutate(source, edits), str(EXAMPLES[0].parent / "fuzz.pde"))


def test_examples_compile_unmutated():
    for path, source in zip(EXAMPLES, SOURCES):
        assert outcome(source, str(path)) is None, path.name


# --- (c) deep nesting and huge numbers --------------------------------------------------------------

def _in_pde(expr: str) -> str:
    return HEAD + f"pde u = {expr} in Omega\n"


EXTREMES = {
    "10000-parentheses": _in_pde("(" * 10_000 + "x" + ")" * 10_000),
    "20000-term-sum": _in_pde(" + ".join(["x"] * 20_000)),
    "5000-unary-minuses": _in_pde("-" * 5_000 + "x"),
    "5000-spaced-unary-minuses": _in_pde("- " * 5_000 + "u"),
    "sin-nested-1000": _in_pde("sin(" * 1_000 + "x" + ")" * 1_000),
    "sin-nested-99": _in_pde("sin(" * 99 + "u" + ")" * 99),
    "lap-nested-99": _in_pde("lap(" * 99 + "u" + ")" * 99),
    "power-chain-2000": _in_pde("^".join(["x"] * 2_000)),
    "negated-powers-2000": _in_pde("-x^" * 2_000 + "2"),
    "brackets-10000": _in_pde("[" * 10_000 + "x" + "]" * 10_000),
    "1e999999": _in_pde("1e999999"),
    "9e400-in-digits": _in_pde("9" + "0" * 400),
    "100000-digits": _in_pde("9" + "0" * 100_000),
    "tiny-in-digits": _in_pde("0." + "0" * 100_000 + "1"),
    "exponent-of-5000-digits": _in_pde("1e" + "9" * 5_000),
    "power-tower": _in_pde("2^2^2^2^2^2"),
    "power-tower-of-field": _in_pde("u^2^2^2^2^2^2"),
    "exp-of-exp": _in_pde("exp(exp(exp(1000)))"),
    "5000-or-conditions": HEAD + "pde u = 0 in Omega where " + " or ".join(["x > 0.5"] * 5_000),
    "5000-nots": HEAD + "pde u = 0 in Omega where " + "not " * 5_000 + "x > 0.5",
    "3000-unions": "domain Q = " + " | ".join(["box(x in [0, 1])"] * 3_000)
                   + "\nfield u(x)\npde u = 0 in Q\n",
    "1000-chained-lets": HEAD + "".join(f"let a{i} = a{i + 1} + 1\n" for i in range(1_000))
                         + "let a1000 = u\npde u = a0 in Omega\n",
    "derivative-of-order-10000": _in_pde("D(u, " + ", ".join(["x"] * 10_000) + ")"),
    "long-name": _in_pde("a" * 100_000),
}


@pytest.mark.parametrize("text", EXTREMES.values(), ids=EXTREMES.keys())
def test_extreme_inputs_end_quickly(text):
    start = time.perf_counter()
    with time_limit(30):
        error = outcome(text)
    elapsed = time.perf_counter() - start
    assert elapsed < 15, f"took {elapsed:.1f} s"
    if error is not None and error.line is None:
        pytest.fail(f"no line in: {error}")


# --- the command line ---------------------------------------------------------------------------

def test_check_command_on_fuzzed_files(tmp_path):
    script = shutil.which("pinnc") or str(Path(sys.executable).parent / "pinnc")
    rng = random.Random(7)
    texts = [mutate(rng.choice(SOURCES), [(rng.randrange(7), rng.random(), rng.choice(TOKENS))
                                          for _ in range(rng.randint(1, 3))]) for _ in range(3)]
    texts += [EXTREMES["10000-parentheses"], EXTREMES["100000-digits"],
              " ".join(rng.choice(TOKENS) for _ in range(60))]
    for number, text in enumerate(texts):
        path = tmp_path / f"fuzz{number}.pde"
        path.write_text(text)
        done = subprocess.run([script, "check", str(path)], capture_output=True, text=True,
                              timeout=120)
        assert done.returncode in (0, 1), done.stderr
        assert "Traceback" not in done.stderr, done.stderr
        if done.returncode == 1:
            assert done.stderr.startswith(f"{path}:"), done.stderr


# --- file names and the CSV files a program names ----------------------------------------------

POISSON = (Path(__file__).resolve().parent.parent / "examples" / "poisson.pde").read_text()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(st.characters(exclude_categories=("Cs",)), max_size=40))
def test_any_file_name_reaches_the_module_only_as_text(name):
    """Whatever a program's file name holds, the generated module parses, and the name is in its
    docstring alone: no statement beyond the ones of a module with a plain name."""
    import ast
    plain = ast.parse(compile_text(POISSON, "plain.pde").source)
    tree = ast.parse(compile_text(POISSON, name + ".pde").source)
    assert len(tree.body) == len(plain.body)
    assert [type(s) for s in tree.body] == [type(s) for s in plain.body]


SECRET = "s3cr3t!"
CELLS = ["x", "y", "u", "v", "0", "1.5", "-2e3", "nan", "inf", "", " ", "1e999", SECRET,
         '"', '"x"', "\x00", "\u00e9", "a,b", "x y"]
csv_rows = st.lists(st.lists(st.sampled_from(CELLS), min_size=1, max_size=4), max_size=5)
csv_bytes = st.one_of(
    csv_rows.map(lambda rows: "\n".join(",".join(r) for r in rows).encode()),
    st.tuples(csv_rows, st.sampled_from([b"", b"\xef\xbb\xbf", b"\xe9", b"\r\n", b"\x00"])).map(
        lambda pair: pair[1] + "\r\n".join(",".join(r) for r in pair[0]).encode()),
    st.binary(max_size=60))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(content=csv_bytes)
def test_any_csv_named_by_a_program_is_read_or_refused_at_its_statement(tmp_path, content):
    """A `data` file of any bytes compiles, or is a SpecError at the `data` statement that
    never quotes a cell of the file that is no name."""
    (tmp_path / "obs.csv").write_bytes(content)
    text = HEAD + "pde lap(u) = 0 in Omega\ndata \"obs.csv\"\n"
    filename = str(tmp_path / "spec.pde")
    with time_limit(20):
        error = outcome(text, filename)
    if error is not None:
        assert (error.line, error.column) == (4, 6), str(error)
        assert SECRET not in str(error)
