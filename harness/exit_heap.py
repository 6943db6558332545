"""A harness or test process leaves its heap to the operating system when it ends.

At exit the interpreter collects and frees its objects one by one: a `python -m harness`
command's botocore models, endpoints and clients, rich (~0.08 of a ~0.35 CPU-s command), a
pytest process's whole run (~0.9 CPU-s in the unit tier's). Frozen (``gc.freeze``), the
objects are skipped by the exit's collections: whatever a reference cycle still holds then
is not freed one by one, the system takes the memory back at once. Everything else ends as
before: the other atexit handlers run, buffered output is flushed, an object whose last
reference goes is finalized. It happens at exit only, never in the middle of a run (a pytest
run in-process, say).
"""

from __future__ import annotations

import atexit
import gc
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI imports this module: no pytest there
    import pytest


def leave_heap_at_exit() -> None:
    """Freeze the heap once the process's atexit handlers run (registered once, however
    often called)."""
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)


def pytest_configure(config: pytest.Config) -> None:
    """As a pytest plug-in (``-p harness.exit_heap`` in pyproject.toml): the run's process and
    each xdist worker."""
    leave_heap_at_exit()
