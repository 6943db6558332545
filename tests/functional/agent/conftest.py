"""A moto DynamoDB journal table for the agent's unit tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from agent.journal import Journal
from agent.settings import AgentSettings
from contract import JOURNAL_TABLE_SCHEMA
from tests.support.helpers import wait_for
from tests.support.journal_items import MOTO_JOURNAL_TABLE as TABLE
from tests.support.journal_items import initiated_item


@pytest.fixture
def dynamodb(moto_aws: None) -> Iterator[Any]:
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(TableName=TABLE, **JOURNAL_TABLE_SCHEMA)
    yield client
    # An agent a session timeout released (an injected hang) goes on alone in its session
    # thread (agent/runner.py): the table stays until it has ended. Left running, its late
    # writes went to the next test's table (the same session id) or, between mocks, to AWS.
    wait_for(
        lambda: not [t for t in threading.enumerate() if t.name.startswith("session-")],
        10,
        "the released agents to end",
    )


@pytest.fixture
def journal(dynamodb) -> Journal:
    return Journal(TABLE, client=dynamodb)


@pytest.fixture
def initiated(dynamodb) -> str:
    """A session as the workflow's InitializeSession writes it."""
    session_id = "0f8e2c1a-5b7d-4e3f-9a1b-2c3d4e5f6a7b"
    dynamodb.put_item(TableName=TABLE, Item=initiated_item(session_id, "Summarise the report"))
    return session_id


@pytest.fixture
def make_settings():
    """``make_settings(**overrides)``: AgentSettings for tests (scripted model, faults on)."""
    return build_settings


def build_settings(**overrides: Any) -> AgentSettings:
    values: dict[str, Any] = {
        "journal_table_name": TABLE,
        "model": "scripted",
        "bedrock_model_id": "model",
        "openai_base_url": "http://127.0.0.1:1/v1",
        "openai_api_key": "local",
        "openai_model_id": "m",
        "host": "127.0.0.1",
        "port": 8080,
        "allow_faults": True,
        "session_timeout_seconds": 10.0,
        "session_id": "",
    }
    values.update(overrides)
    return AgentSettings(**values)
