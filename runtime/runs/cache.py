"""JAX's persistent compilation cache for the command line.

`pinnc train` compiles a handful of programs (a chunk of steps per optimizer, the
evaluation); XLA's compile takes most of a small run's time. With JAX's persistent cache, a
second run of the same program (the same spec and options; the same seed too where points
are resampled or refined, since their key is a constant of the program) loads them from disk:
poisson.pde at 60 points trains in 8.5 s instead of 24 s on the second run.

Where: ``$PINNC_CACHE`` if set (``off``, ``0`` or empty: no cache), else
``$XDG_CACHE_HOME/pinnc/xla`` (``~/.cache/pinnc/xla``), at most `MAX_BYTES` (JAX evicts the
least recently used entries). A JAX setting of the user's own (``JAX_COMPILATION_CACHE_DIR``)
wins. The Python API leaves JAX's configuration alone: call `use_compilation_cache` there.
"""
from __future__ import annotations

import os
from pathlib import Path

import jax

MAX_BYTES = 2 ** 30
_OFF = {"", "0", "off", "no", "false", "none"}


def cache_directory() -> Path | None:
    """The directory the cache goes to, from the environment; None when it is turned off."""
    setting = os.environ.get("PINNC_CACHE")
    if setting is not None:
        return None if setting.strip().lower() in _OFF else Path(setting).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pinnc" / "xla"


def use_compilation_cache() -> Path | None:
    """Turn JAX's persistent compilation cache on at `cache_directory` (unless JAX already has
    one configured); the directory in use, or None. A directory that cannot be made (a
    read-only home) means no cache, never an error: the cache only saves time."""
    configured = jax.config.jax_compilation_cache_dir
    if configured:
        return Path(configured)
    directory = cache_directory()
    if directory is None:
        return None
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    jax.config.update("jax_compilation_cache_dir", str(directory))
    if jax.config.jax_compilation_cache_max_size == -1:  # unlimited: JAX's default
        jax.config.update("jax_compilation_cache_max_size", MAX_BYTES)
    return directory
