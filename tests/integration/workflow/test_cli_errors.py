"""The harness says what is wrong and what to do, never only a traceback (issue 6)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid

import pytest

from harness.settings import REPO_ROOT
from tests.support.helpers import free_port, free_ports, run_harness, wait_for


def harness(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_harness(*args, env={**os.environ, **env}, timeout=120)


def _assert_clear_error(result: subprocess.CompletedProcess[str], *phrases: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "error:" in result.stdout
    assert "Traceback" not in output
    flat = " ".join(output.split())
    for phrase in phrases:
        assert phrase in flat, output


def test_a_bad_setting_is_one_line_and_exit_status_2():
    """The real process (tests/unit/harness/test_cli.py has the other variables in-process)."""
    result = harness("status", AGENT_PORT="abc")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr == (
        "python -m harness: error: AGENT_PORT='abc' is not valid: "
        "expected an integer from 1 to 65535\n"
    )
    assert result.stdout == ""


@pytest.mark.parametrize("command", [["watch", "x"], ["trigger", "--task", "t"], ["history", "x"]])
def test_runtime_down(command):
    dead = f"http://127.0.0.1:{free_port()}"
    result = harness(*command, AWS_ENDPOINT_URL=dead)
    _assert_clear_error(result, f"cannot reach {dead}", "make up")


def test_stack_not_deployed(localstack):
    result = harness("trigger", "--task", "t", STACK_NAME="NoSuchStack")
    _assert_clear_error(result, "stack NoSuchStack is not deployed", "make deploy")


@pytest.mark.any_target
def test_session_does_not_exist(deployed_stack):
    missing = str(uuid.uuid4())
    for command in ("status", "history"):
        _assert_clear_error(harness(command, missing), f"no session {missing}")


def test_watching_a_session_that_never_appears_times_out_clearly(deployed_stack):
    result = harness("watch", str(uuid.uuid4()), "--timeout", "2")
    _assert_clear_error(result, "appeared within 2 s", "do not match the rule")


def _isolated_up(tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    """`harness up` in host mode on free ports (``env`` overrides), with its own (empty)
    runtime dir."""
    gateway, agent, standin = free_ports(3)
    defaults = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{gateway}",
        "AGENT_PORT": str(agent),
        "AGENTCORE_STANDIN_PORT": str(standin),
        "HARNESS_RUNTIME": "host",
        "HARNESS_RUNTIME_DIR": str(tmp_path / "runtime"),
    }
    return harness("up", **{**defaults, **env})


def test_up_on_a_port_taken_by_something_else(tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = _isolated_up(tmp_path, AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}")
    _assert_clear_error(
        result, f"port {port} is taken", "not a healthy localstack", "Stop that process"
    )


@pytest.mark.apart  # its own runtime dir, on free ports: installs, no shared service
def test_up_without_python_3_13(tmp_path):
    no_pythons = tmp_path / "empty-pyenv"
    no_pythons.mkdir()
    result = _isolated_up(
        tmp_path,
        LOCALSTACK_PYTHON=str(tmp_path / "missing-python3.13"),
        PYENV_ROOT=str(no_pythons),
        PATH="/usr/bin:/bin",
    )
    _assert_clear_error(
        result, "Python 3.13 was not found", "pyenv install 3.13", "LOCALSTACK_PYTHON="
    )


@pytest.mark.apart  # its own runtime dir, on free ports: installs, no shared service
def test_up_when_an_install_fails(tmp_path):
    # Answers the version probe like a Python 3.13, then fails as an interpreter.
    impostor = tmp_path / "python3.13"
    impostor.write_text("#!/bin/sh\necho 3.13\n")
    impostor.chmod(0o755)
    result = _isolated_up(tmp_path, LOCALSTACK_PYTHON=str(impostor))
    _assert_clear_error(result, "LocalStack install failed", "Fix the cause above")


def _sigint_ignored() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_ctrl_c_stops_a_command_started_with_sigint_ignored(deployed_stack):
    """A script's background jobs start with SIGINT ignored (and CI runners may start the
    suite that way); the harness must still stop on SIGINT, as `make bench` relies on."""
    # GIVEN a watch that would wait two minutes, started with SIGINT ignored
    watching = subprocess.Popen(
        [sys.executable, "-m", "harness", "watch", str(uuid.uuid4()), "--timeout", "120"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=_sigint_ignored,
    )
    try:
        # WHEN SIGINT arrives (again until it exits: before main() runs it stays ignored)
        def interrupted() -> int | None:
            watching.send_signal(signal.SIGINT)
            try:
                return watching.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                return None

        wait_for(lambda: interrupted() is not None, 60, "the watch to stop on SIGINT")
    finally:
        if watching.poll() is None:
            watching.kill()
        output = watching.communicate()[0]

    # THEN it stopped as on Ctrl-C: status 130, a word, no traceback
    assert watching.returncode == 130, output
    assert "interrupted" in output
    assert "Traceback" not in output


def test_a_refused_session_reads_in_one_line_once(deployed_stack, agent_services):
    """The agent answers 400 to an unknown fault: the output names the refusal, gives the
    cause once and in one line, and keeps the stack trace for --verbose (issue 17)."""
    detail = '{"task": "t", "fault": "no-such-fault"}'
    result = harness("trigger", "--detail", detail, "--wait")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert output.count("unknown fault 'no-such-fault'") == 1, output
    flat = " ".join(output.split())
    assert "the agent runtime refused the session: it answered HTTP 400" in flat, output
    assert "could not reach" not in output
    assert "stackTrace" not in output
    assert "Traceback" not in output
    assert "add --verbose" in output
    session_id = output.split("session ", 1)[1].split()[0]
    verbose = harness("history", session_id, "--verbose")
    assert 'File "' in verbose.stdout, verbose.stdout


def test_an_unknown_session_mentions_a_runtime_restart(deployed_stack):
    missing = str(uuid.uuid4())
    _assert_clear_error(harness("history", missing), "LocalStack keeps no state across restarts")
