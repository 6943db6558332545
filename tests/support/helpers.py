"""Helpers the test tiers share: one bounded wait, a free port, the harness CLI as users run it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.runtime.ownership import free_port
from harness.settings import REPO_ROOT

__all__ = ["free_port", "run_harness", "wait_for"]


def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll ``check`` until it returns something truthy, and return that (bounded; an OSError
    counts as not yet). Raises AssertionError naming ``what`` and the last thing seen."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except OSError as error:
            last = error
        else:
            if last:
                return last
        time.sleep(interval)
    raise AssertionError(f"{what} not seen within {timeout} s (last: {last!r})")


def run_harness(
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 300,
    cwd: Path = REPO_ROOT,
) -> subprocess.CompletedProcess[str]:
    """``python -m harness ARGS`` in ``cwd`` (the repository), its output captured as text;
    ``env`` is the whole environment (default: this process's)."""
    return subprocess.run(
        [sys.executable, "-m", "harness", *args],
        cwd=cwd,
        env=os.environ.copy() if env is None else env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
