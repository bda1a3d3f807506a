"""A compiled program at run time: its networks, the generated module loaded, and `Problem`
(loss, residuals, fields, init, sample), built from the compiler's output."""
from .batch import Batch, Entry
from .generated import load_module
from .problem import Compiled, Params, Problem

__all__ = ["Problem", "Compiled", "Params", "Batch", "Entry", "load_module"]
