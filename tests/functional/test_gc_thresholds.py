"""The functional tier's collector (tests/support/gc_thresholds.py): at the run's end, pytest's
unraisable-exception plug-in collects the whole heap, then again at its cleanup; the second
walks only what is new, and an unraisable exception in the run's garbage is still reported.
Checked in a pytest run of its own, by what the collector holds frozen, not by timing."""

from __future__ import annotations

import os
import subprocess
import sys

from harness.settings import REPO_ROOT
from tests.support.helpers import UNUSED_PYTEST_PLUGINS

# The inner run's conftest: how many objects are frozen when its cleanups run (registered
# after the unraisable plug-in's, so run before it: LIFO), against the count at its start.
CONFTEST = """
import gc

BEFORE = gc.get_freeze_count()


def pytest_configure(config):
    config.add_cleanup(lambda: print("frozen at cleanup:", gc.get_freeze_count() > BEFORE))
"""

# Cyclic garbage whose finalizer raises: only a collection finds it.
TEST = """
class Loud:
    def __del__(self):
        raise RuntimeError("raised in __del__")


def test_leaves_cyclic_garbage():
    loud = Loud()
    loud.itself = loud
"""


def test_the_heap_is_frozen_after_the_runs_last_full_collection(tmp_path):
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_garbage.py").write_text(TEST)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-s",
            "-p",
            "tests.support.gc_thresholds",
            *UNUSED_PYTEST_PLUGINS,
            "-p",
            "no:cacheprovider",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = result.stdout + result.stderr
    assert "frozen at cleanup: True" in out, out
    assert "PytestUnraisableExceptionWarning" in out, out
    assert "raised in __del__" in out, out
