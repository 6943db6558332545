"""The unit and functional tiers' garbage collector runs less often: a tier's pytest process holds
a large heap for the whole run (moto's backends, botocore's models, cfn-lint's schemas, strands,
the CDK's modules), and each full collection walks all of it. With Python's thresholds
(700, 10, 10) the functional tier's pytest process spent 4.4 and 4.5 of its ~20 CPU-s in the
collector, with THRESHOLDS 1.4 and 1.6 (gc.callbacks, two runs each; max RSS 546 -> 588 MB);
the unit tier's 0.60-0.66 and 0.36-0.39 CPU-s (three runs each). Only when the collector runs
changes: what it frees is the same.
"""

from __future__ import annotations

import gc

import pytest

from harness.exit_heap import THRESHOLDS

__all__ = ["THRESHOLDS", "pytest_configure", "pytest_unconfigure"]

_BEFORE = pytest.StashKey[tuple[int, int, int]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_BEFORE] = gc.get_threshold()
    gc.set_threshold(*THRESHOLDS)


def pytest_unconfigure(config: pytest.Config) -> None:
    gc.set_threshold(*config.stash.get(_BEFORE, gc.get_threshold()))
