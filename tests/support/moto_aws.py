"""Moto's in-process AWS for the functional tier: one fixture instead of a copy per test file."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from harness.settings import LOCAL_REGION


@pytest.fixture
def moto_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every AWS service mocked in-process while the test runs, in ``LOCAL_REGION``. Moto
    puts fake credentials in the environment itself; the region is ours, so that a client
    the code under test builds without one (the agent's journal) finds it."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", LOCAL_REGION)
    with mock_aws():
        yield
