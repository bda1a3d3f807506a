"""The package's import structure, read from its source with `ast`: no import cycle, no import
inside a function but the few listed here, the runtime's layers each importing only those below
it, and generated modules importing only JAX, folx, numpy and the runtime's kernels."""
from __future__ import annotations

import ast
import importlib.util
import pkgutil
from pathlib import Path

import pytest

import pinnc
from pinnc.compiler.pipeline import compile_text

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# The runtime's layers, bottom to top: each imports only from its own layer or those before it.
LAYERS = ("kernels", "geometry", "model", "optim", "runs", "training")
# What of the compiler the runtime may use: its types and errors, never its stages.
COMPILER_FOR_RUNTIME = {"pinnc.compiler", "pinnc.compiler.ir", "pinnc.compiler.errors",
                        "pinnc.compiler.files", "pinnc.compiler.limits"}
# Imports inside a function, (module, imported module prefix): each defers a heavy import.
ALLOWED_IN_FUNCTIONS = {
    ("pinnc", "pinnc.api"): "`import pinnc` and `pinnc check` do not import JAX",
    ("pinnc.cli", "pinnc.api"): "`pinnc check` and `pinnc compile` start without JAX",
    ("pinnc.cli", "pinnc.runtime"): "`pinnc check` and `pinnc compile` start without JAX",
    ("pinnc.cli", "jax"): "`pinnc check` and `pinnc compile` start without JAX",
    ("pinnc.cli", "numpy"): "only `pinnc eval` needs it",
    ("pinnc.runtime.runs.events", "tensorboardX"): "only runs with a folder pay its import",
}


def _modules() -> dict[str, Path]:
    """{module name: source file} for every module of the installed package."""
    modules = {"pinnc": Path(pinnc.__file__)}
    for info in pkgutil.walk_packages(pinnc.__path__, "pinnc."):
        modules[info.name] = Path(importlib.util.find_spec(info.name).origin)
    return modules


MODULES = _modules()


def _imports(name: str, path: Path) -> list[tuple[str, bool]]:
    """(imported module, inside a function) for every import of module ``name``; ``from P
    import m`` counts as an import of P.m where that is a module of the package."""
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.Import):
            found.extend((alias.name, in_function) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                prefix = ".".join(parts[:len(parts) - node.level + 1])
                base = f"{prefix}.{base}" if base else prefix
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.append((sub if sub in MODULES else base, in_function))
        inside = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                  ast.Lambda))
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(tree, False)
    return found


IMPORTS = {name: _imports(name, path) for name, path in MODULES.items()}


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) > 2 and parts[1] == "runtime" and parts[2] in LAYERS:
        return LAYERS.index(parts[2])
    return None


def test_every_stage_and_layer_is_found():
    for expected in ("pinnc.api", "pinnc.cli", "pinnc.compiler.pipeline",
                     *(f"pinnc.runtime.{layer}" for layer in LAYERS)):
        assert expected in MODULES


def test_there_is_no_import_cycle():
    graph = {name: {m for m, _ in imports if m in MODULES and m != name}
             for name, imports in IMPORTS.items()}
    done, path = set(), []

    def visit(name: str) -> None:
        if name in path:
            cycle = path[path.index(name):] + [name]
            pytest.fail(f"import cycle: {' -> '.join(cycle)}")
        if name in done:
            return
        path.append(name)
        for target in sorted(graph[name]):
            visit(target)
        path.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)


def test_imports_inside_functions_are_only_the_deferred_heavy_ones():
    for name, imports in IMPORTS.items():
        for target, in_function in imports:
            if in_function:
                assert any(name == module and _within(target, prefix)
                           for module, prefix in ALLOWED_IN_FUNCTIONS), (
                    f"{name} imports {target} inside a function")


def test_each_runtime_layer_imports_only_from_itself_and_the_layers_below():
    for name, imports in IMPORTS.items():
        layer = _layer(name)
        if not _within(name, "pinnc.runtime"):
            continue
        for target, _ in imports:
            if not _within(target, "pinnc"):
                continue
            if _within(target, "pinnc.compiler"):
                assert layer != 0 and target in COMPILER_FOR_RUNTIME, f"{name} imports {target}"
                continue
            assert _within(target, "pinnc.runtime"), f"{name} imports {target}"
            assert target == "pinnc.runtime" or _layer(target) is not None, target
            assert layer is not None and _layer(target) <= layer, f"{name} imports {target}"


def test_the_runtime_geometry_never_imports_sympy():
    for name, imports in IMPORTS.items():
        if _within(name, "pinnc.runtime.geometry"):
            assert not any(_within(t, "sympy") for t, _ in imports), name


def test_the_runtime_never_compiles_and_the_compiler_never_runs():
    stages = ("pinnc.compiler.pipeline", "pinnc.compiler.analyze", "pinnc.compiler.parse")
    for name, imports in IMPORTS.items():
        targets = [target for target, _ in imports]
        if _within(name, "pinnc.runtime"):
            assert not any(_within(t, s) for t in targets for s in stages), name
        if _within(name, "pinnc.compiler"):
            assert all(_within(t, "pinnc.compiler") for t in targets if _within(t, "pinnc")), name
    # only `python -m pinnc` (pinnc/__main__.py) runs the command line
    assert not any(_within(t, "pinnc.cli") for n, imports in IMPORTS.items()
                   if n not in ("pinnc.cli", "pinnc.__main__") for t, _ in imports)


def _generated_imports(source: str) -> set[str]:
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0
            imported.add(node.module)
    return imported


def _forty_coordinates() -> str:
    coords = [f"x{i}" for i in range(40)]
    return (f"domain O = box({', '.join(f'{c} in [0, 1]' for c in coords)})\n"
            f"field u({', '.join(coords)})\n"
            "pde lap(u) = 0 in O\n"
            "pde D(u, x0, x0, x0, x0) + x1*D(u, x1, x1, x1, x1) + u*D(u, x0, x0, x1, x1) = 0 in O\n"
            "pde D(u, x0, x0, x0, x0) + D(u, x1, x1, x1, x1) = 0 in O\n"
            "bc u = 0 on boundary(O)\n")


@pytest.mark.parametrize("name", ["poisson", "forty", "burgers"])
def test_a_generated_module_imports_only_jax_folx_numpy_and_the_kernels(name):
    text = (_forty_coordinates() if name == "forty"
            else (EXAMPLES / f"{name}.pde").read_text())
    imported = _generated_imports(compile_text(text, f"{name}.pde").source)
    assert any(_within(m, "pinnc.runtime.kernels") for m in imported)
    if name == "forty":  # a batched Laplacian (folx), Taylor mode and a collapsed pass
        kernels = {"pinnc.runtime.kernels.laplacian", "pinnc.runtime.kernels.taylor"}
        assert {"folx", *kernels} <= imported
    assert ("numpy" in imported) == (name == "burgers")  # its `where` conditions
    assert all(m in ("jax", "folx", "numpy") or _within(m, "jax")
               or _within(m, "pinnc.runtime.kernels") for m in imported), imported


def test_every_subpackage_is_installed():
    """pyproject.toml lists packages by name: a folder it misses would be left out of a wheel."""
    tomllib = pytest.importorskip("tomllib")
    root = Path(pinnc.__file__).resolve().parent
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {"pinnc"} | {
        "pinnc." + ".".join(init.parent.relative_to(root).parts)
        for top in ("compiler", "runtime") for init in (root / top).rglob("__init__.py")}
    assert found == listed
