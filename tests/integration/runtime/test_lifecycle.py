"""`up` twice is a no-op the second time; `down` leaves no process behind (issue 3).

Runs its own LocalStack on a free port (sharing the cached installs), so it never touches
the runtime other tests or the user are using.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from harness.runtime.ownership import listening_pid
from harness.runtime.ports import port_in_use
from harness.runtime.processes import cmdline, descendants, pid_alive
from harness.settings import Settings
from tests.support.helpers import (
    REPO_ROOT,
    client_with_test_credentials,
    free_port,
    run_harness,
    wait_for,
)

pytestmark = pytest.mark.apart  # a LocalStack of its own on a free port, no shared service
# A frozen LocalStack never stops by itself: `down`'s grace before the kill (15 s) only waits.
# Ctrl-C must reach `down` within it (5 s); where nothing happens meanwhile, 1 s.
FROZEN_GRACE = {"HARNESS_STOP_TIMEOUT": "5"}
FROZEN_GRACE_UNUSED = {"HARNESS_STOP_TIMEOUT": "1"}
# A LocalStack that stops by itself takes 2-6 s, but many times that on a loaded machine: a test
# that checks nothing had to be killed gives it room, so that it asserts no speed.
SELF_STOP_GRACE = {"HARNESS_STOP_TIMEOUT": "120"}


def _client(service: str, endpoint: str):
    return client_with_test_credentials(service, endpoint)


def _function(endpoint: str, name: str, handler_source: str):
    """A python3.12 function ``name`` running ``handler_source``, active; its Lambda client."""
    lam = _client("lambda", endpoint)
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("handler.py", handler_source)
    lam.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role="arn:aws:iam::000000000000:role/r",
        Handler="handler.handler",
        Code={"ZipFile": code.getvalue()},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return lam


def _exercise(endpoint: str) -> None:
    """Make LocalStack start its DynamoDB JVM and a host Lambda process."""
    _client("dynamodb", endpoint).list_tables()
    lam = _function(endpoint, "lifecycle", "def handler(event, context):\n    return 'ok'\n")
    assert lam.invoke(FunctionName="lifecycle")["Payload"].read() == b'"ok"'


def _isolated() -> tuple[int, dict[str, str], Path]:
    """A free port for a LocalStack of the test's own: the port, the environment that puts
    the harness there, and that instance's pid file."""
    port = free_port()
    env = {**os.environ, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "HARNESS_RUNTIME": "host"}
    return port, env, Settings().runtime_dir / "run" / f"localstack-{port}.pid"


def _up_and_exercised(env: dict[str, str], pid_file: Path) -> int:
    """Start the isolated LocalStack, have it start its children; returns its pid."""
    up = run_harness("up", "--service", "localstack", env=env)
    assert up.returncode == 0, up.stdout + up.stderr
    _exercise(env["AWS_ENDPOINT_URL"])
    return int(pid_file.read_text())


def _listener(port: int) -> str:
    """Empty when nothing accepts connections on ``port``; else what does (pid and command),
    so that a failure names it. No pid: a socket no live process shows among its files, as
    a process whose main thread has exited while its last thread still tears it down."""
    if not port_in_use(port):
        return ""
    pid = listening_pid(port)
    return f"port {port} accepts connections: pid {pid} {cmdline(pid) if pid else '(unknown)'}"


@pytest.mark.slow(seconds=35)
def test_down_stops_localstacks_children_even_when_localstack_hangs():
    # GIVEN LocalStack on a free port with its DynamoDB JVM (in a session of its own) and a
    # Lambda environment running, and LocalStack itself frozen (it cannot stop them)
    port, env, pid_file = _isolated()
    tree: set[int] = set()
    try:
        pid = _up_and_exercised(env, pid_file)
        tree = {pid} | descendants(pid)
        assert any("java" in cmdline(p) for p in tree), "expected DynamoDB Local's JVM"
        os.kill(pid, signal.SIGSTOP)
    finally:
        # WHEN it is brought down
        down = run_harness("down", "--service", "localstack", env={**env, **FROZEN_GRACE_UNUSED})

    # THEN LocalStack and every process below it are gone
    assert down.returncode == 0, down.stdout + down.stderr
    assert [p for p in tree if pid_alive(p)] == []
    assert _listener(port) == ""


