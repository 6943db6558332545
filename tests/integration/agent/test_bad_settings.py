"""The agent and the stand-in, started with a bad setting, stop at once with one line naming
the variable, the value and what is accepted (exit status 2), not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from harness.settings import REPO_ROOT

pytestmark = pytest.mark.apart  # each process stops at its settings: no shared service


@pytest.mark.parametrize(
    ("command", "variable", "value", "accepted"),
    [
        (["-m", "agent.app"], "AGENT_PORT", "abc", "an integer from 1 to 65535"),
        (["-m", "agent.app"], "AGENT_SESSION_TIMEOUT_SECONDS", "-1", "a number of seconds"),
        (["-m", "agent", "--task", "t"], "AGENT_MODEL", "gpt", "one of scripted, bedrock"),
        (["-m", "harness.agentcore_standin"], "AGENTCORE_STANDIN_PORT", "x", "an integer from 1"),
        (["-m", "harness.agentcore_standin"], "AGENTCORE_STANDIN_FAULT", "boom", "throttle, error"),
    ],
)
def test_a_bad_setting_stops_the_process_with_one_line(command, variable, value, accepted):
    program = "python " + " ".join(command[:2])
    result = subprocess.run(
        [sys.executable, *command],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), variable: value},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(
        f"{program}: error: {variable}={value!r} is not valid: expected {accepted}"
    ), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stdout == ""
