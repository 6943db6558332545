"""Start-up patches that keep LocalStack's host process small (its on_infra_start hooks).

- Step Functions builds every service integration's client (``boto_client_for``) from a fresh
  STS AssumeRole of the state machine's role: new random keys each time, so LocalStack's
  client cache (an LRU of 256 keyed by the credentials) never hits, and fills up with clients
  nobody uses again (each with its own client class: ~0.2 MB; seen: 280 clients, 24,000
  operation docstrings after 100 sessions), for an AssumeRole and a client build per task.
  Here the client is kept per (service, region, role) for a while, as an SDK keeps its
  credentials until they near expiry. LocalStack enforces no IAM, so what a task may do and
  in which account it lands (the role's) are unchanged.
- Threads (a burst leaves ~100 gateway workers) and Python's own allocator leave freed memory
  in glibc's heaps; ``malloc_trim`` hands the free pages back to the system now and then.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from localstack.runtime import hooks

LOG = logging.getLogger(__name__)

# How long a Step Functions task client (and the role credentials in it) is reused; AWS's
# AssumeRole credentials last an hour by default.
CLIENT_TTL_SECONDS = 600.0
CLIENTS_KEPT = 64
TRIM_INTERVAL_SECONDS = 15.0


class ClientCache:
    """A small LRU of clients with an age limit, safe across threads."""

    def __init__(self, build: Callable[..., Any], size: int, ttl: float) -> None:
        self.build = build
        self.size = size
        self.ttl = ttl
        self.lock = threading.Lock()
        self.entries: OrderedDict[tuple[str, str, str], tuple[float, Any]] = OrderedDict()

    def __call__(self, service: str, region: str, state_credentials: Any) -> Any:
        key = (service, region, str(state_credentials.role_arn))
        now = time.monotonic()
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None and now - entry[0] < self.ttl:
                self.entries.move_to_end(key)
                return entry[1]
        client = self.build(service=service, region=region, state_credentials=state_credentials)
        with self.lock:
            self.entries[key] = (now, client)
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)
        return client


@hooks.on_infra_start()
def reuse_step_functions_clients() -> None:
    from localstack.services.stepfunctions.asl.utils import boto_client

    original = boto_client.boto_client_for
    cached = ClientCache(original, CLIENTS_KEPT, CLIENT_TTL_SECONDS)
    boto_client.boto_client_for = cached
    # Modules that imported it already hold the original: point them at the cache too.
    for name, module in list(sys.modules.items()):
        if name.startswith("localstack.services.stepfunctions") and (
            getattr(module, "boto_client_for", None) is original
        ):
            setattr(module, "boto_client_for", cached)  # noqa: B010 - any module


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None where the C library has none (macOS, musl)."""
    name = ctypes.util.find_library("c")
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    return trim


@hooks.on_infra_start()
def trim_freed_memory() -> None:
    trim = _malloc_trim()
    if trim is None:
        return

    def loop() -> None:
        while True:
            time.sleep(TRIM_INTERVAL_SECONDS)
            trim(0)

    threading.Thread(target=loop, daemon=True, name="malloc-trim").start()
