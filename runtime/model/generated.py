"""The generated module, loaded from its text (pinnc's own output, never user text)."""
from __future__ import annotations

import linecache
import types


def load_module(source: str, name: str) -> types.ModuleType:
    """Load generated source as a module. The text is pinnc's own output, never user text."""
    filename = f"<pinnc generated: {name}.pde>"
    module = types.ModuleType(f"pinnc_generated_{name}")
    module.__file__ = filename
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), module.__dict__)
    return module
