"""Finding why an accepted event started no session: dead letters (moto SQS) and log lines."""

from __future__ import annotations

import json

import boto3
import pytest

from harness.settings import Settings
from harness.stack import StackOutputs
from harness.undelivered import explain, find_dead_letter, find_in_log

EVENT_ID = "2f1c7c7e-9a55-4f7e-8d0b-1c2d3e4f5a6b"


@pytest.fixture
def dead_letters(moto_aws):
    """An SQS queue holding dead letters as EventBridge writes them, and the stack outputs."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    for index in range(12):  # other events' dead letters first
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"id": f"other-{index}"}))
    sqs.send_message(
        QueueUrl=url,
        MessageBody=json.dumps({"id": EVENT_ID, "detail": {"task": "t"}}),
        MessageAttributes={
            "ERROR_CODE": {"DataType": "String", "StringValue": "SDK_CLIENT_ERROR"},
            "ERROR_MESSAGE": {
                "DataType": "String",
                "StringValue": "Failed to start execution: state machine does not exist",
            },
        },
    )
    outputs = StackOutputs(
        state_machine_arn="arn:sm",
        journal_table_name="journal",
        event_bus_name="default",
        poll_interval_seconds=1,
        max_polls=5,
        dead_letter_queue_url=url,
    )
    return Settings(target="aws", region="us-east-1"), outputs, sqs, url


def test_a_dead_letter_names_the_delivery_error_and_stays_in_the_queue(dead_letters):
    settings, outputs, sqs, url = dead_letters
    found = find_dead_letter(settings, outputs, EVENT_ID)
    assert found is not None
    assert found.reason == (
        "SDK_CLIENT_ERROR: Failed to start execution: state machine does not exist"
    )
    assert found.where == "the rule's dead-letter queue"
    assert f"event {EVENT_ID} was accepted by EventBridge" in found.message()
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert int(attributes["ApproximateNumberOfMessages"]) == 13, "peeked, not consumed"


def test_no_dead_letter_for_another_event(dead_letters):
    settings, outputs, *_ = dead_letters
    assert find_dead_letter(settings, outputs, "not-there") is None
    assert explain(settings, outputs, "not-there", lambda: "anything") is None  # AWS: no log


LOG = "\n".join(
    [
        "2026-11-25T20:43:01.437  INFO --- [gw_1] l.services.events.provider : "
        '{"InfoCode": "InternalInfoEvents at transform_event", "InfoMessage": '
        f'"Replaced template is not valid json: {{\\"id\\": \\"{EVENT_ID}\\"}}"}}',
        "2026-11-25T20:44:40.445  INFO --- [gw_1] l.services.events.provider : "
        '{"ErrorCode": "TargetDeliveryFailure", "ErrorMessage": "Failed to deliver to target '
        'workflow: ExecutionAlreadyExists"}',
    ]
)


def test_a_log_line_naming_the_event_is_its_reason():
    found = find_in_log(LOG, EVENT_ID)
    assert found is not None
    assert found.reason.startswith("InternalInfoEvents at transform_event: Replaced template")
    assert found.where == "LocalStack's log"


def test_a_delivery_failure_logged_after_publishing_is_reported_as_such():
    since = LOG.index("2026-11-25T20:44")
    found = find_in_log(LOG, "another-event", since_offset=since)
    assert found is not None
    assert found.reason == (
        "TargetDeliveryFailure: Failed to deliver to target workflow: ExecutionAlreadyExists"
        " (logged after the event was published)"
    )
    assert find_in_log(LOG, "another-event", since_offset=len(LOG)) is None
