"""Unit tests never reach a runtime: drop endpoint overrides the shell (or make) exports."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _no_endpoint_overrides(monkeypatch):
    for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")]:
        monkeypatch.delenv(name)
