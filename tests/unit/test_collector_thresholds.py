"""A test run's collector runs less often (harness/exit_heap.py, a plug-in in pyproject.toml's
addopts: every run and xdist worker)."""

from __future__ import annotations

import gc

from harness.exit_heap import THRESHOLDS


def test_the_run_has_the_thresholds() -> None:
    assert gc.get_threshold() == THRESHOLDS
