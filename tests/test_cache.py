"""The command line's persistent compilation cache: where it goes, and how it is turned off."""
from __future__ import annotations

import os
from pathlib import Path

import jax

from pinnc.runtime.runs.cache import cache_directory, use_compilation_cache


def test_the_cache_directory_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PINNC_CACHE", str(tmp_path / "mine"))
    assert cache_directory() == tmp_path / "mine"
    for off in ("off", "0", "", "No"):
        monkeypatch.setenv("PINNC_CACHE", off)
        assert cache_directory() is None
    monkeypatch.delenv("PINNC_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_directory() == tmp_path / "pinnc" / "xla"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_directory() == Path.home() / ".cache" / "pinnc" / "xla"


def test_a_cache_jax_already_has_is_kept(monkeypatch, tmp_path):
    # the test session configured one (conftest); the command line keeps it, wherever
    # PINNC_CACHE points now, and it is bounded
    assert jax.config.jax_compilation_cache_dir == os.environ["PINNC_CACHE"]
    session = Path(os.environ["PINNC_CACHE"])
    monkeypatch.setenv("PINNC_CACHE", str(tmp_path / "elsewhere"))
    assert use_compilation_cache() == session
    assert not (tmp_path / "elsewhere").exists()
    assert jax.config.jax_compilation_cache_max_size == 2 ** 30
