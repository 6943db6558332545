"""contract.aws_calls: with RECORD_AWS_CALLS=1, each AWS call is logged with its IAM action and
the parameters naming its resource, never a payload; without it, nothing is recorded."""

from __future__ import annotations

import logging

import boto3
from botocore.stub import Stubber

from contract.aws_calls import MARKER, parse, record_aws_calls


def _session() -> boto3.Session:
    return boto3.Session(
        region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )


def test_each_call_is_logged_with_its_action_and_resource(monkeypatch, caplog):
    monkeypatch.setenv("RECORD_AWS_CALLS", "1")
    session = _session()
    assert record_aws_calls("agent", session)
    client = session.client("dynamodb")
    with caplog.at_level(logging.INFO, logger="aws_calls"), Stubber(client) as stubber:
        stubber.add_response("update_item", {})
        client.update_item(
            TableName="journal",
            Key={"PK": {"S": "secret-session"}},
            UpdateExpression="SET #s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": "a task's text"}},
        )
    assert MARKER in caplog.text
    assert "a task's text" not in caplog.text
    assert "secret-session" not in caplog.text
    assert parse(caplog.text) == [
        {"action": "dynamodb:UpdateItem", "component": "agent", "params": {"TableName": "journal"}}
    ]


def test_the_iam_prefix_is_the_services_signing_name(monkeypatch, caplog):
    monkeypatch.setenv("RECORD_AWS_CALLS", "1")
    session = _session()
    record_aws_calls("invoker", session)
    client = session.client("bedrock-agentcore")
    arn = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/AgentWorkflow_agent-a1B2c3D4e5"
    with caplog.at_level(logging.INFO, logger="aws_calls"), Stubber(client) as stubber:
        stubber.add_response(
            "invoke_agent_runtime", {"statusCode": 200, "contentType": "application/json"}
        )
        client.invoke_agent_runtime(agentRuntimeArn=arn, runtimeSessionId="s" * 36, payload=b"{}")
    assert parse(caplog.text) == [
        {
            "action": "bedrock-agentcore:InvokeAgentRuntime",
            "component": "invoker",
            "params": {"agentRuntimeArn": arn},
        }
    ]


def test_a_transaction_is_recorded_as_the_action_each_of_its_items_stands_for(monkeypatch, caplog):
    # IAM authorises each action of a DynamoDB transaction as its own operation (a Put needs
    # dynamodb:PutItem on its table); TransactWriteItems is no action a policy grants.
    monkeypatch.setenv("RECORD_AWS_CALLS", "1")
    session = _session()
    record_aws_calls("agent", session)
    client = session.client("dynamodb")
    item = {"PK": {"S": "secret-session"}, "SK": {"S": "EVENT#1"}}
    with caplog.at_level(logging.INFO, logger="aws_calls"), Stubber(client) as stubber:
        stubber.add_response("transact_write_items", {})
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "journal", "Item": item}},
                {"Put": {"TableName": "journal", "Item": item}},
                {"ConditionCheck": {"TableName": "other", "Key": item, "ConditionExpression": "x"}},
            ]
        )
    assert "secret-session" not in caplog.text
    assert [(c["action"], c["params"]) for c in parse(caplog.text)] == [
        ("dynamodb:PutItem", {"TableName": "journal"}),
        ("dynamodb:PutItem", {"TableName": "journal"}),
        ("dynamodb:ConditionCheckItem", {"TableName": "other"}),
    ]


def test_nothing_is_recorded_unless_asked(monkeypatch, caplog):
    monkeypatch.delenv("RECORD_AWS_CALLS", raising=False)
    session = _session()
    assert not record_aws_calls("agent", session)
    client = session.client("dynamodb")
    with caplog.at_level(logging.INFO, logger="aws_calls"), Stubber(client) as stubber:
        stubber.add_response("get_item", {})
        client.get_item(TableName="journal", Key={"PK": {"S": "x"}})
    assert parse(caplog.text) == []
