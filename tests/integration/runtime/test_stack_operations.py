"""LocalStack answers CloudFormation's stack operations once they are done (the project's
plug-in, stack_operations.py), so a client's first look finds the stack stable: the CDK CLI
looked again only 5 s later. The operations themselves are unchanged: real resources, the
usual states and events. And an update applies the tags it names, as on AWS (stack_tags.py):
the harness's deploy skip reads the fingerprint tag each deploy writes."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError


def _template(retention: int) -> str:
    queue = {"Type": "AWS::SQS::Queue", "Properties": {"MessageRetentionPeriod": retention}}
    outputs = {"QueueUrl": {"Value": {"Ref": "Queue"}}}
    return json.dumps({"Resources": {"Queue": queue}, "Outputs": outputs})


def _status(cloudformation: Any, stack: str) -> str:
    return str(cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"])


def _tags(cloudformation: Any, stack: str) -> dict[str, str]:
    tags = cloudformation.describe_stacks(StackName=stack)["Stacks"][0].get("Tags", [])
    return {tag["Key"]: tag["Value"] for tag in tags}


def _tagged(value: str) -> list[dict[str, str]]:
    return [{"Key": "fingerprint", "Value": value}]


@pytest.fixture
def cloudformation(aws_client) -> Any:
    return aws_client("cloudformation")


def test_create_update_and_delete_answer_with_the_stack_stable(cloudformation, aws_client):
    name = f"ops-{uuid.uuid4().hex[:8]}"
    stack_id = cloudformation.create_stack(StackName=name, TemplateBody=_template(600))["StackId"]
    try:
        assert _status(cloudformation, name) == "CREATE_COMPLETE"
        [output] = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["Outputs"]
        queue_url = output["OutputValue"]
        assert aws_client("sqs").get_queue_attributes(QueueUrl=queue_url)  # a real queue

        cloudformation.update_stack(StackName=name, TemplateBody=_template(900))
        assert _status(cloudformation, name) == "UPDATE_COMPLETE"
        attributes = aws_client("sqs").get_queue_attributes(
            QueueUrl=queue_url, AttributeNames=["MessageRetentionPeriod"]
        )["Attributes"]
        assert attributes["MessageRetentionPeriod"] == "900"
    finally:
        cloudformation.delete_stack(StackName=name)
    assert _status(cloudformation, stack_id) == "DELETE_COMPLETE"


def test_an_executed_change_set_answers_with_the_stack_stable(cloudformation):
    name = f"ops-{uuid.uuid4().hex[:8]}"
    change_set = cloudformation.create_change_set(
        StackName=name, ChangeSetName="create", ChangeSetType="CREATE", TemplateBody=_template(600)
    )
    try:
        cloudformation.get_waiter("change_set_create_complete").wait(
            ChangeSetName=change_set["Id"], WaiterConfig={"Delay": 1, "MaxAttempts": 30}
        )
        cloudformation.execute_change_set(ChangeSetName=change_set["Id"])
        assert _status(cloudformation, name) == "CREATE_COMPLETE"
        events = cloudformation.describe_stack_events(StackName=name)["StackEvents"]
        assert {"CREATE_IN_PROGRESS", "CREATE_COMPLETE"} <= {e["ResourceStatus"] for e in events}
    finally:
        cloudformation.delete_stack(StackName=name)


def test_an_update_applies_its_tags_even_when_nothing_else_changes(cloudformation):
    name = f"ops-{uuid.uuid4().hex[:8]}"
    cloudformation.create_stack(StackName=name, TemplateBody=_template(600), Tags=_tagged("a"))
    try:
        # WHEN an update changes the template and the tag
        cloudformation.update_stack(StackName=name, TemplateBody=_template(900), Tags=_tagged("b"))
        # THEN the stack has the new tag
        assert _tags(cloudformation, name) == {"fingerprint": "b"}

        # WHEN one changes only the tag: an update of the tags, not "No updates"
        cloudformation.update_stack(StackName=name, TemplateBody=_template(900), Tags=_tagged("c"))
        assert _tags(cloudformation, name) == {"fingerprint": "c"}
        assert _status(cloudformation, name) == "UPDATE_COMPLETE"

        # WHEN one changes nothing, with the same tags or none: nothing to do, the tags stay
        for same in ({"Tags": _tagged("c")}, {}):
            with pytest.raises(ClientError, match="No updates are to be performed"):
                cloudformation.update_stack(StackName=name, TemplateBody=_template(900), **same)
        assert _tags(cloudformation, name) == {"fingerprint": "c"}
    finally:
        cloudformation.delete_stack(StackName=name)
