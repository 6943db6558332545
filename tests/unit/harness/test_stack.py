"""Stack discovery reads the outputs the harness uses, and only those."""

from __future__ import annotations

from typing import Any

import pytest

from harness import stack
from harness.settings import Settings
from harness.stack import StackNotDeployed, StackOutputs

USED = {
    "StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:wf",
    "JournalTableName": "journal",
    "EventBusName": "default",
    "PollIntervalSeconds": "2",
    "MaxPolls": "30",
    "DeadLetterQueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
}


class CloudFormation:
    def __init__(self, outputs: dict[str, str]) -> None:
        self.outputs = outputs

    def describe_stacks(self, StackName: str) -> dict[str, Any]:  # noqa: N803 (boto3's name)
        outputs = [{"OutputKey": k, "OutputValue": v} for k, v in self.outputs.items()]
        return {"Stacks": [{"StackStatus": "UPDATE_COMPLETE", "Outputs": outputs}]}


def load(monkeypatch, outputs: dict[str, str]) -> StackOutputs:
    monkeypatch.setattr(stack.aws, "client", lambda service, settings: CloudFormation(outputs))
    return StackOutputs.load(Settings(target="aws", region="us-east-1"))


def test_a_stack_with_only_the_outputs_the_harness_uses_loads(monkeypatch):
    # RuleName and InvokerFunctionName (still stack outputs, for people) are not needed.
    outputs = load(monkeypatch, USED)
    assert outputs == StackOutputs(
        state_machine_arn=USED["StateMachineArn"],
        journal_table_name="journal",
        event_bus_name="default",
        poll_interval_seconds=2.0,
        max_polls=30,
        dead_letter_queue_url=USED["DeadLetterQueueUrl"],
    )
    assert outputs.session_timeout_seconds == 60


@pytest.mark.parametrize("missing", ["StateMachineArn", "JournalTableName", "MaxPolls"])
def test_a_missing_output_says_redeploy(monkeypatch, missing):
    with pytest.raises(StackNotDeployed, match=f"has no output '{missing}'.*make deploy"):
        load(monkeypatch, {k: v for k, v in USED.items() if k != missing})
