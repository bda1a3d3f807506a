"""The names the plan gives what it computes, as plans show them and generated code binds them."""
from __future__ import annotations

import sympy

MultiIndex = tuple[str, ...]  # the coordinates differentiated along: ("x", "x") for u_xx


def partial_name(field: str, index: MultiIndex) -> str:
    """``("x", "x")`` of u -> ``u_xx``; coordinates longer than a letter are joined by '_'."""
    if not index:
        return field
    joiner = "" if all(len(c) == 1 for c in index) else "_"
    return f"{field}_{joiner.join(index)}"


def point_text(point: tuple[sympy.Expr, ...]) -> str:
    """A point as the plan shows it: ``(0, t)``."""
    return f"({', '.join(sympy.sstr(c) for c in point)})"


def directional_name(field: str, node: sympy.Expr, index: int) -> str:
    """``u_n`` for the normal derivative ``dn(u)``, ``u_dir0`` and so on for other vectors."""
    normal = all("@normal" in str(c) for _, c in node.pairs)
    return f"{field}_n" if normal else f"{field}_dir{index}"


def combination_name(field: str) -> str:
    """``sum_u``: the name of a `Combination` of field u in generated code."""
    return f"sum_{field}"


def laplacian_name(field: str, node: sympy.Expr) -> str:
    """``lap_u``: the name of a `Laplacian` of field u in plans and generated code."""
    return f"lap_{field}"


def integral_label(label: str, index: int) -> str:
    """The label of the ``index``-th integral inside term ``label``: ``pde1.integral0``."""
    return f"{label}.integral{index}"


def shared_label(labels: tuple[str, ...]) -> str:
    """The label of the merged plan of terms sharing points: ``pde1+pde2``."""
    return "+".join(labels)
