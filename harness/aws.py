"""One place that builds boto3 clients: LocalStack endpoint and test credentials locally."""

from __future__ import annotations

import threading
from functools import cache
from typing import Any

import boto3
import botocore.session
from botocore.config import Config

from harness.settings import Settings

LOCAL_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
# Clients are shared across threads (load tests, the bench publish in parallel): a pool
# wider than botocore's default 10 keeps their connections instead of discarding them.
_CONFIG = Config(
    retries={"max_attempts": 3, "mode": "standard"},
    connect_timeout=5,
    read_timeout=60,
    max_pool_connections=32,
)
# On AWS, ignore AWS_ENDPOINT_URL* from the shell (the Makefile exports the local one).
_AWS_CONFIG = _CONFIG.merge(Config(ignore_configured_endpoint_urls=True))


# One session makes every local client of the process: its loader and endpoint resolver parse
# botocore's JSON data (endpoints, partitions, retry and default settings) once, not per client
# (a `python -m harness trigger --wait` makes four). A botocore session is not safe to make
# clients from in several threads at once (the bench's and the deploy's threads do): one at a time.
_MAKING_A_CLIENT = threading.Lock()


@cache
def _local_session() -> boto3.Session:
    """A session with the local test credentials that ignores the shell's AWS_PROFILE
    (a profile that does not exist would otherwise fail every local call)."""
    core = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
    return boto3.Session(botocore_session=core, **LOCAL_CREDENTIALS)


@cache
def client(service: str, settings: Settings) -> Any:
    """A boto3 client for ``service`` on the harness target (local runtime or real AWS)."""
    if settings.is_local:
        with _MAKING_A_CLIENT:
            return _local_session().client(
                service,
                endpoint_url=settings.endpoint_url,
                region_name=settings.region,
                config=_CONFIG,
            )
    return boto3.client(service, region_name=settings.region, config=_AWS_CONFIG)
