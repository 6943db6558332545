"""The real boto3 `bedrock-agentcore` client, through the stand-in, reaches the real agent with
its payload and session id, as InvokeAgentRuntime does in AWS (issue 4)."""

from __future__ import annotations

import contextlib
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError, ParamValidationError

from agent.identity import IDENTITY_PATH, code_fingerprint
from contract import MIN_SESSION_ID_CHARS
from harness.agentcore_standin import STANDIN_CODE
from harness.settings import REPO_ROOT
from tests.support.agent_process import AGENT_HTTP_TABLE as TABLE
from tests.support.agent_process import http_json, start, stop
from tests.support.helpers import client_with_test_credentials, free_port

RUNTIME_ARN = "arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/local-agent"


@contextlib.contextmanager
def _standin(agent_url: str, logs: Path, **env: str) -> Iterator[str]:
    """The real stand-in on a free port in front of ``agent_url``: its URL, stopped after."""
    port = free_port()
    process = start(
        "harness.agentcore_standin",
        {"AGENTCORE_STANDIN_PORT": str(port), "AGENT_URL": agent_url, **env},
        port,
        logs,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def _client(endpoint: str):
    return client_with_test_credentials(
        "bedrock-agentcore", endpoint, config=boto3.session.Config(retries={"max_attempts": 1})
    )


def _api_error(endpoint: str, payload: bytes = b"{}") -> tuple[str, int, str]:
    """Invoke through the stand-in, expecting the SDK to raise: (code, HTTP status, message)."""
    with pytest.raises(ClientError) as raised:
        _client(endpoint).invoke_agent_runtime(
            agentRuntimeArn=RUNTIME_ARN, runtimeSessionId=str(uuid.uuid4()), payload=payload
        )
    error = raised.value.response
    return (
        error["Error"]["Code"],
        error["ResponseMetadata"]["HTTPStatusCode"],
        error["Error"]["Message"],
    )


@pytest.fixture(scope="module")
def standin(agent_url, tmp_path_factory):
    with _standin(agent_url, tmp_path_factory.mktemp("standin-logs")) as url:
        yield url


@pytest.fixture(scope="module")
def standin_without_agent(tmp_path_factory):
    no_agent = f"http://127.0.0.1:{free_port()}"
    with _standin(no_agent, tmp_path_factory.mktemp("standin-logs")) as url:
        yield url


def test_invoke_agent_runtime_reaches_the_agent_with_payload_and_session(
    standin, new_session, ended_item
):
    session_id = new_session()
    response = _client(standin).invoke_agent_runtime(
        agentRuntimeArn=RUNTIME_ARN,
        qualifier="DEFAULT",
        runtimeSessionId=session_id,
        payload=json.dumps({"task": "Count my words", "journal_table_name": TABLE}).encode(),
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert response["runtimeSessionId"] == session_id
    assert response["contentType"] == "application/json"
    # No session_id in the payload: the agent took it from the session header.
    assert json.loads(response["response"].read()) == {
        "session_id": session_id,
        "status": "accepted",
    }
    item = ended_item(session_id)
    assert item["status"] == "COMPLETED", item
    # Imported here, by the one worker that runs this test: agent.tools imports strands
    # (~0.3 CPU-s), which every worker collecting the tier imported at module level.
    from agent.tools import text_digest

    assert item["result"] == (
        f"Analysed the task: 3 words, 14 characters (sha256 {text_digest('Count my words')})."
    )


def test_agent_down_is_a_server_error(standin_without_agent):
    code, status, message = _api_error(standin_without_agent, b'{"task": "t"}')
    assert (code, status) == ("InternalServerException", 500)
    assert "unreachable" in message


def test_agent_refusal_is_a_validation_error(standin):
    code, status, message = _api_error(standin, b'{"journal_table_name": "t"}')
    assert (code, status) == ("ValidationException", 400)
    assert "task" in message


def test_short_session_ids_are_refused(standin):
    with pytest.raises(ParamValidationError, match="runtimeSessionId"):
        _client(standin).invoke_agent_runtime(
            agentRuntimeArn=RUNTIME_ARN, runtimeSessionId="too-short", payload=b"{}"
        )


class _FailingAgent(BaseHTTPRequestHandler):
    """An agent whose /invocations always answers 500."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'{"error": "boom"}'
        self.send_response(500)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def failing_agent_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FailingAgent)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_agent_error_is_a_runtime_client_error(failing_agent_url, tmp_path):
    with _standin(failing_agent_url, tmp_path) as url:
        code, status, message = _api_error(url)
    assert (code, status) == ("RuntimeClientError", 424)
    assert "Received error (500) from runtime" in message


@pytest.mark.parametrize(
    ("fault", "code", "status"),
    [("throttle", "ThrottlingException", 429), ("error", "InternalServerException", 500)],
)
def test_injected_faults_come_back_as_api_errors(agent_url, fault, code, status, tmp_path):
    with _standin(agent_url, tmp_path, AGENTCORE_STANDIN_FAULT=fault) as url:
        seen_code, seen_status, _ = _api_error(url)
    assert (seen_code, seen_status) == (code, status)


def test_the_standin_checks_the_session_id_itself(standin):
    # botocore validates the length first; other clients reach the stand-in's own check.
    request = urllib.request.Request(
        f"{standin}/runtimes/{urllib.parse.quote(RUNTIME_ARN, safe='')}/invocations",
        data=b"{}",
        headers={"X-Amzn-Bedrock-AgentCore-Runtime-Session-Id": "too-short"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 400
    assert refused.value.headers["X-Amzn-ErrorType"] == "ValidationException"
    assert (
        f"at least {MIN_SESSION_ID_CHARS} characters" in json.loads(refused.value.read())["message"]
    )


def test_the_standin_says_whose_code_it_runs(standin):
    identity = http_json(f"{standin}{IDENTITY_PATH}")
    assert identity["service"] == "agentcore-standin"
    assert identity["checkout"] == str(REPO_ROOT)
    assert identity["fingerprint"] == code_fingerprint(*STANDIN_CODE)
