"""The agent-invoker Lambda: input validation and the exact InvokeAgentRuntime call."""

from __future__ import annotations

import importlib.util
import io
import json

import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from contract import MIN_SESSION_ID_CHARS
from harness.settings import REPO_ROOT
from tests.support.helpers import client_with_test_credentials

HANDLER_PATH = REPO_ROOT / "infra/agent_workflow/agent_invoker_lambda/handler.py"
SESSION_ID = "5d0c7a8e-1f2b-4c3d-9e8f-7a6b5c4d3e2f"
RUNTIME_ARN = "arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/local-agent"


@pytest.fixture
def handler(monkeypatch):
    """The handler module, loaded from its file as Lambda does, with a stubbed client."""
    monkeypatch.setenv("AGENT_RUNTIME_ARN", RUNTIME_ARN)
    monkeypatch.setenv("JOURNAL_TABLE_NAME", "journal")
    monkeypatch.setenv("MAX_TASK_CHARS", "100")
    spec = importlib.util.spec_from_file_location("invoker_handler", HANDLER_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    client = client_with_test_credentials("bedrock-agentcore")
    monkeypatch.setattr(module, "agentcore_client", lambda: client)
    with Stubber(client) as stubber:
        module.stubber = stubber
        yield module


def _body(data: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(data), len(data))


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ("not a dict", "input must be a JSON object"),
        ({"detail": {"task": "t"}}, "session_id is missing"),
        (
            {"session_id": "short", "detail": {"task": "t"}},
            f"session_id must be at least {MIN_SESSION_ID_CHARS} characters",
        ),
        ({"session_id": SESSION_ID}, "detail must be a JSON object, got NoneType"),
        ({"session_id": SESSION_ID, "detail": "t"}, "detail must be a JSON object, got str"),
        ({"session_id": SESSION_ID, "detail": {}}, "task must be a string, got NoneType"),
        ({"session_id": SESSION_ID, "detail": {"task": 42}}, "task must be a string, got int"),
        ({"session_id": SESSION_ID, "detail": {"task": "   "}}, "task must not be empty"),
        (
            {"session_id": SESSION_ID, "detail": {"task": "x" * 101}},
            r"task is too long: 101 characters \(at most 100, the stack's max_task_chars\)",
        ),
    ],
)
def test_bad_inputs_fail_naming_the_field(handler, event, message):
    with pytest.raises(handler.InvalidInput, match=message):
        handler.handler(event, None)


def test_invokes_the_agent_runtime_with_the_session_as_runtime_session_id(handler):
    detail = {"task": "Summarise", "fault": "crash"}
    expected_payload = {
        "session_id": SESSION_ID,
        "task": "Summarise",
        "journal_table_name": "journal",
        "detail": detail,
    }
    handler.stubber.add_response(
        "invoke_agent_runtime",
        {
            "response": _body(b'{"session_id": "x", "status": "accepted"}'),
            "contentType": "application/json",
            "statusCode": 200,
        },
        {
            "agentRuntimeArn": RUNTIME_ARN,
            "runtimeSessionId": SESSION_ID,
            "payload": json.dumps(expected_payload).encode(),
        },
    )
    result = handler.handler({"session_id": SESSION_ID, "detail": detail}, None)
    assert result == {
        "session_id": SESSION_ID,
        "accepted": True,
        "agent_response": {"session_id": "x", "status": "accepted"},
    }
    handler.stubber.assert_no_pending_responses()


def test_unreachable_agent_raises_a_clear_agent_invocation_error(handler):
    handler.stubber.add_client_error(
        "invoke_agent_runtime",
        service_error_code="InternalServerException",
        service_message="the agent at http://127.0.0.1:8080 is unreachable",
        http_status_code=500,
    )
    with pytest.raises(handler.AgentInvocationError) as raised:
        handler.handler({"session_id": SESSION_ID, "detail": {"task": "t"}}, None)
    message = str(raised.value)
    assert message.startswith(f"could not reach the agent runtime {RUNTIME_ARN}")
    assert "unreachable" in message


def _load_handler_module():
    spec = importlib.util.spec_from_file_location("invoker_handler_init", HANDLER_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_in_lambda_the_client_is_built_during_init(monkeypatch):
    """Built at import (Lambda's init phase), so the host executor's forked environments
    share it; outside Lambda (these tests, tools) nothing is built at import."""
    # Lambda sets the region and the role's credentials (without them botocore would ask IMDS).
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    assert _load_handler_module().agentcore_client.cache_info().currsize == 0
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "agent-invoker")
    assert _load_handler_module().agentcore_client.cache_info().currsize == 1


def test_no_answer_in_time_is_reported_as_a_timeout_not_a_refusal(handler, monkeypatch):
    """Finding 4: after botocore's attempts, a read timeout means AgentCore may have started
    the agent: AgentInvocationTimeout (the workflow polls), not AgentInvocationError (retried,
    then recorded FAILED)."""
    from botocore.exceptions import ReadTimeoutError

    class Silent:
        def invoke_agent_runtime(self, **_: object) -> None:
            raise ReadTimeoutError(endpoint_url="https://bedrock-agentcore.us-east-1.amazonaws.com")

    monkeypatch.setattr(handler, "agentcore_client", Silent)
    with pytest.raises(handler.AgentInvocationTimeout) as raised:
        handler.handler({"session_id": SESSION_ID, "detail": {"task": "t"}}, None)
    assert "may have started" in str(raised.value)
    config = handler.CLIENT_CONFIG
    assert config.read_timeout == handler.INVOKER_READ_TIMEOUT_SECONDS
    assert config.retries["max_attempts"] == handler.INVOKER_MAX_ATTEMPTS >= 2


def test_a_refusal_is_named_as_one_with_the_agents_words(handler):
    """The agent answered 400 (e.g. an unknown fault): not "could not reach", not retried."""
    handler.stubber.add_client_error(
        "invoke_agent_runtime",
        service_error_code="ValidationException",
        service_message='the agent refused the payload: {"error": "unknown fault \'bogus\'"}',
        http_status_code=400,
    )
    with pytest.raises(handler.AgentRefused) as raised:
        handler.handler({"session_id": SESSION_ID, "detail": {"task": "t"}}, None)
    assert str(raised.value) == (
        "the agent runtime refused the session: it answered HTTP 400 ValidationException: "
        "the agent refused the payload: unknown fault 'bogus'"
    )


def test_throttling_is_not_a_refusal(handler):
    handler.stubber.add_client_error(
        "invoke_agent_runtime",
        service_error_code="ThrottlingException",
        service_message="slow down",
        http_status_code=429,
    )
    with pytest.raises(handler.AgentInvocationError):
        handler.handler({"session_id": SESSION_ID, "detail": {"task": "t"}}, None)
