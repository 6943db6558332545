"""PYTHONDONTWRITEBYTECODE keeps bytecode out of the sources, not out of existence
(harness/bytecode.py): the synth and the test runs keep theirs in the runtime's cache."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from harness import bytecode

RUNTIME = Path("/checkout/.runtime")


def test_a_child_that_should_not_write_bytecode_keeps_it_in_the_cache() -> None:
    env = bytecode.kept_in_cache({"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/bin"}, RUNTIME)
    assert env == {"PYTHONPYCACHEPREFIX": "/checkout/.runtime/cache/pycache", "PATH": "/bin"}


def test_a_chosen_prefix_and_a_shell_without_the_variable_are_left_as_they_are() -> None:
    chosen = {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": "/mine"}
    assert bytecode.kept_in_cache(chosen, RUNTIME) == {"PYTHONPYCACHEPREFIX": "/mine"}
    assert bytecode.kept_in_cache({"PATH": "/bin"}, RUNTIME) == {"PATH": "/bin"}


@pytest.fixture
def interpreter(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """This interpreter's bytecode flags, restored after the test."""
    monkeypatch.setattr(sys, "dont_write_bytecode", sys.dont_write_bytecode)
    monkeypatch.setattr(sys, "pycache_prefix", sys.pycache_prefix)
    return monkeypatch


def test_this_interpreter_and_its_children_write_to_the_cache(interpreter) -> None:
    interpreter.setenv("PYTHONDONTWRITEBYTECODE", "1")
    interpreter.delenv("PYTHONPYCACHEPREFIX", raising=False)
    interpreter.setattr(sys, "dont_write_bytecode", True)
    interpreter.setattr(sys, "pycache_prefix", None)

    bytecode.keep_in_cache_here(RUNTIME)

    assert sys.dont_write_bytecode is False
    assert sys.pycache_prefix == "/checkout/.runtime/cache/pycache"
    assert "PYTHONDONTWRITEBYTECODE" not in os.environ
    assert os.environ["PYTHONPYCACHEPREFIX"] == "/checkout/.runtime/cache/pycache"


def test_an_interpreter_that_writes_bytecode_is_left_alone(interpreter) -> None:
    interpreter.setattr(sys, "dont_write_bytecode", False)
    interpreter.setattr(sys, "pycache_prefix", None)
    interpreter.delenv("PYTHONPYCACHEPREFIX", raising=False)

    bytecode.keep_in_cache_here(RUNTIME)

    assert sys.pycache_prefix is None
    assert "PYTHONPYCACHEPREFIX" not in os.environ


def test_this_test_run_writes_its_bytecode() -> None:
    """pytest_bytecode is loaded first: whatever the shell says, this run compiles once."""
    assert sys.dont_write_bytecode is False
