"""Modules that live as long as the process, loaded once and then left out of the collector.

The agent's start loads ~1,000 modules (the AgentCore SDK, the web framework, boto3), its first
session ~1,000 more (Strands, its telemetry). While they load, the collector ran ~100 times,
each walking what was already loaded, and every later collection walked it all again. Loaded
in ``kept_for_good`` there is no collection while they load, and once frozen (``gc.freeze``)
no collection walks them again. Their own cyclic garbage is frozen with them instead of
freed (~0.3 MB at the start, ~0.5 MB at the first session); sessions' garbage is collected as
before.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def kept_for_good() -> Iterator[None]:
    """The collector is off in the block; what it loaded is frozen if it ends normally; the
    collector is on again after it, however it ends."""
    gc.disable()
    try:
        yield
        gc.freeze()
    finally:
        gc.enable()
