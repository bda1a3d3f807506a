"""pinnc: compile symbolic PDE specifications to trained physics-informed neural networks.

    import jax, pinnc
    problem = pinnc.compile_file("poisson.pde", points=4000)
    params = problem.init(jax.random.key(0))
    batch = problem.sample(jax.random.key(1))
    problem.loss(params, batch)
    result = problem.train()
    result.save("runs/poisson"); pinnc.load_run("runs/poisson")
"""
from importlib import metadata as _metadata

from .compiler.errors import FileError, SpecError

try:  # one version, pyproject.toml's, as installed
    __version__ = _metadata.version("pinnc")
except _metadata.PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "unknown"
__all__ = ["SpecError", "FileError", "compile_file", "compile_source", "load_run", "Problem",
           "TrainResult", "distributed"]


def __getattr__(name):
    # The API imports JAX; load it on first use so that `pinnc check` starts fast.
    if name in ("compile_file", "compile_source", "load_run", "Problem", "TrainResult",
                "distributed"):
        from . import api
        return getattr(api, name)
    raise AttributeError(f"module 'pinnc' has no attribute {name!r}")
