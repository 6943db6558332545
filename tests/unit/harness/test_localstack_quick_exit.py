"""The LocalStack patches that end its process once its own shutdown is done: with the
runtime's exit code, after its last step, and never while an exception is on its way out;
and its server's loop woken to stop."""

from __future__ import annotations

import asyncio
import threading
import types

import pytest

from tests.support.helpers import plugin_module_with_stand_in_hooks


class Exited(Exception):
    """Stands for the process's end (os._exit), so the test goes on."""


@pytest.fixture
def quick_exit(monkeypatch):
    """The module with a stand-in for LocalStack's hooks, and os._exit recorded."""
    module = plugin_module_with_stand_in_hooks(monkeypatch, "quick_exit")
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


class Server:
    """Stands for LocalStack's Hypercorn server: its loop runs on a thread of its own, and its
    shutdown, called from another thread, stops it with a bare (not thread-safe) loop.stop()."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def shutdown(self) -> None:
        self.loop.stop()


def test_the_servers_stop_wakes_its_waiting_loop(quick_exit):
    # GIVEN the server's loop waiting for events, nothing scheduled
    server = Server()
    server.thread.start()
    idle = threading.Event()
    server.loop.call_soon_threadsafe(idle.set)
    assert idle.wait(30)
    # WHEN its shutdown runs on another thread, patched
    quick_exit.wake_loop_to_stop(Server.shutdown)(server)
    # THEN the loop stops (unpatched, it may wait for an event forever)
    server.thread.join(30)
    assert not server.thread.is_alive()
    server.loop.close()


def test_a_closed_loop_is_left_alone(quick_exit):
    server = Server()
    server.loop.close()
    quick_exit.wake_loop_to_stop(lambda server: None)(server)  # no "Event loop is closed"
    assert server.loop.is_closed()
