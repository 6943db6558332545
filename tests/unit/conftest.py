"""Unit tests never reach a runtime: drop endpoint and port overrides the shell (or make)
exports, so they see the documented defaults."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _no_endpoint_overrides(monkeypatch):
    for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("AGENT_PORT", raising=False)
    monkeypatch.delenv("AGENTCORE_STANDIN_PORT", raising=False)
