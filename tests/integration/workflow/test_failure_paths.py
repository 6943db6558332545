"""Failure paths: every session ends, COMPLETED or FAILED with a reason, and nothing is lost
(issue 7). Real runtime, real deploy, real agent; faults are asked of the local agent per
event (`detail.fault`, honoured only because the local runtime sets AGENT_ALLOW_FAULTS=1)."""

from __future__ import annotations

import json
import uuid

import pytest

from agent.journal import IllegalTransition, Journal
from contract import SessionStatus
from harness import aws
from harness.assertions import assert_transitions
from harness.runtime import select_runtime
from harness.timeline import POLLING_LABEL, timeline_rows
from harness.trigger import publish
from tests.support.helpers import run_harness

FAILED_AFTER_BUSY = ["INITIATED", "BUSY", "FAILED"]
FAILED_AT_ONCE = ["INITIATED", "FAILED"]


def _wait(reader, stack, session_id, expected, execution_status):
    return assert_transitions(
        reader,
        session_id,
        expected,
        timeout=stack.session_timeout_seconds + 60,
        execution_status=execution_status,
    )


@pytest.mark.any_target
def test_duplicate_delivery_runs_the_agent_once(
    trigger, session_reader, deployed_stack, aws_client
):
    # GIVEN a session that completed
    session_id = trigger("Deliver me twice")
    first = _wait(
        session_reader, deployed_stack, session_id, ["INITIATED", "BUSY", "COMPLETED"], "SUCCEEDED"
    )

    # WHEN EventBridge delivers the same event again (a second execution, same input)
    sfn = aws_client("stepfunctions")
    duplicate_arn = sfn.start_execution(
        stateMachineArn=deployed_stack.state_machine_arn,
        name=f"redelivery-{uuid.uuid4().hex[:8]}",
        input=json.dumps(first.execution.input),
    )["executionArn"]

    # THEN the duplicate ends in its own state and the agent did not run again
    duplicate = session_reader.execution(duplicate_arn)
    for _ in range(100):
        if duplicate.status != "RUNNING":
            break
        duplicate = session_reader.execution(duplicate_arn)
    assert duplicate.status == "SUCCEEDED"
    assert [s.name for s in duplicate.steps][-1] == "DuplicateSession"
    assert "InvokeAgent" not in [s.name for s in duplicate.steps]
    after = session_reader.session(session_id)
    assert after.statuses == ["INITIATED", "BUSY", "COMPLETED"]
    assert after.item["updated_at"] == first.item["updated_at"]


def test_agent_crash_ends_failed_with_the_reason(trigger, session_reader, deployed_stack):
    session_id = trigger("Crash while working", fault="crash")
    session = _wait(session_reader, deployed_stack, session_id, FAILED_AFTER_BUSY, "FAILED")
    assert "crash" in session.item["error"].lower()
    assert session.execution.last_step.name == "Failure"


def test_agent_that_skips_busy_ends_failed(trigger, session_reader, deployed_stack):
    session_id = trigger("Forget to say BUSY", fault="skip_busy")
    session = _wait(session_reader, deployed_stack, session_id, FAILED_AT_ONCE, "FAILED")
    # The journal refused INITIATED -> COMPLETED; the agent then stopped, and its runner said so.
    assert session.item["error"].startswith(
        "agent ended without a terminal status (last status: INITIATED); its last answer: "
        "Stopping: journal failed: the journal refused the update"
    ), session.item["error"]


def test_journal_write_error_ends_failed(trigger, session_reader, deployed_stack):
    session_id = trigger("Journal breaks", fault="journal_error")
    session = _wait(session_reader, deployed_stack, session_id, FAILED_AT_ONCE, "FAILED")
    assert session.item["error"].startswith(
        "agent ended without a terminal status (last status: INITIATED); its last answer: "
        "Stopping: journal failed: the journal write failed"
    ), session.item["error"]
    assert "injected fault journal_error" in session.item["error"]


