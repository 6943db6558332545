"""What a user's shell holds does not change what runs (issue 12): the task typed after
`make trigger-workflow TASK=` arrives as typed, and AWS_* variables exported for real AWS
(or as LocalStack's docs suggest) change neither the tests nor the harness's local calls."""

from __future__ import annotations

import os
import re
import sys

import pytest

from tests.support.helpers import run_command, run_harness

# Make and shell syntax that must stay text: quotes, $, a backtick command, a backslash.
TYPED_TASK = 'Say "hello" to Bob\'s team: cost is $5, $(TASK), ${HOME} and `date` \\ done\t!'
HOSTILE_SHELL = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_SESSION_TOKEN": "a-real-aws-token",
    "AWS_PROFILE": "no-such-profile",
    "AWS_DEFAULT_PROFILE": "no-such-profile",
    "AWS_REGION": "eu-west-1",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9",
    "AWS_ENDPOINT_URL_STEPFUNCTIONS": "http://127.0.0.1:9",
    "AWS_ENDPOINT_URL_CLOUDFORMATION": "http://127.0.0.1:9",
}
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


@pytest.mark.slow(seconds=55)
def test_exported_aws_settings_change_neither_the_in_process_tiers_nor_local_calls(
    deployed_stack, agent_services, harness_settings
):
    env = {**os.environ, **HOSTILE_SHELL}
    # The unit and functional tiers set or clear whatever they depend on.
    units = _run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/unit",
            "tests/functional",
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
        ],
        env,
        timeout=600,  # two whole tiers, beside the other workers' tests
    )
    assert units.returncode == 0, units.stdout[-3000:] + units.stderr[-3000:]
    # The harness's local calls (deploy check, trigger, watch) still reach the local runtime.
    env["AWS_ENDPOINT_URL"] = harness_settings.endpoint_url
    trigger = run_harness("trigger", "--task", "shell check", "--wait", env=env)
    assert trigger.returncode == 0, trigger.stdout + trigger.stderr
    assert "COMPLETED" in trigger.stdout
