"""The unit tier's run collects garbage less often, as the functional tier's does
(tests/support/gc_thresholds.py, loaded by its conftest)."""

from __future__ import annotations

import gc

from tests.support.gc_thresholds import THRESHOLDS


def test_the_tier_runs_with_the_tiers_thresholds() -> None:
    assert gc.get_threshold() == THRESHOLDS
