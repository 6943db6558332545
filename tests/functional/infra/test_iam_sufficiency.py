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
    assert {c.component for c in calls} >= {"state_machine", "trigger"}


def test_every_recorded_call_is_allowed_by_the_aws_stage(calls, recording, aws):
    verdict = check(calls, aws, recording["logical_ids"])
    print("granted, no recorded call used:", json.dumps(verdict.unused, indent=2))
    assert verdict.missing == []
    assert verdict.checked == len(calls)


def test_without_put_item_on_the_state_machine_role_the_check_is_red(calls, recording, aws):
    verdict = check(
        calls, without_action(aws, "state_machine", "dynamodb:PutItem"), recording["logical_ids"]
    )
    print("\n".join(verdict.missing))
    assert verdict.missing
    for line in verdict.missing:
        assert line.startswith("state_machine: dynamodb:PutItem(TableName=")
        assert f"is denied to role {role_of('state_machine', aws)} on arn:aws:dynamodb:" in line
