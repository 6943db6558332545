"""A `python -m harness` command, a pytest run and the agent (agent/app.py) leave their heap
to the system at exit (harness/exit_heap.py): the heap is frozen once their atexit handlers
run, so the exit's collections skip it. Checked in a fresh interpreter, by what the collector
holds frozen, not by timing."""

from __future__ import annotations

import subprocess
import sys

from harness.settings import REPO_ROOT
from tests.support.helpers import UNUSED_PYTEST_PLUGINS

# Registered before the command's own handlers, so run after them (atexit runs the last first).
FROZEN_AT_EXIT = (
    "import atexit, gc, sys\n"
    "before = gc.get_freeze_count()  # the interpreter's start freezes a few\n"
    "atexit.register(lambda: print('frozen at exit:', gc.get_freeze_count() > before))\n"
)


def frozen_at_exit(code: str, *args: str) -> bool:
    result = subprocess.run(
        [sys.executable, "-c", FROZEN_AT_EXIT + code, *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "frozen at exit:" in result.stdout, result.stdout + result.stderr
    return "frozen at exit: True" in result.stdout


def test_a_harness_command_leaves_its_heap_at_exit():
    run_cli = "import runpy\nrunpy.run_module('harness', run_name='__main__')"
    assert frozen_at_exit(run_cli, "--help")  # argparse's exit: any way out


def test_a_pytest_run_leaves_its_heap_at_exit(tmp_path):
    (tmp_path / "test_nothing.py").write_text("def test_nothing():\n    pass\n")
    run_pytest = "import pytest\nsys.exit(pytest.main(sys.argv[1:]))"
    # The repository's configuration (its addopts: the plug-in), a test outside it.
    configuration = str(REPO_ROOT / "pyproject.toml")
    arguments = ("-q", "-c", configuration, "-p", "no:cacheprovider", *UNUSED_PYTEST_PLUGINS)
    assert frozen_at_exit(run_pytest, *arguments, str(tmp_path))


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
