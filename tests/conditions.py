"""`where` conditions for the geometry tests, made as the compiler makes them: the structure by
analysis (`where_of`), the function printed into a module by code generation (`wheres`)."""
from __future__ import annotations

import sympy

from pinnc.compiler.analyze.regions import where_of
from pinnc.compiler.codegen.wheres import where_function
from pinnc.runtime.geometry import Condition
from pinnc.runtime.model import load_module


def condition(predicate: sympy.Basic, coords: tuple[str, ...]) -> Condition:
    """``predicate`` over points of ``coords``, as the runtime's geometry takes it."""
    where = where_of(predicate, tuple(coords))
    module = load_module("import numpy as np\n\n\n" + where_function(where, "holds"), "where")
    return Condition(where, module.holds)
