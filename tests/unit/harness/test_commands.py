"""The one command wrapper: what a failure says (subprocess.run replaced, nothing is run)."""

from __future__ import annotations

import subprocess

import pytest

from harness import commands
from harness.errors import HarnessError


class StepFailed(HarnessError):
    pass


def _fake_run(monkeypatch, outcome):
    calls = []

    def run(command, **options):
        calls.append((command, options))
        if isinstance(outcome, BaseException):
            raise outcome
        return subprocess.CompletedProcess(command, *outcome)

    monkeypatch.setattr(commands.subprocess, "run", run)
    return calls


def test_success_returns_the_output_as_text(monkeypatch):
    calls = _fake_run(monkeypatch, (0, "done\n", ""))
    result = commands.run(["tool", "go"], what="the step", cwd="/tmp", env={"A": "1"}, timeout=9)
    assert result.stdout == "done\n"
    ((command, options),) = calls
    assert command == ["tool", "go"]
    assert options["capture_output"] is True
    assert options["text"] is True
    assert options["check"] is False
    assert (options["cwd"], options["env"], options["timeout"]) == ("/tmp", {"A": "1"}, 9)


def test_a_failure_names_the_step_the_status_and_the_output_tail(monkeypatch):
    stdout = "".join(f"out {i}\n" for i in range(40))
    _fake_run(monkeypatch, (3, stdout, "err: the real reason\n"))
    with pytest.raises(StepFailed) as caught:
        commands.run(["tool"], what="cdk deploy", error=StepFailed, tail=5, advice="Fix it.")
    message = str(caught.value)
    assert message.startswith("cdk deploy failed (exit 3):\n")
    assert message.splitlines()[1:] == [
        "out 36",
        "out 37",
        "out 38",
        "out 39",
        "err: the real reason",
        "Fix it.",
    ]


def test_a_timeout_says_so_with_what_it_printed(monkeypatch):
    expired = subprocess.TimeoutExpired(["tool"], 10, output=b"half way\n", stderr=b"stuck\n")
    _fake_run(monkeypatch, expired)
    with pytest.raises(StepFailed, match=r"docker did not finish within 10 s:\nhalf way\nstuck"):
        commands.run(["tool"], what="docker", error=StepFailed, timeout=10)


def test_a_command_ended_by_ctrl_c_is_an_interrupt_not_a_failure(monkeypatch):
    # its output (a deploy's progress) is no error to print: the user asked it to stop
    _fake_run(monkeypatch, (-2, "deploying...\n", ""))
    with pytest.raises(KeyboardInterrupt, match="cdk deploy was interrupted"):
        commands.run(["tool"], what="cdk deploy", error=StepFailed)


def test_a_program_that_cannot_start_is_a_clear_error(monkeypatch):
    _fake_run(monkeypatch, FileNotFoundError(2, "No such file or directory", "npm"))
    with pytest.raises(HarnessError, match=r"npm ci could not start: .*No such file.*npm"):
        commands.run(["npm", "ci"], what="npm ci")


def test_unchecked_a_failure_is_returned_for_the_caller_to_judge(monkeypatch):
    _fake_run(monkeypatch, (2, "", "usage: ...\n"))
    result = commands.run(["tool", "--bad"], what="the CLI", check=False)
    assert (result.returncode, result.stderr) == (2, "usage: ...\n")


def test_unchecked_a_timeout_is_still_an_error(monkeypatch):
    _fake_run(monkeypatch, subprocess.TimeoutExpired(["tool"], 5))
    with pytest.raises(HarnessError, match="the CLI did not finish within 5 s"):
        commands.run(["tool"], what="the CLI", timeout=5, check=False)
