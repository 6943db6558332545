"""End to end: put-events -> EventBridge -> Step Functions -> invoker Lambda -> AgentCore
stand-in -> the real Strands agent -> DynamoDB journal. Nothing mocked (issue 6)."""

from __future__ import annotations

import json

import pytest

from harness.assertions import assert_completed
from tests.support.helpers import run_harness


@pytest.mark.any_target
def test_manual_trigger_runs_the_session_to_completed(
    aws_client, deployed_stack, agent_services, session_reader
):
    # GIVEN the deployed stack and a running agent
    task = "Summarise the quarterly cost report"

    # WHEN a ManualTrigger event is published with put-events, as a user would
    entry = aws_client("events").put_events(
        Entries=[
            {
                "Source": "agent.workflow",
                "DetailType": "ManualTrigger",
                "Detail": json.dumps({"task": task}),
                "EventBusName": deployed_stack.event_bus_name,
            }
        ]
    )["Entries"][0]
    session_id = entry["EventId"]

    # THEN the journal records INITIATED -> BUSY -> COMPLETED and the execution SUCCEEDS
    session = assert_completed(session_reader, session_id)
    item = session.item
    assert item["task"] == task
    assert item["result"], "the agent's result is in the journal"
    assert "error" not in item
    # The workflow ran its states in the designed order.
    steps = [step.name for step in session.execution.steps]
    assert steps[:3] == ["ValidateInput", "InitializeSession", "InvokeAgent"]
    assert "CheckStatus" in steps
    assert steps[-1] == "Success"
    # The execution's input is the event itself: its id is the session id.
    assert session.execution.input["id"] == session_id
    assert session.execution.input["detail"] == {"task": task}
    assert item["execution_arn"] == session.execution.arn


@pytest.mark.any_target
def test_trigger_helper_and_cli_watch_print_the_timeline(trigger):
    session_id = trigger("Count the words in this sentence")
    watched = run_harness("watch", session_id, "--timeout", "60", timeout=120)
    assert watched.returncode == 0, watched.stdout + watched.stderr
    assert f"Session {session_id}" in watched.stdout
    for label in ("INITIATED", "BUSY", "COMPLETED", "InvokeAgent", "COMPLETED:"):
        assert label in watched.stdout
