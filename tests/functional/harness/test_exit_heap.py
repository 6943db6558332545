"""A `python -m harness` command, a pytest run and the agent (agent/app.py) leave their heap
to the system at exit (harness/exit_heap.py): the heap is frozen once their atexit handlers
run, so the exit's collections skip it; a pytest run's already after pytest's last full
collection, so that the unraisable-exception plug-in's second one walks only what is new; a
command's collector runs less often. Checked in a fresh interpreter, by what the collector
holds frozen and its thresholds, not by timing."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from harness.exit_heap import THRESHOLDS
from harness.settings import REPO_ROOT
from tests.support.helpers import UNUSED_PYTEST_PLUGINS

# Registered before the command's own handlers, so run after them (atexit runs the last first).
FROZEN_AT_EXIT = (
    "import atexit, gc, sys\n"
    "before = gc.get_freeze_count()  # the interpreter's start freezes a few\n"
    "atexit.register(lambda: print('frozen at exit:', gc.get_freeze_count() > before))\n"
)


pytest_plugins = ["pytester"]

# A pytest run's conftest: whether the heap is frozen when its cleanups run (registered at its
# start, so run after those registered later: the plug-in's freeze at the run's end).
AT_CLEANUP = """
import gc

BEFORE = gc.get_freeze_count()


def pytest_configure(config):
    config.add_cleanup(lambda: print("frozen at cleanup:", gc.get_freeze_count() > BEFORE))
"""

# Cyclic garbage whose finalizer raises: only a collection finds it, and pytest reports it.
LOUD_GARBAGE = """
class Loud:
    def __del__(self):
        raise RuntimeError("raised in __del__")


def test_leaves_cyclic_garbage():
    loud = Loud()
    loud.itself = loud
"""


def output_of(code: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", FROZEN_AT_EXIT + code, *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "frozen at exit:" in result.stdout, result.stdout + result.stderr
    return result.stdout + result.stderr


def frozen_at_exit(code: str, *args: str) -> bool:
    return "frozen at exit: True" in output_of(code, *args)


def test_a_harness_command_leaves_its_heap_at_exit():
    run_cli = "import runpy\nrunpy.run_module('harness', run_name='__main__')"
    assert frozen_at_exit(run_cli, "--help")  # argparse's exit: any way out


def test_a_harness_command_collects_less_often():
    """Its collector's thresholds are the test tiers' (harness.exit_heap.THRESHOLDS)."""
    run_cli = (
        "atexit.register(lambda: print('thresholds:', gc.get_threshold()))\n"
        "import runpy\n"
        "runpy.run_module('harness', run_name='__main__')"
    )
    assert f"thresholds: {THRESHOLDS}" in output_of(run_cli, "--help")


def test_a_pytest_run_freezes_its_heap_after_its_last_collection(tmp_path):
    (tmp_path / "conftest.py").write_text(AT_CLEANUP)
    (tmp_path / "test_garbage.py").write_text(LOUD_GARBAGE)
    run_pytest = "import pytest\nsys.exit(pytest.main(sys.argv[1:]))"
    # The repository's configuration (its addopts: the plug-in), a test outside it.
    configuration = str(REPO_ROOT / "pyproject.toml")
    arguments = ("-s", "-c", configuration, "-p", "no:cacheprovider", *UNUSED_PYTEST_PLUGINS)
    output = output_of(run_pytest, *arguments, str(tmp_path))
    assert "frozen at cleanup: True" in output, output
    assert "frozen at exit: True" in output, output
    # the run's garbage was collected before: its unraisable exception is reported
    assert "PytestUnraisableExceptionWarning" in output, output
    assert "raised in __del__" in output, output


def test_a_pytest_run_inside_a_test_leaves_the_heap_alone(pytester: pytest.Pytester) -> None:
    """This run's heap is not frozen at the end of a run a test makes in it (in-process)."""
    pytester.makepyfile("def test_nothing():\n    pass\n")
    before = gc.get_freeze_count()
    pytester.runpytest_inprocess("-p", "harness.exit_heap").assert_outcomes(passed=1)
    assert gc.get_freeze_count() == before


def test_the_agent_leaves_its_heap_at_exit():
    serve_nothing = (
        "from unittest import mock\n"
        "import agent.app\n"
        "with mock.patch('agent.server.build_app'):  # its app's run returns at once\n"
        "    agent.app.main()"
    )
    assert frozen_at_exit(serve_nothing)


def test_a_plain_interpreter_does_not():
    """The probe tells the two apart: without the plug-in nothing is frozen."""
    assert not frozen_at_exit("import harness.cli")
