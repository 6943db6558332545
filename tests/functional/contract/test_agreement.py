"""The template, the invoker, the agent and the harness agree with the contract (contract/).

The CDK app is synthesized in-process (both stages); what each deployable reads is then fed
what the template gives it: the invoker (as bundled into its asset) gets the template's
environment, the agent its runtime's environment, and the harness publishes what the rule
matches and reads what the workflow writes.
"""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

import contract
from agent.journal import Journal
from agent.settings import AgentSettings
from contract import (
    ALLOWED_PREVIOUS,
    ENV_AGENT_ALLOW_FAULTS,
    ENV_AGENT_MODEL,
    ENV_AGENT_RUNTIME_ARN,
    ENV_AGENTCORE_ENDPOINT,
    ENV_BEDROCK_MODEL_ID,
    ENV_JOURNAL_TABLE_NAME,
    ENV_MAX_TASK_CHARS,
    ENV_RECORD_AWS_CALLS,
    EVENT_DETAIL_TYPE,
    EVENT_SOURCE,
    JOURNAL_TABLE_SCHEMA,
    MIN_SESSION_ID_CHARS,
    PARTITION_KEY,
    SESSION_SORT_KEY,
    SORT_KEY,
    TERMINAL_STATUSES,
    SessionStatus,
    journal_key,
)
from harness import aws as harness_aws
from harness import sessions as harness_sessions
from harness import trigger as harness_trigger
from harness.settings import Settings
from harness.stack import StackOutputs
from tests.support.helpers import client_with_test_credentials
from tests.support.templates import Synthesized

SESSION_ID = "5d0c7a8e-1f2b-4c3d-9e8f-7a6b5c4d3e2f"  # an event id


@pytest.fixture(scope="module")
def local(tmp_path_factory) -> Synthesized:
    return Synthesized("local", tmp_path_factory.mktemp("cdk-local"))


@pytest.fixture(scope="module")
def aws(tmp_path_factory) -> Synthesized:
    return Synthesized("aws", tmp_path_factory.mktemp("cdk-aws"))


# -- the template ------------------------------------------------------------------------------
def test_the_table_has_the_contracts_schema(local):
    table = local.one("AWS::DynamoDB::Table")["Properties"]
    for field in ("KeySchema", "AttributeDefinitions", "BillingMode"):
        assert table[field] == JOURNAL_TABLE_SCHEMA[field], field


def test_the_workflow_reads_and_writes_the_contracts_key(local):
    states = local.states()
    want = {PARTITION_KEY: {"S.$": "$.id"}, SORT_KEY: {"S": SESSION_SORT_KEY}}
    for name in ("InitializeSession", "RejectInvalidInput"):
        item = states[name]["Parameters"]["Item"]
        assert {k: item[k] for k in (PARTITION_KEY, SORT_KEY)} == want, name
        assert states[name]["Parameters"]["ConditionExpression"] == (
            f"attribute_not_exists({PARTITION_KEY})"
        )
    for name in ("CheckStatus", "RecordTimeout", "RecordInvokeFailure"):
        assert states[name]["Parameters"]["Key"] == want, name


def test_the_workflow_writes_and_ends_on_the_contracts_statuses(local):
    states = local.states()
    assert states["InitializeSession"]["Parameters"]["Item"]["status"] == {
        "S": SessionStatus.INITIATED
    }
    rejected = states["RejectInvalidInput"]["Parameters"]["Item"]
    assert rejected["status"] == {"S": SessionStatus.FAILED}
    history = [entry["M"]["status"]["S"] for entry in rejected["history"]["L"]]
    assert history == [SessionStatus.INITIATED, SessionStatus.FAILED]
    # The workflow's FAILED write is allowed from exactly the contract's previous statuses.
    for name in ("RecordTimeout", "RecordInvokeFailure"):
        parameters = states[name]["Parameters"]
        values = parameters["ExpressionAttributeValues"]
        assert values[":failed"] == {"S": SessionStatus.FAILED}
        condition = parameters["ConditionExpression"]
        allowed = {values[name]["S"] for name in condition.split("IN (")[1].rstrip(")").split(", ")}
        assert allowed == set(ALLOWED_PREVIOUS[SessionStatus.FAILED]), name
    # It ends on the terminal statuses, and on no other.
    compared = {
        choice["StringEquals"]
        for choice in states["EvaluateStatus"]["Choices"]
        if choice.get("Variable") == "$.journal.status"
    }
    assert compared == set(TERMINAL_STATUSES)


