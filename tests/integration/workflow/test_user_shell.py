"""What a user's shell holds does not change what runs (issue 12): the task typed after
`make trigger-workflow TASK=` arrives as typed, and AWS_* variables exported for real AWS
(or as LocalStack's docs suggest) change neither the tests nor the harness's local calls (the
unit and functional tiers run under such a shell every time: tests/support/shell_isolation.py)."""

from __future__ import annotations

import os
import re

from tests.support.helpers import run_command, run_harness
from tests.support.shell_isolation import HOSTILE_SHELL

# Make and shell syntax that must stay text: quotes, $, a backtick command, a backslash.
TYPED_TASK = 'Say "hello" to Bob\'s team: cost is $5, $(TASK), ${HOME} and `date` \\ done\t!'
SESSION_LINE = re.compile(r"published ManualTrigger: session\s+([0-9a-f-]{36})")


def _run(command: list[str], env: dict[str, str], timeout: float = 300):
    return run_command(command, env=env, timeout=timeout)


def test_make_trigger_workflow_sends_the_task_exactly_as_typed(
    deployed_stack, agent_services, session_reader
):
    # WHEN a user types a task full of shell and make syntax (passed without a shell here,
    # as the shell would hand it to make after the user's own quoting)
    done = _run(
        ["make", "--no-print-directory", "trigger-workflow", f"TASK={TYPED_TASK}"], {**os.environ}
    )

    # THEN the session completes with that text, byte for byte
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    session_id = SESSION_LINE.search(output)[1]
    assert session_reader.item(session_id)["task"] == TYPED_TASK


def test_make_refuses_a_multi_line_task_saying_what_to_do_instead():
    done = _run(
        ["make", "--no-print-directory", "trigger-workflow", "TASK=line one\nline two"],
        {**os.environ},
    )
    assert done.returncode == 2
    assert "TASK holds a newline" in done.stderr
    assert "python -m harness trigger --task" in done.stderr


def test_exported_aws_settings_change_no_local_call(
    deployed_stack, agent_services, harness_settings
):
    """The harness's local calls (deploy check, trigger, watch) still reach the local runtime."""
    env = {**os.environ, **HOSTILE_SHELL, "AWS_ENDPOINT_URL": harness_settings.endpoint_url}
    trigger = run_harness("trigger", "--task", "shell check", "--wait", env=env)
    assert trigger.returncode == 0, trigger.stdout + trigger.stderr
    assert "COMPLETED" in trigger.stdout