@pytest.mark.slow(seconds=35)
def test_agent_that_hangs_is_timed_out_by_the_workflow(trigger, session_reader, deployed_stack):
    session_id = trigger("Hang after BUSY", fault="hang")
    session = _wait(session_reader, deployed_stack, session_id, FAILED_AFTER_BUSY, "FAILED")
    assert "timed out" in session.item["error"]
    # ... after the budget the stack was deployed with, which the error names
    assert f"within {deployed_stack.max_polls} polls of" in session.item["error"]
    assert "RecordTimeout" in [s.name for s in session.execution.steps]
    assert session.execution.last_step.name == "TimedOut"
    # The timeline shows the poll loop as one row (issue 17), its polls kept for the report.
    polling = [row for row in timeline_rows(session) if row.label == POLLING_LABEL]
    assert len(polling) == 1, timeline_rows(session)
    assert polling[0].detail.startswith("polled "), polling[0].detail
    assert len(polling[0].polls) >= 4 * 25


@pytest.mark.exclusive  # stops the agent every session needs
def test_unreachable_agent_is_retried_then_failed(
    trigger, session_reader, deployed_stack, harness_settings
):
    runtime = select_runtime(harness_settings)
    runtime.down(["agent"])
    try:
        session_id = trigger("Nobody is listening")
        session = _wait(session_reader, deployed_stack, session_id, FAILED_AT_ONCE, "FAILED")
    finally:
        runtime.up(["agent"])
    assert "agent invocation failed" in session.item["error"]
    invoke = next(s for s in session.execution.steps if s.name == "InvokeAgent")
    assert invoke.error, "InvokeAgent failed (after its retries)"
    assert "RecordInvokeFailure" in [s.name for s in session.execution.steps]


@pytest.mark.any_target
@pytest.mark.parametrize(
    ("detail", "field_named"),
    [
        ({}, "task"),
        ({"task": 42}, "task"),
        ({"task": {"nested": "object"}}, "task"),
        ({"task": ""}, "task"),
        ({"task": "   "}, "task"),
        ({"task": "x" * 20_000}, "task"),
    ],
    ids=["no-task", "number", "object", "empty", "blank", "oversized"],
)
def test_malformed_events_end_failed_naming_the_field(
    detail, field_named, trigger, session_reader, deployed_stack, harness_settings
):
    session_id = publish(harness_settings, detail, deployed_stack.event_bus_name)
    session = _wait(session_reader, deployed_stack, session_id, FAILED_AT_ONCE, "FAILED")
    assert field_named in session.item["error"]


@pytest.mark.any_target
def test_non_json_detail_is_refused_at_publish(harness_settings, deployed_stack):
    response = aws.client("events", harness_settings).put_events(
        Entries=[
            {
                "Source": "agent.workflow",
                "DetailType": "ManualTrigger",
                "Detail": "not json",
                "EventBusName": deployed_stack.event_bus_name,
            }
        ]
    )
    assert response["FailedEntryCount"] == 1
    assert response["Entries"][0]["ErrorCode"]
    # The CLI says so in a sentence, not a traceback.
    cli = run_harness("trigger", "--detail", "not json", timeout=60)
    assert cli.returncode == 1
    assert "--detail is not valid JSON" in cli.stdout
    assert "Traceback" not in cli.stdout + cli.stderr


@pytest.mark.any_target
def test_illegal_transition_is_rejected_and_leaves_the_item_intact(
    trigger, session_reader, deployed_stack, aws_client
):
    session_id = trigger("Complete, then be poked")
    done = _wait(
        session_reader, deployed_stack, session_id, ["INITIATED", "BUSY", "COMPLETED"], "SUCCEEDED"
    )
    journal = Journal(deployed_stack.journal_table_name, client=aws_client("dynamodb"))
    with pytest.raises(IllegalTransition):
        journal.transition(session_id, SessionStatus.BUSY, note="too late")
    assert session_reader.item(session_id) == done.item