def test_the_rule_matches_the_contracts_event(local):
    rule = local.one("AWS::Events::Rule")
    assert rule["Properties"]["EventPattern"] == {
        "source": [EVENT_SOURCE],
        "detail-type": [EVENT_DETAIL_TYPE],
    }


@pytest.mark.parametrize("stage", ["local", "aws"])
def test_the_invoker_gets_the_contracts_environment(stage, local, aws):
    synthesized = local if stage == "local" else aws
    function = synthesized.one("AWS::Lambda::Function")
    names = set(function["Properties"]["Environment"]["Variables"])
    shared = {ENV_JOURNAL_TABLE_NAME, ENV_AGENT_RUNTIME_ARN, ENV_MAX_TASK_CHARS}
    # Locally also the stand-in's endpoint, and the recording of its AWS calls (IAM check).
    local_only = {ENV_AGENTCORE_ENDPOINT, ENV_RECORD_AWS_CALLS}
    assert names == (shared | local_only if stage == "local" else shared)


def test_the_agent_runtime_runs_bedrock_and_never_allows_faults(aws):
    variables = aws.one("AWS::BedrockAgentCore::Runtime")["Properties"]["EnvironmentVariables"]
    assert set(variables) == {
        ENV_AGENT_MODEL,
        ENV_BEDROCK_MODEL_ID,
        ENV_JOURNAL_TABLE_NAME,
        "AWS_REGION",  # the stack's region: boto3 has no other way to learn it there
        "AWS_DEFAULT_REGION",
    }
    assert variables[ENV_AGENT_MODEL] == "bedrock"
    assert ENV_AGENT_ALLOW_FAULTS not in variables


# -- the deployables, fed what the template gives them ----------------------------------------
def _template_env(variables: dict[str, Any], template: dict[str, Any]) -> dict[str, str]:
    """The template's environment: a parameter's reference replaced by its default, any other
    reference by the variable's name."""
    parameters = template.get("Parameters", {})

    def value_of(name: str, value: Any) -> str:
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and value.get("Ref") in parameters:
            return str(parameters[value["Ref"]]["Default"])
        return name.lower()

    return {name: value_of(name, value) for name, value in variables.items()}


def test_the_bundled_invoker_reads_the_templates_environment(local, monkeypatch):
    asset = local.staged(local.function_key())
    files = sorted(p.relative_to(asset).as_posix() for p in asset.rglob("*") if p.is_file())
    assert files == ["contract/__init__.py", "contract/aws_calls.py", "handler.py"]
    assert (asset / "contract/__init__.py").read_bytes() == Path(contract.__file__).read_bytes()
    # GIVEN the handler as Lambda loads it: from the asset, with the asset's contract
    monkeypatch.delitem(sys.modules, "contract")
    monkeypatch.syspath_prepend(str(asset))
    spec = importlib.util.spec_from_file_location("bundled_handler", asset / "handler.py")
    handler = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(handler)
    assert Path(sys.modules["contract"].__file__).parent == asset / "contract"
    variables = local.one("AWS::Lambda::Function")["Properties"]["Environment"]["Variables"]
    for name, value in _template_env(variables, local.template).items():
        monkeypatch.setenv(name, value)
    client = client_with_test_credentials("bedrock-agentcore")
    monkeypatch.setattr(handler, "agentcore_client", lambda: client)
    body = b'{"status": "accepted"}'
    with Stubber(client) as stubber:
        stubber.add_response(
            "invoke_agent_runtime",
            {
                "response": StreamingBody(io.BytesIO(body), len(body)),
                "contentType": "application/json",
                "statusCode": 200,
            },
        )
        # WHEN the workflow invokes it
        result = handler.handler({"session_id": SESSION_ID, "detail": {"task": "t"}}, None)
    # THEN it used the runtime and the table the template named
    assert result["accepted"] is True
    with pytest.raises(handler.InvalidInput, match=f"at least {MIN_SESSION_ID_CHARS} characters"):
        handler.validate({"session_id": "x" * (MIN_SESSION_ID_CHARS - 1)}, 10)
    handler.validate({"session_id": "x" * MIN_SESSION_ID_CHARS, "detail": {"task": "t"}}, 10)


