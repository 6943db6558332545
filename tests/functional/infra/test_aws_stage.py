"""The aws stage's review findings and hardening, each held by a template test (issue 14)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.templates import rendered_definition, synthesized


def _resources(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == kind]


def _one(template: dict[str, Any], kind: str) -> dict[str, Any]:
    (resource,) = _resources(template, kind)
    return resource


@pytest.fixture(scope="module")
def aws() -> dict[str, Any]:
    return synthesized("aws")[0]


@pytest.fixture(scope="module")
def local() -> dict[str, Any]:
    return synthesized("local")[0]


def test_the_retained_journal_has_point_in_time_recovery(aws, local):
    table = _one(aws, "AWS::DynamoDB::Table")
    assert table["DeletionPolicy"] == "Retain"
    assert table["Properties"]["PointInTimeRecoverySpecification"] == {
        "PointInTimeRecoveryEnabled": True
    }
    assert (
        "PointInTimeRecoverySpecification" not in _one(local, "AWS::DynamoDB::Table")["Properties"]
    )


def test_the_aws_state_machine_logs_every_state_and_traces(aws, local):
    machine = _one(aws, "AWS::StepFunctions::StateMachine")["Properties"]
    assert machine["TracingConfiguration"] == {"Enabled": True}
    logging = machine["LoggingConfiguration"]
    assert logging["Level"] == "ALL"
    assert logging["IncludeExecutionData"] is False  # the task text stays in the journal
    (group,) = _resources(aws, "AWS::Logs::LogGroup")
    assert group["Properties"]["LogGroupName"].startswith("/aws/vendedlogs/states/")
    assert group["Properties"]["RetentionInDays"] > 0
    local_machine = _one(local, "AWS::StepFunctions::StateMachine")["Properties"]
    assert "LoggingConfiguration" not in local_machine
    assert "TracingConfiguration" not in local_machine


@pytest.mark.parametrize("stage", ["local", "aws"])
def test_an_unanswered_invocation_is_neither_retried_nor_recorded_failed(stage, aws, local):
    """Finding 4: a timeout is not a refusal. The journal decides (the polls), so an agent that
    did start completes, and one that did not ends as a recorded timeout."""
    states = rendered_definition(aws if stage == "aws" else local)["States"]
    invoke = states["InvokeAgent"]
    unanswered = {"AgentInvocationTimeout", "Sandbox.Timedout", "States.Timeout"}
    for retry in invoke["Retry"]:
        assert not unanswered & set(retry["ErrorEquals"])
    first, last = invoke["Catch"][0], invoke["Catch"][-1]
    assert set(first["ErrorEquals"]) == unanswered
    assert first["Next"] == "InitPollCount"
    assert last == {
        "ErrorEquals": ["States.ALL"],
        "ResultPath": "$.error",
        "Next": "RecordInvokeFailure",
    }


@pytest.mark.parametrize("stage", ["local", "aws"])
def test_both_stages_deliver_the_whole_event_with_a_dead_letter_queue(stage, aws, local):
    """Finding 5: no input transformer (a missing detail.task cannot make invalid JSON) and
    a dead-letter queue on the target, in the aws stage as locally."""
    template = aws if stage == "aws" else local
    (target,) = _one(template, "AWS::Events::Rule")["Properties"]["Targets"]
    assert not {"Input", "InputPath", "InputTransformer"} & set(target)
    assert "DeadLetterConfig" in target
    assert _resources(template, "AWS::SQS::Queue")
