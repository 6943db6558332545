"""pytest fixtures for tests that need the local runtime (loaded with ``-p harness.pytest_plugin``).

Session-scoped and reuse-first: a runtime that is already up (``make up``) is used as it is
and left running; whatever a fixture had to start, it stops at the end of the session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from harness import aws
from harness.runtime import select_runtime
from harness.settings import Settings


@pytest.fixture(scope="session")
def harness_settings() -> Settings:
    return Settings()


@contextmanager
def running(settings: Settings, services: list[str]) -> Iterator[None]:
    """The named runtime services, started if needed and stopped after if this started them."""
    runtime = select_runtime(settings)
    started = runtime.up(services)
    try:
        yield
    finally:
        if started:
            runtime.down(started)


@pytest.fixture(scope="session")
def localstack(harness_settings: Settings) -> Iterator[str]:
    """LocalStack, running; yields its endpoint URL."""
    with running(harness_settings, ["localstack"]):
        yield harness_settings.endpoint_url


@pytest.fixture(scope="session")
def aws_client(localstack: str, harness_settings: Settings) -> Callable[[str], Any]:
    """``aws_client("dynamodb")``: a boto3 client pointed at the local runtime."""
    return lambda service: aws.client(service, harness_settings)
