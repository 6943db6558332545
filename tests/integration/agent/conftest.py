"""The real agent app and AgentCore stand-in as processes, over HTTP, with DynamoDB from moto's
server: these are the agent's own tests (the full stack runs against LocalStack elsewhere)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from agent.journal import JOURNAL_TABLE_SCHEMA, now_iso
from harness.settings import REPO_ROOT

TABLE = "agent-http-journal"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_json(url: str, body: dict[str, Any] | None = None, timeout: float = 5) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except OSError as error:
            last = error
        else:
            if last:
                return last
        time.sleep(0.1)
    raise AssertionError(f"{what} not seen within {timeout} s (last: {last!r})")


def start(module: str, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", module],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for(lambda: http_json(f"http://127.0.0.1:{port}/ping"), 30, f"{module} on {port}")
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    client.create_table(TableName=TABLE, **JOURNAL_TABLE_SCHEMA)
    yield endpoint
    server.stop()


@pytest.fixture(scope="session")
def dynamodb(moto_endpoint: str) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@pytest.fixture(scope="session")
def agent_url(moto_endpoint: str) -> Iterator[str]:
    port = free_port()
    process = start(
        "agent.app",
        {
            "AGENT_HOST": "127.0.0.1",
            "AGENT_PORT": str(port),
            "AWS_ENDPOINT_URL": moto_endpoint,
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AGENT_MODEL": "scripted",
            "AGENT_ALLOW_FAULTS": "1",
            "AGENT_SESSION_TIMEOUT_SECONDS": "3",
        },
        port,
    )
    yield f"http://127.0.0.1:{port}"
    stop(process)


@pytest.fixture
def new_session(dynamodb: Any) -> Callable[[], str]:
    """Pre-write a session as INITIATED (what the workflow does) and return its id."""

    def create() -> str:
        import uuid

        session_id = str(uuid.uuid4())
        at = now_iso()
        dynamodb.put_item(
            TableName=TABLE,
            Item={
                "PK": {"S": session_id},
                "SK": {"S": "SESSION"},
                "status": {"S": "INITIATED"},
                "history": {
                    "L": [{"M": {"status": {"S": "INITIATED"}, "at": {"S": at}, "note": {"S": ""}}}]
                },
            },
        )
        return session_id

    return create


@pytest.fixture
def session_item(dynamodb: Any) -> Callable[[str], dict[str, Any]]:
    from boto3.dynamodb.types import TypeDeserializer

    def read(session_id: str) -> dict[str, Any]:
        raw = dynamodb.get_item(
            TableName=TABLE, Key={"PK": {"S": session_id}, "SK": {"S": "SESSION"}}
        ).get("Item", {})
        return {k: TypeDeserializer().deserialize(v) for k, v in raw.items()}

    return read
