"""Bounded waiting on HTTP endpoints."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from harness.errors import HarnessError


class NotReady(HarnessError):
    """A service did not become ready within its time limit."""


def get_json(url: str, timeout: float = 2.0) -> Any | None:
    """The JSON body of a 2xx GET, or None when the service does not answer."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return json.loads(response.read() or b"null")
    except (urllib.error.URLError, OSError, ValueError):
        return None


def wait_until(
    check: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    interval: float = 0.2,
    abort: Callable[[], str | None] = lambda: None,
) -> float:
    """Poll ``check`` until true; returns the seconds waited, raises NotReady on timeout.

    ``abort`` returns a reason to stop early (e.g. the process died), or None.
    """
    started = time.monotonic()
    while True:
        if check():
            return time.monotonic() - started
        if reason := abort():
            raise NotReady(f"{what}: {reason}")
        if time.monotonic() - started > timeout:
            raise NotReady(f"{what}: not ready after {timeout:.0f} s")
        time.sleep(interval)
