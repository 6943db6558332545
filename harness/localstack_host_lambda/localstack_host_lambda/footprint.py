"""A start-up patch that keeps LocalStack's host process small (its on_infra_start hook).

Threads (a burst leaves ~100 gateway workers) and Python's own allocator leave freed memory
in glibc's heaps; ``malloc_trim`` hands the free pages back to the system now and then.
(Step Functions' per-task clients, which filled LocalStack's client cache, are reused since
``speedups.cache_assumed_roles`` keeps each role's client factory.)
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
import time
from collections.abc import Callable

from localstack.runtime import hooks

TRIM_INTERVAL_SECONDS = 15.0


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
