"""Moto's in-process AWS for the functional tier: one fixture instead of a copy per test file."""

from __future__ import annotations

import functools
from collections.abc import Iterator

import boto3
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
        boto3.DEFAULT_SESSION = mocked_default_session()  # moto's stop puts back the one before
        yield


@functools.cache
def mocked_default_session() -> boto3.Session:
    """boto3's default session under moto, one for the run. Moto starts each mock with none (a
    session made before moto was imported would miss its hooks), so each test's first
    ``boto3.client`` made one again: botocore's handlers registered anew, ~7 ms each, 66 times
    in the tier. This one is made under a mock, after moto's import, with the test's clean
    environment (no shell set-up), and used under mocks only: its credentials are moto's, its
    region is read from the environment at each client, as before."""
    return boto3.Session()
