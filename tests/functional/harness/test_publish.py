"""Publishing ManualTrigger events (moto EventBridge): one, or a burst in calls of up to
ten entries, each event id a session id, in order."""

from __future__ import annotations

import json

import boto3
import pytest

from contract import EVENT_DETAIL_TYPE, EVENT_SOURCE
from harness.settings import Settings
from harness.trigger import PUT_EVENTS_MAX_ENTRIES, manual_trigger_detail, publish, publish_many


@pytest.fixture
def settings_and_queue(moto_aws):
    """Moto's EventBridge with a rule sending ManualTrigger events to a queue, to read back."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="seen")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events = boto3.client("events", region_name="us-east-1")
    pattern = {"source": [EVENT_SOURCE], "detail-type": [EVENT_DETAIL_TYPE]}
    events.put_rule(Name="trigger", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="trigger", Targets=[{"Id": "q", "Arn": arn}])
    return Settings(target="aws", region="us-east-1"), sqs, url


def _delivered(sqs, url) -> dict[str, str]:
    """Event id -> task, for every event the rule delivered."""
    seen: dict[str, str] = {}
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            event = json.loads(message["Body"])
            seen[event["id"]] = event["detail"]["task"]
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return seen


def test_a_batch_publishes_each_event_and_returns_their_ids_in_order(settings_and_queue):
    settings, sqs, url = settings_and_queue
    tasks = [f'task {i} with "quotes" and ünïcode' for i in range(PUT_EVENTS_MAX_ENTRIES)]

    ids = publish_many(settings, [manual_trigger_detail(t) for t in tasks])

    assert len(set(ids)) == len(tasks)
    delivered = _delivered(sqs, url)
    assert [delivered[i] for i in ids] == tasks


def test_one_event_is_a_batch_of_one(settings_and_queue):
    settings, sqs, url = settings_and_queue

    session_id = publish(settings, manual_trigger_detail("alone"))

    assert _delivered(sqs, url) == {session_id: "alone"}


@pytest.mark.parametrize("count", [0, PUT_EVENTS_MAX_ENTRIES + 1])
def test_a_batch_beyond_eventbridges_limit_is_refused_before_any_call(settings_and_queue, count):
    settings, sqs, url = settings_and_queue

    with pytest.raises(ValueError, match="PutEvents takes 1 to 10 entries"):
        publish_many(settings, [manual_trigger_detail("t")] * count)

    assert _delivered(sqs, url) == {}
