"""An event that EventBridge accepts but cannot deliver is reported with its reason, at once,
not after the watch timeout with a generic hint (issue 12).

The stack's own rule sends the whole event, so it cannot be made to fail on demand; this
test adds a second rule, on a bus of its own, whose input transformer LocalStack cannot
render for a task with a quote (the template bug the stack's rule avoids)."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.support.helpers import run_harness


@pytest.fixture
def broken_rule_bus(aws_client, deployed_stack):
    """A bus whose rule targets the workflow through a transformer that breaks on quotes."""
    events = aws_client("events")
    bus = f"undelivered-{uuid.uuid4().hex[:8]}"
    events.create_event_bus(Name=bus)
    events.put_rule(
        Name="broken-transformer",
        EventBusName=bus,
        EventPattern=json.dumps({"source": ["agent.workflow"]}),
    )
    events.put_targets(
        Rule="broken-transformer",
        EventBusName=bus,
        Targets=[
            {
                "Id": "workflow",
                "Arn": deployed_stack.state_machine_arn,
                "RoleArn": "arn:aws:iam::000000000000:role/events-to-workflow",
                "InputTransformer": {
                    "InputPathsMap": {"id": "$.id", "detail": "$.detail"},
                    "InputTemplate": '{"id": <id>, "detail": <detail>}',
                },
            }
        ],
    )
    yield bus
    events.remove_targets(Rule="broken-transformer", EventBusName=bus, Ids=["workflow"])
    events.delete_rule(Name="broken-transformer", EventBusName=bus)
    events.delete_event_bus(Name=bus)


def test_watch_says_why_an_accepted_event_started_no_session(aws_client, broken_rule_bus):
    # GIVEN an event EventBridge accepts but cannot turn into the target's input
    entry = aws_client("events").put_events(
        Entries=[
            {
                "Source": "agent.workflow",
                "DetailType": "ManualTrigger",
                "Detail": json.dumps({"task": 'Summarise the "Q3" report'}),
                "EventBusName": broken_rule_bus,
            }
        ]
    )["Entries"][0]
    session_id = entry["EventId"]

    # WHEN a user watches it
    watched = run_harness("watch", session_id, "--timeout", "120", timeout=180)

    # THEN the harness names the cause it found in LocalStack's log, and what to do
    output = " ".join((watched.stdout + watched.stderr).split())  # rich wraps lines
    assert watched.returncode == 1, output
    assert f"event {session_id} was accepted by EventBridge but never started" in output
    assert "Replaced template is not valid json" in output
    assert "found in LocalStack's log" in output
    assert "publish the event again" in output
    assert "Traceback" not in output
