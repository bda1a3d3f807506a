import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def pytest_configure(config):
    """One persistent compilation cache for the session, shared by the xdist workers (they
    inherit the environment of the process that starts them), removed at its end: a program
    that several tests compile (a run, then its resumption) is compiled once. The command
    line's own cache (`runtime.runs.cache`) goes there too, never to the user's home."""
    if not hasattr(config, "workerinput"):  # the controlling process, or no xdist
        os.environ["PINNC_CACHE"] = tempfile.mkdtemp(prefix="pinnc-test-xla-")
        config._pinnc_cache = os.environ["PINNC_CACHE"]
    from pinnc.runtime.runs import use_compilation_cache
    use_compilation_cache()


def pytest_unconfigure(config):
    directory = getattr(config, "_pinnc_cache", None)
    if directory:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def examples() -> Path:
    return EXAMPLES
