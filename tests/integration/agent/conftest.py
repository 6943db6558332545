"""The real agent app and AgentCore stand-in as processes, over HTTP, with DynamoDB from moto's
server: these are the agent's own tests (the full stack runs against LocalStack elsewhere)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer

from contract import JOURNAL_TABLE_SCHEMA, TERMINAL_STATUSES, journal_key
from tests.support.agent_process import AGENT_HTTP_TABLE, start, stop
from tests.support.helpers import client_with_test_credentials, free_port, wait_for
from tests.support.journal_items import initiated_item

TABLE = AGENT_HTTP_TABLE
DESERIALIZER = TypeDeserializer()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    # Imported here: moto's server (Flask, werkzeug, every backend's URLs) is ~0.5 CPU-s that
    # every xdist worker paid at collection, also those that run no test of this folder.
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="session")
def dynamodb(moto_endpoint: str) -> Any:
    """A client of moto's server, whose journal table it creates."""
    client = client_with_test_credentials("dynamodb", moto_endpoint)
    client.create_table(TableName=TABLE, **JOURNAL_TABLE_SCHEMA)
    return client


@pytest.fixture(scope="session")
def agent_app(
    moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """The real app (scripted model, faults allowed) on a loopback port: its URL and the file
    its output (stdout and stderr) goes to. No test here waits for the session timeout (the
    runner's timeout is a functional test): it is long, so that no session is cut off on a
    loaded machine (3 s once raced a session's start and its BUSY write)."""
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
            "AGENT_SESSION_TIMEOUT_SECONDS": "120",
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
        raw = dynamodb.get_item(TableName=TABLE, Key=journal_key(session_id)).get("Item", {})
        return {k: DESERIALIZER.deserialize(v) for k, v in raw.items()}

    return read


@pytest.fixture
def ended_item(session_item: Callable[[str], dict[str, Any]]) -> Callable[[str], dict[str, Any]]:
    """Wait for a session's item to be terminal with its outcome, and return it: moto applies
    an update's SET actions one after the other on the stored item, so a read between them can
    see COMPLETED before its result (seen under load, twice); DynamoDB's update is atomic."""

    def ended(session_id: str) -> dict[str, Any]:
        item: dict[str, Any] = wait_for(
            lambda: (
                (item := session_item(session_id)).get("status") in TERMINAL_STATUSES
                and ("result" in item or "error" in item)
                and item
            ),
            timeout=20,
            what=f"session {session_id} terminal, with its result or error",
        )
        return item

    return ended
