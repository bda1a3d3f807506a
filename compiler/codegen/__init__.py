"""Stage 4: IR + derivative plan -> the Python source of a JAX module.

The module is the product: `pinnc compile` prints it, `Problem.source` holds it, and the runtime
loads it from that text and runs it. It reads like code a person wrote: one function per term
named after its label, the SymPy residual in a comment above the line that computes it.

Code generation only prints: the plan says what to compute; `naming` chooses every identifier,
`helpers` holds the helper functions a plan may call, `functions` prints the functions at one
point, `wheres` the `where` conditions as numpy functions of points, and `module` gathers them
with the functions over a batch entry and the tables as data and formats the whole once.
"""
from .module import VERSION, generate

__all__ = ["generate", "VERSION"]
