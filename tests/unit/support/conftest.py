"""The caches the tests keep by content (tests/support/synth_cache.py, lint_cache.py), each
tested with one input file standing for all of theirs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest


@pytest.fixture
def one_input(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[[ModuleType, str, str], Path]:
    """``one_input(module, name, text)``: the cache in ``module`` reads one file, ``name`` with
    ``text`` (its INPUTS), and keeps its entries in tmp_path (its CACHE_DIR)."""

    def make(module: ModuleType, name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text)
        monkeypatch.setattr(module, "INPUTS", (path,))
        monkeypatch.setattr(module, "CACHE_DIR", tmp_path / "cache")
        return path

    return make
