"""The end-to-end tier runs on this checkout's runtime: ``harness_settings`` is taken before any
test, so when another checkout's runtime holds the configured ports, the free ports it picks
are exported for every test, including those that only start ``python -m harness`` or
``make`` (e.g. ``make agent``) and never ask for the fixture themselves."""

from __future__ import annotations

import pytest

from harness.settings import Settings


@pytest.fixture(scope="session", autouse=True)
def _this_checkouts_ports(harness_settings: Settings) -> Settings:
    return harness_settings
