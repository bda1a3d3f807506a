"""A compiled program at run time: its networks, the generated module loaded, and `Problem`
(loss, residuals, fields, init, sample), built from the compiler's output."""
from .generated import load_module
from .problem import Batch, Compiled, Params, Problem

__all__ = ["Problem", "Compiled", "Params", "Batch", "load_module"]
