"""Health checks over HTTP (waiting on them: ``harness.polling.poll``)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from harness.errors import HarnessError


class NotReady(HarnessError):
    """A service will not become ready (e.g. its process exited while starting)."""


def get_json(url: str, timeout: float = 2.0) -> Any | None:
    """The JSON body of a 2xx GET, or None when the service does not answer."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return json.loads(response.read() or b"null")
    except (urllib.error.URLError, OSError, ValueError):
        return None