def _burst(endpoint: str, environments: int) -> None:
    """Have LocalStack run ``environments`` Lambda environments at once (a bench's burst)."""
    lam = _function(
        endpoint, "burst", "import time\ndef handler(event, context):\n    time.sleep(1)\n"
    )
    with ThreadPoolExecutor(environments) as pool:
        list(pool.map(lambda _: lam.invoke(FunctionName="burst"), range(environments)))


@pytest.mark.slow(seconds=40)
def test_up_twice_reuses_then_down_after_a_burst_stops_everything_without_a_kill():
    """One LocalStack for both halves (a start with its DynamoDB JVM and a Lambda environment
    costs seconds of CPU): the second `up` reuses the first runtime; after a burst, `down` lets
    LocalStack stop its many Lambda environments and its JVM by itself; nothing is left."""
    # GIVEN a free port and no runtime on it
    port, env, pid_file = _isolated()
    tree: set[int] = set()
    try:
        # WHEN it is brought up twice
        first = run_harness("up", "--service", "localstack", env=env)
        assert first.returncode == 0, first.stdout + first.stderr
        assert "ready in" in first.stdout
        pid = int(pid_file.read_text())
        _exercise(env["AWS_ENDPOINT_URL"])

        second = run_harness("up", "--service", "localstack", env=env)

        # THEN the second call reuses the first runtime
        assert second.returncode == 0, second.stdout + second.stderr
        assert "already running" in second.stdout
        assert "starting" not in second.stdout
        assert int(pid_file.read_text()) == pid
        children = descendants(pid)
        assert children, "expected the DynamoDB JVM and a Lambda process under LocalStack"

        # GIVEN then a burst: many Lambda environments (in its process group) and the JVM
        _burst(env["AWS_ENDPOINT_URL"], 12)
        tree = {pid} | descendants(pid)
    finally:
        # WHEN it is brought down
        down = run_harness("down", "--service", "localstack", env={**env, **SELF_STOP_GRACE})

    # THEN LocalStack stopped everything by itself: nothing had to be killed, nothing is left
    assert down.returncode == 0, down.stdout + down.stderr
    assert "stopped: localstack" in down.stdout
    assert "did not stop" not in down.stdout + down.stderr
    assert not pid_alive(pid)
    assert [p for p in children | tree if pid_alive(p)] == []
    assert _listener(port) == ""
    assert not pid_file.exists()


def _signal_pending(pid: int, signum: int) -> bool:
    """Whether ``signum`` waits, undelivered, for the (stopped) process ``pid``."""
    status = Path(f"/proc/{pid}/status").read_text()
    pending = next(line for line in status.splitlines() if line.startswith("ShdPnd:"))
    return bool(int(pending.split()[1], 16) & (1 << (signum - 1)))


@pytest.mark.slow(seconds=35)
def test_ctrl_c_during_down_waits_for_the_stop_then_exits_interrupted():
    # GIVEN LocalStack on a free port with its children, frozen, so `down` is stopping it for
    # a while (its grace, then a kill)
    port, env, pid_file = _isolated()
    tree: set[int] = set()
    try:
        pid = _up_and_exercised(env, pid_file)
        tree = {pid} | descendants(pid)
        os.kill(pid, signal.SIGSTOP)
        down = subprocess.Popen(
            [sys.executable, "-m", "harness", "down", "--service", "localstack"],
            env={**env, **FROZEN_GRACE},
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            # Ctrl-C as in a terminal, also when this run inherited it ignored (a background job)
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        # WHEN Ctrl-C reaches `down` while it stops LocalStack (its SIGTERM is pending)
        wait_for(lambda: _signal_pending(pid, signal.SIGTERM), timeout=60, what="down's SIGTERM")
        down.send_signal(signal.SIGINT)
        output, _ = down.communicate(timeout=120)
        left = [p for p in tree if pid_alive(p)]  # before the clean-up below stops them
        port_taken = _listener(port)
    finally:
        run_harness("down", "--service", "localstack", env=env)  # whatever a failure left

    # THEN it finished the stop first, said so, and exited as interrupted: nothing is left
    assert down.returncode == 130, output
    assert "stopping what runs first" in output
    assert "interrupted" in output
    assert left == []
    assert port_taken == ""