def test_the_agent_reads_its_runtimes_environment(aws, monkeypatch):
    for name in ("AGENT_MODEL", "AGENT_ALLOW_FAULTS", "JOURNAL_TABLE_NAME", "BEDROCK_MODEL_ID"):
        monkeypatch.delenv(name, raising=False)
    variables = aws.one("AWS::BedrockAgentCore::Runtime")["Properties"]["EnvironmentVariables"]
    for name, value in _template_env(variables, aws.template).items():
        monkeypatch.setenv(name, value)
    settings = AgentSettings.from_env()
    assert settings.model == "bedrock"
    assert settings.bedrock_model_id == variables[ENV_BEDROCK_MODEL_ID]
    assert settings.journal_table_name == ENV_JOURNAL_TABLE_NAME.lower()
    assert settings.allow_faults is False


def test_the_agent_and_the_harness_share_the_journal(moto_aws, monkeypatch):
    # GIVEN a journal table of the contract's shape, and a session the workflow initiated
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(TableName="journal", **JOURNAL_TABLE_SCHEMA)
    client.put_item(
        TableName="journal",
        Item={**journal_key(SESSION_ID), "status": {"S": SessionStatus.INITIATED}},
    )
    # WHEN the agent moves it to the end
    journal = Journal("journal", client=client)
    journal.transition(SESSION_ID, SessionStatus.BUSY)
    journal.transition(SESSION_ID, SessionStatus.COMPLETED, result="done")
    # THEN the item at the contract's key says so, and the harness reads it as ended
    raw = client.get_item(TableName="journal", Key=journal_key(SESSION_ID))["Item"]
    assert raw["status"] == {"S": SessionStatus.COMPLETED}
    assert [h["M"]["status"]["S"] for h in raw["history"]["L"]] == ["BUSY", "COMPLETED"]
    monkeypatch.setattr(harness_aws, "client", lambda service, settings: client)
    outputs = StackOutputs(
        state_machine_arn="arn:aws:states:us-east-1:000000000000:stateMachine:x",
        journal_table_name="journal",
        event_bus_name="default",
        poll_interval_seconds=1,
        max_polls=30,
    )
    item = harness_sessions.SessionReader(Settings(target="local"), outputs).item(SESSION_ID)
    assert item["status"] in harness_sessions.TERMINAL_STATUSES
    assert harness_sessions.TERMINAL_STATUSES is TERMINAL_STATUSES


def test_the_harness_publishes_what_the_rule_matches(local, monkeypatch):
    pattern = local.one("AWS::Events::Rule")["Properties"]["EventPattern"]
    events = boto3.client(
        "events", region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
    )
    monkeypatch.setattr(harness_aws, "client", lambda service, settings: events)
    with Stubber(events) as stubber:
        stubber.add_response(
            "put_events",
            {"FailedEntryCount": 0, "Entries": [{"EventId": SESSION_ID}]},
            {
                "Entries": [
                    {
                        "Source": pattern["source"][0],
                        "DetailType": pattern["detail-type"][0],
                        "Detail": json.dumps({"task": "t"}),
                        "EventBusName": "default",
                    }
                ]
            },
        )
        session_id = harness_trigger.publish(Settings(target="local"), {"task": "t"})
    assert session_id == SESSION_ID
    assert len(session_id) >= MIN_SESSION_ID_CHARS
