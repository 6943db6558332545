"""The LocalStack patch that ends its process once its own shutdown is done: with the
runtime's exit code, after its last step, and never while an exception is on its way out."""

from __future__ import annotations

import importlib.util
import sys
import types

import pytest

from harness.settings import REPO_ROOT

QUICK_EXIT = REPO_ROOT / "harness/localstack_host_lambda/localstack_host_lambda/quick_exit.py"


class Exited(Exception):
    """Stands for the process's end (os._exit), so the test goes on."""


@pytest.fixture
def quick_exit(monkeypatch):
    """The module with a stand-in for LocalStack's hooks, and os._exit recorded."""
    hooks = types.SimpleNamespace(on_runtime_create=lambda: lambda function: function)
    monkeypatch.setitem(sys.modules, "localstack", types.SimpleNamespace())
    monkeypatch.setitem(sys.modules, "localstack.runtime", types.SimpleNamespace(hooks=hooks))
    spec = importlib.util.spec_from_file_location("localstack_quick_exit", QUICK_EXIT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    codes: list[int] = []

    def exit_(code: int) -> None:
        codes.append(code)
        raise Exited

    monkeypatch.setattr(module.os, "_exit", exit_)
    module.codes = codes
    return module


def test_the_process_ends_after_the_runtimes_last_step_with_its_code(quick_exit):
    steps = []
    on_return = quick_exit.exit_when_returned(lambda runtime: steps.append("cleaned up"))
    with pytest.raises(Exited):
        on_return(types.SimpleNamespace(exit_code=3))
    assert steps == ["cleaned up"]
    assert quick_exit.codes == [3]


def test_a_runtime_ending_with_an_exception_takes_the_usual_way_out(quick_exit):
    on_return = quick_exit.exit_when_returned(lambda runtime: None)

    def run() -> None:
        try:
            raise RuntimeError("the server failed")
        finally:
            on_return(types.SimpleNamespace(exit_code=0))

    with pytest.raises(RuntimeError, match="the server failed"):
        run()
    assert quick_exit.codes == []
