"""The real boto3 `bedrock-agentcore` client, through the stand-in, reaches the real agent with
its payload and session id, as InvokeAgentRuntime does in AWS (issue 4)."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError, ParamValidationError

from .conftest import TABLE, free_port, start, stop, wait_for

RUNTIME_ARN = "arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/local-agent"


def _client(endpoint: str):
    return boto3.client(
        "bedrock-agentcore",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=boto3.session.Config(retries={"max_attempts": 1}),
    )


@pytest.fixture(scope="module")
def standin(agent_url):
    port = free_port()
    process = start(
        "agent.agentcore_standin",
        {"AGENTCORE_STANDIN_PORT": str(port), "AGENT_URL": agent_url},
        port,
    )
    yield f"http://127.0.0.1:{port}"
    stop(process)


@pytest.fixture(scope="module")
def standin_without_agent():
    port = free_port()
    process = start(
        "agent.agentcore_standin",
        {"AGENTCORE_STANDIN_PORT": str(port), "AGENT_URL": f"http://127.0.0.1:{free_port()}"},
        port,
    )
    yield f"http://127.0.0.1:{port}"
    stop(process)


def test_invoke_agent_runtime_reaches_the_agent_with_payload_and_session(
    standin, new_session, session_item
):
    session_id = new_session()
    response = _client(standin).invoke_agent_runtime(
        agentRuntimeArn=RUNTIME_ARN,
        runtimeSessionId=session_id,
        payload=json.dumps({"task": "Count my words", "journal_table_name": TABLE}).encode(),
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert response["runtimeSessionId"] == session_id
    # No session_id in the payload: the agent took it from the session header.
    assert json.loads(response["response"].read()) == {
        "session_id": session_id,
        "status": "accepted",
    }
    item = wait_for(
        lambda: (i := session_item(session_id)).get("status") == "COMPLETED" and i,
        timeout=20,
        what="COMPLETED",
    )
    assert item["result"] == "Analysed the task: 3 words, 14 characters."


def test_agent_down_is_a_server_error(standin_without_agent):
    with pytest.raises(ClientError) as raised:
        _client(standin_without_agent).invoke_agent_runtime(
            agentRuntimeArn=RUNTIME_ARN,
            runtimeSessionId=str(uuid.uuid4()),
            payload=b'{"task": "t"}',
        )
    error = raised.value.response
    assert error["Error"]["Code"] == "InternalServerException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert "unreachable" in error["Error"]["Message"]


def test_agent_refusal_is_a_validation_error(standin):
    with pytest.raises(ClientError) as raised:
        _client(standin).invoke_agent_runtime(
            agentRuntimeArn=RUNTIME_ARN,
            runtimeSessionId=str(uuid.uuid4()),
            payload=b'{"journal_table_name": "t"}',
        )
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "task" in raised.value.response["Error"]["Message"]


def test_short_session_ids_are_refused(standin):
    with pytest.raises(ParamValidationError, match="runtimeSessionId"):
        _client(standin).invoke_agent_runtime(
            agentRuntimeArn=RUNTIME_ARN, runtimeSessionId="too-short", payload=b"{}"
        )
