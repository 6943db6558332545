"""Stopping a service stops its whole process tree, whatever group or session a child is in
(issue 12: a DynamoDB Local JVM, which LocalStack starts in its own session, outlived a
LocalStack that did not stop in time), and returns once the service is gone, not when its main
thread is (LocalStack's port still accepted connections after `down`). Real processes shaped
like LocalStack's, no runtime."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import textwrap
from pathlib import Path

import pytest

from harness.runtime.ports import free_port, port_in_use
from harness.runtime.processes import (
    ManagedProcess,
    ProcessSpec,
    descendants,
    pid_alive,
    session_members,
)
from tests.support.helpers import wait_for

pytestmark = pytest.mark.apart  # no runtime: beside the exclusive tests

SLEEPER = "import signal, sys, time\n{ignore}time.sleep(600)\n"
IGNORE_TERM = "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"


def _service(*, service_ignores_term: bool, child_ignores_term: bool) -> str:
    """A service with a child in its own session (as DynamoDB Local's JVM) and one in its group
    (as a Lambda environment); it prints the children's pids once they run."""
    child = SLEEPER.format(ignore=IGNORE_TERM if child_ignores_term else "")
    return textwrap.dedent(
        f"""
        import signal, subprocess, sys, time
        {"signal.signal(signal.SIGTERM, signal.SIG_IGN)" if service_ignores_term else ""}
        own_session = subprocess.Popen([sys.executable, "-c", {child!r}], start_new_session=True)
        same_group = subprocess.Popen([sys.executable, "-c", {child!r}])
        time.sleep(600)
        """
    )


@pytest.mark.parametrize(
    ("service_ignores_term", "child_ignores_term"),
    [
        pytest.param(True, False, id="service-does-not-stop-in-time"),
        pytest.param(False, True, id="service-exits-leaving-a-child"),
    ],
)
def test_stop_ends_every_process_of_the_tree(
    tmp_path: Path, service_ignores_term: bool, child_ignores_term: bool
) -> None:
    spec = ProcessSpec(
        name="fake-service",
        command=[
            sys.executable,
            "-c",
            _service(
                service_ignores_term=service_ignores_term, child_ignores_term=child_ignores_term
            ),
        ],
        env={},
        port=0,
        health_url="",
    )
    process = ManagedProcess(spec, tmp_path)
    pid = process.start()
    tree: set[int] = set()
    try:

        def children() -> set[int]:
            tree.update(descendants(pid))  # kept for the clean-up below, whatever happens
            return set(tree)

        wait_for(children, 30, "the fake service's two children", accept=lambda t: len(t) >= 2)
        assert len(tree) == 2, f"the fake service has other children than the two: {tree}"

        assert process.stop(timeout=1)

        # PollTimeout (processes of the tree outlived stop()) names the ones still alive.
        wait_for(
            lambda: {p for p in {pid} | tree if pid_alive(p)},
            30,
            "every process of the tree gone after stop()",
            interval=0.1,
            accept=lambda alive: not alive,
        )
        assert not process.pid_file.exists()
    finally:
        for leftover in {pid} | tree:  # never leave this test's own processes behind
            if pid_alive(leftover):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(leftover, signal.SIGKILL)


ORPHANING_SERVICE = """
import os, sys, time
if os.fork() == 0:  # a child (as a Lambda zygote) that forks a grandchild, then exits
    if os.fork() == 0:  # the grandchild (as an environment): its parent gone, init's child
        with open(sys.argv[1] + ".tmp", "w") as out:
            out.write(str(os.getpid()))
        os.rename(sys.argv[1] + ".tmp", sys.argv[1])
        time.sleep(600)
    os._exit(0)
os.wait()
time.sleep(600)
"""


def test_stop_ends_a_process_whose_parent_left_the_services_session_first(tmp_path: Path) -> None:
    # GIVEN a service whose child forked a grandchild and exited (as a Lambda environment
    # whose zygote LocalStack stopped: no descendant of LocalStack any more, still in its
    # session; one outlived `make test` on this machine)
    orphan_file = tmp_path / "orphan.pid"
    spec = ProcessSpec(
        name="orphaning-service",
        command=[sys.executable, "-c", ORPHANING_SERVICE, str(orphan_file)],
        env={},
        port=0,
        health_url="",
    )
    process = ManagedProcess(spec, tmp_path)
    pid = process.start()
    orphan = 0
    try:
        wait_for(orphan_file.exists, 30, "the grandchild's pid file", interval=0.05)
        orphan = int(orphan_file.read_text())
        assert orphan not in descendants(pid)
        assert orphan in session_members(pid)

        # WHEN the service is stopped
        assert process.stop(timeout=10)

        # THEN the grandchild is stopped with it
        wait_for(
            lambda: pid_alive(orphan),
            30,
            "the service's orphaned grandchild gone after stop()",
            interval=0.1,
            accept=lambda alive: not alive,
        )
    finally:
        for leftover in (pid, orphan):
            if leftover and pid_alive(leftover):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(leftover, signal.SIGKILL)


SLOWLY_EXITING_SERVICE = """
import ctypes, signal, socket, sys, threading, time
server = socket.socket()
server.bind(("127.0.0.1", int(sys.argv[1])))
server.listen(8)

def exit_slowly(*_):
    # As a big process's exit: its main thread ends first (a zombie), another still runs (as
    # LocalStack's last thread, freeing its memory) and the process keeps its listening socket.
    threading.Thread(target=time.sleep, args=(2,)).start()
    ctypes.CDLL(None).pthread_exit(None)

signal.signal(signal.SIGTERM, exit_slowly)
time.sleep(600)
"""


def test_stop_waits_for_a_process_whose_main_thread_ended_first(tmp_path: Path) -> None:
    # GIVEN a service listening on a port, whose main thread ends before its other thread
    port = free_port()
    spec = ProcessSpec(
        name="slowly-exiting-service",
        command=[sys.executable, "-c", SLOWLY_EXITING_SERVICE, str(port)],
        env={},
        port=port,
        health_url="",
    )
    process = ManagedProcess(spec, tmp_path)
    pid = process.start()
    try:
        wait_for(lambda: port_in_use(port), 30, "the service listening", interval=0.05)

        # WHEN it is stopped
        assert process.stop(timeout=30)

        # THEN stop() returned once the process was gone: its port is free
        assert not port_in_use(port)
        assert not pid_alive(pid)
    finally:
        if pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
