"""The real agent app and AgentCore stand-in as processes, over HTTP, with DynamoDB from moto's
server: these are the agent's own tests (the full stack runs against LocalStack elsewhere)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeDeserializer
from moto.server import ThreadedMotoServer

from agent.journal import JOURNAL_TABLE_SCHEMA
from tests.helpers import free_port, wait_for
from tests.journal_items import initiated_item

TABLE = "agent-http-journal"
REPO_ROOT = Path(__file__).resolve().parents[3]
DESERIALIZER = TypeDeserializer()


def http_json(url: str, body: dict[str, Any] | None = None, timeout: float = 5) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def start(
    module: str, env: dict[str, str], port: int, log_dir: Path | None = None
) -> subprocess.Popen[bytes]:
    """``python -m module`` with ``env``; waits (bounded) for ``GET /ping`` on ``port``.

    Its output goes to ``<log_dir>/<module>-<port>.log``, quoted if it does not come up."""
    log_path = Path(log_dir or tempfile.gettempdir()) / f"{module}-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", module],
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    process.log_path = log_path  # type: ignore[attr-defined]
    try:
        wait_for(
            lambda: process.poll() is None and http_json(f"http://127.0.0.1:{port}/ping"),
            30,
            f"{module} on {port}",
        )
    except AssertionError as error:
        stop(process)
        raise AssertionError(f"{error}\n--- {log_path}:\n{log_path.read_text()[-4000:]}") from None
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    """terminate(), then kill() if it has not exited within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


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
def agent_app(
    moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """The real app (scripted model, faults allowed, 3 s session timeout) on a loopback port:
    its URL and the file its output (stdout and stderr) goes to."""
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
        tmp_path_factory.mktemp("agent-logs"),
    )
    yield f"http://127.0.0.1:{port}", process.log_path  # type: ignore[attr-defined]
    stop(process)


@pytest.fixture(scope="session")
def agent_url(agent_app: tuple[str, Path]) -> str:
    return agent_app[0]


@pytest.fixture(scope="session")
def agent_log(agent_app: tuple[str, Path]) -> Path:
    return agent_app[1]


@pytest.fixture
def new_session(dynamodb: Any) -> Callable[[], str]:
    """Pre-write a session as INITIATED (what the workflow does) and return its id."""

    def create(task: str = "Summarise the report") -> str:
        session_id = str(uuid.uuid4())
        dynamodb.put_item(TableName=TABLE, Item=initiated_item(session_id, task))
        return session_id

    return create


@pytest.fixture
def session_item(dynamodb: Any) -> Callable[[str], dict[str, Any]]:
    """Read a session's item as plain python values ({} when absent)."""

    def read(session_id: str) -> dict[str, Any]:
        raw = dynamodb.get_item(
            TableName=TABLE, Key={"PK": {"S": session_id}, "SK": {"S": "SESSION"}}
        ).get("Item", {})
        return {k: DESERIALIZER.deserialize(v) for k, v in raw.items()}

    return read
