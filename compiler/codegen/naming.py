"""The identifiers of the generated module and the user text it quotes: every name is chosen
once, so that no user's label, field or param shadows another name or Python's own."""
from __future__ import annotations

import builtins
import keyword
from dataclasses import dataclass

from .. import ir
from ..derivatives import DerivativePlan
from ..errors import escaped


# Module-level names of the generated code that a user's name must not shadow.
MODULE_NAMES = {"jax", "jnp", "np", "residuals", "term_values", "loss", "EXACT", "DERIVED",
                "TERM_WEIGHTS", "_derivatives", "_with_tangents", "_nested", "_integral",
                "TERM_RESIDUALS", "_laplacian", "folx", "_taylor", "_taylor_series",
                "SHARED_RESIDUALS", "_mean", "FEATURES", "_collapsed", "_collapsed_derivative",
                "_laplacian_taylor", "_collapsed_series", "_laplacians", "_forward_laplacian",
                "WHERE"}

# Local names of a term function.
LOCAL_NAMES = {"fields", "params", "p", "e", "_", "passes"}


@dataclass(frozen=True)
class Names:
    """The identifiers of the module's functions, chosen once so that none shadows another."""
    functions: dict[str, str]                 # label -> its residual at one point
    integrands: dict[tuple[str, int], str]    # (label, k) -> its k-th integrand
    batched: dict[str, str]                   # label -> its residuals over its batch entry
    features: dict[str, tuple[str, str]]      # label -> (features, of_features)
    shared: dict[tuple[str, ...], tuple[str, str]]  # labels -> (at one point, over the entry)
    exact: dict[str, str]
    derived: dict[str, str]
    wheres: tuple[str, ...]                   # of each of `ir.Problem.wheres`, in order


def shared_labels(plan: DerivativePlan) -> set[str]:
    """The labels of the terms computed with others that share their points."""
    return {label for group in plan.shared for label in group.labels}


def choose_names(problem: ir.Problem, plan: DerivativePlan) -> Names:
    taken = set(MODULE_NAMES) | reserved()
    pick = lambda name: identifier(name, taken)
    together = shared_labels(plan)
    functions = {t.label: pick(t.label) for t in problem.terms if t.label not in together}
    integrands = {(t.label, k): pick(f"{t.label}_integrand{k}")
                  for t in problem.terms for k in range(len(t.integrals))}
    exact = {e.field: pick(f"exact_{e.field}") for e in problem.exact if e.expr is not None}
    derived = {d.name: pick(f"derived_{d.name}") for d in problem.derived}
    batched = {t.label: pick(f"{t.label}_residuals") for t in problem.terms}
    features = {t.label: (pick(f"{t.label}_features"), pick(f"{t.label}_of_features"))
                for t in problem.terms if plan.term(t.label).features is not None}
    shared = {}
    for group in plan.shared:
        name = pick("_".join(group.labels))
        shared[group.labels] = (name, pick(f"{name}_residuals"))
    wheres = tuple(pick(f"where{k}") for k in range(len(problem.wheres())))
    return Names(functions, integrands, batched, features, shared, exact, derived, wheres)


def reserved() -> set[str]:
    return set(keyword.kwlist) | set(keyword.softkwlist) | set(dir(builtins))


def identifier(name: str, taken: set[str]) -> str:
    """``name`` if free, else ``name_`` (and so on); marks the result taken."""
    while name in taken:
        name += "_"
    taken.add(name)
    return name


def docstring(term: ir.Term) -> str:
    return f"{term.label}: {quoted_text(' '.join(term.source.split()))}"


def quoted_text(text: str) -> str:
    """User text (a statement, a file name) as it may stand inside a docstring or a comment of
    the generated module: backslashes and quotes escaped, and every character that is not
    printable (NUL, line breaks, U+2028) written as its escape, so the text never ends the
    docstring or the line it stands in."""
    return escaped(text.replace("\\", "\\\\").replace('"', '\\"'))


def filename(problem: ir.Problem) -> str:
    return quoted_text(f"{problem.name}.pde")
