"""IAM sufficiency from recorded calls: the AWS calls a local end-to-end run made (recorded by
tests/integration/workflow/test_iam_sufficiency.py, which writes reports/aws-calls.json; this
is its copy), evaluated with moto's IAM policy engine against the aws stage's roles. Removing
a grant a call needs turns the check red, naming the call and the role."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.iam_sufficiency import Call, check, role_of
from tests.support.templates import synthesized

RECORDING = Path(__file__).with_name("recorded_aws_calls.json")


@pytest.fixture(scope="module")
def recording() -> dict[str, Any]:
    return json.loads(RECORDING.read_text())


@pytest.fixture(scope="module")
def calls(recording) -> list[Call]:
    return [Call.from_json(c) for c in recording["calls"]]


@pytest.fixture(scope="module")
def aws() -> dict[str, Any]:
    return synthesized("aws")[0]


def without_action(template: dict[str, Any], component: str, action: str) -> dict[str, Any]:
    """A copy of the template whose ``component``'s role no longer grants ``action``."""
    edited = copy.deepcopy(template)
    role = role_of(component, edited)
    for resource in edited["Resources"].values():
        if (
            resource["Type"] == "AWS::IAM::Policy"
            and {"Ref": role} in resource["Properties"]["Roles"]
        ):
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"]
                actions = actions if isinstance(actions, list) else [actions]
                statement["Action"] = [a for a in actions if a != action] or ["none:None"]
    return edited


def test_the_recording_covers_every_component(calls):
    assert {c.component for c in calls} == {"state_machine", "trigger", "invoker", "agent"}
    # The journal's status moves (GetItem, UpdateItem) and the agent's steps (PutItem of the
    # EVENT# items beside the session).
    assert {c.action for c in calls if c.component == "agent"} == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    }


def test_every_recorded_call_is_allowed_by_the_aws_stage(calls, recording, aws):
    verdict = check(calls, aws, recording["logical_ids"])
    print("granted, no recorded call used:", json.dumps(verdict.unused, indent=2))
    assert verdict.missing == []
    assert verdict.checked == len(calls)


@pytest.mark.parametrize(
    ("component", "action"),
    [("state_machine", "dynamodb:PutItem"), ("agent", "dynamodb:UpdateItem")],
)
def test_without_a_grant_a_recorded_call_needs_the_check_is_red(
    component, action, calls, recording, aws
):
    verdict = check(calls, without_action(aws, component, action), recording["logical_ids"])
    print("\n".join(verdict.missing))
    assert verdict.missing
    for line in verdict.missing:
        assert line.startswith(f"{component}: {action}(TableName=")
        assert f"is denied to role {role_of(component, aws)} on arn:aws:dynamodb:" in line


def test_granted_actions_no_recorded_call_used_are_listed(calls, recording, aws):
    """Not a failure: the Lambda and AgentCore services use the log and X-Ray grants, the
    model and Marketplace grants serve Bedrock (the local model is scripted), and the state
    machine's UpdateItem marks a failed invocation or a timeout (not among the recorded
    paths). The list shows what a recording does not vouch for."""
    unused = check(calls, aws, recording["logical_ids"]).unused
    assert "dynamodb:UpdateItem" in unused[role_of("state_machine", aws)]
    assert "bedrock:InvokeModel" in unused[role_of("agent", aws)]
    assert unused[role_of("trigger", aws)] == []
    for role, actions in unused.items():
        assert not any(a.startswith("dynamodb:") for a in actions) or role == role_of(
            "state_machine", aws
        ), (role, actions)
