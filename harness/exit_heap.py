"""A harness or test process leaves its heap to the operating system when it ends.

At exit the interpreter collects and frees its objects one by one: a `python -m harness`
command's botocore models, endpoints and clients, rich (~0.08 of a ~0.35 CPU-s command), a
pytest process's whole run (~0.9 CPU-s in the unit tier's). Frozen (``gc.freeze``), the
objects are skipped by the exit's collections: whatever a reference cycle still holds then
is not freed one by one, the system takes the memory back at once. Everything else ends as
before: the other atexit handlers run, buffered output is flushed, an object whose last
reference goes is finalized. It happens at exit only, never in the middle of a run (a pytest
run in-process, say); a pytest process's outermost run freezes it already at its end, once
pytest's last full collection is done (pytest_unconfigure below).
"""

from __future__ import annotations

import atexit
import gc
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI imports this module: no pytest there
    import pytest


# Young objects counted before a collection, then collections of each generation before the
# next older one is collected (Python's: 700, 10, 10). The CLI's and the test runs'.
THRESHOLDS = (50_000, 20, 100)


def collect_less_often() -> None:
    """The CLI's collector runs less often: a command imports ~1,000 modules (botocore, rich),
    and the collections while they load walked all that was already loaded, ~0.02 of a ~0.2
    CPU-s command (gc.callbacks; ~0.01 with THRESHOLDS). What is freed stays the same."""
    gc.set_threshold(*THRESHOLDS)


def leave_heap_at_exit() -> None:
    """Freeze the heap once the process's atexit handlers run (registered once, however
    often called)."""
    atexit.unregister(gc.freeze)
    atexit.register(gc.freeze)


# pytest runs under way in this process: a run inside a test's (pytester's, in-process) is not
# the outermost; the thresholds the outermost found, given back at its end.
_runs_under_way = 0
_thresholds_before = gc.get_threshold()


def pytest_configure(config: pytest.Config) -> None:
    """As a pytest plug-in (``-p harness.exit_heap`` in pyproject.toml): the run's process and
    each xdist worker. The outermost run's collector runs less often (THRESHOLDS): a test
    process holds a large heap for the whole run (botocore's models, moto's backends,
    cfn-lint's schemas, strands, the CDK's modules), and each full collection walked all of it.
    With Python's thresholds the functional tier's process spent 4.4 and 4.5 of its ~20 CPU-s
    in the collector, 1.4 and 1.6 with these (max RSS 546 -> 588 MB); the unit tier's 0.60-0.66
    -> 0.36-0.39 CPU-s; the end-to-end tier's three workers 0.26-0.64 -> 0.18-0.33 CPU-s each
    (gc.callbacks).
    Only when the collector runs changes: what it frees is the same."""
    global _runs_under_way, _thresholds_before
    if _runs_under_way == 0:
        _thresholds_before = gc.get_threshold()
        collect_less_often()
    _runs_under_way += 1
    leave_heap_at_exit()


def pytest_unconfigure(config: pytest.Config) -> None:
    """The outermost run (not one a test runs in-process) gives the thresholds back and freezes
    the heap, as its first cleanup. pytest's unraisable-exception plug-in collects the whole
    heap in its pytest_unconfigure, then again in its cleanup (after this one: the cleanups run
    last registered first), which walked all of it a second time (~0.45 CPU-s of the functional
    tier's process, ~0.14 of the unit tier's). What that first collection left is reachable, and
    is frozen: the run's garbage was collected (an unraisable exception in it reported), what
    the other cleanups make is collected as before, and a cycle one of them lets go of is left
    to the exit, which skips the frozen heap anyway."""
    global _runs_under_way
    _runs_under_way -= 1
    if _runs_under_way == 0:
        gc.set_threshold(*_thresholds_before)
        config.add_cleanup(gc.freeze)
