"""The LocalStack patch that creates a Lambda environment's log stream before its first logs:
two calls for a new stream (the group only when missing), one after, the same events put."""

from __future__ import annotations

import types
from typing import Any

import pytest

from tests.support.helpers import plugin_module_with_stand_in_hooks


class ResourceNotFoundException(Exception):
    pass


class ResourceAlreadyExistsException(Exception):
    pass


class Logs:
    """Stand-in for LocalStack's CloudWatch Logs: groups, streams and their events, and every
    call made."""

    exceptions = types.SimpleNamespace(
        ResourceNotFoundException=ResourceNotFoundException,
        ResourceAlreadyExistsException=ResourceAlreadyExistsException,
    )

    def __init__(self, groups: dict[str, dict[str, list[Any]]] | None = None) -> None:
        self.groups = groups if groups is not None else {}
        self.calls: list[str] = []

    def create_log_group(self, *, logGroupName: str) -> None:  # noqa: N803
        self.calls.append("CreateLogGroup")
        if logGroupName in self.groups:
            raise ResourceAlreadyExistsException(logGroupName)
        self.groups[logGroupName] = {}

    def create_log_stream(self, *, logGroupName: str, logStreamName: str) -> None:  # noqa: N803
        self.calls.append("CreateLogStream")
        if logGroupName not in self.groups:
            raise ResourceNotFoundException(logGroupName)
        if logStreamName in self.groups[logGroupName]:
            raise ResourceAlreadyExistsException(logStreamName)
        self.groups[logGroupName][logStreamName] = []

    def put_log_events(self, *, logGroupName: str, logStreamName: str, logEvents: list) -> dict:  # noqa: N803
        self.calls.append("PutLogEvents")
        streams = self.groups.get(logGroupName)
        if streams is None or logStreamName not in streams:
            raise ResourceNotFoundException(logStreamName)
        streams[logStreamName].extend(logEvents)
        return {"nextSequenceToken": "1"}


@pytest.fixture
def lambda_logs(monkeypatch):
    return plugin_module_with_stand_in_hooks(monkeypatch, "lambda_logs")


EVENTS = [{"timestamp": 1, "message": "START\n"}, {"timestamp": 1, "message": "END\n"}]


def test_a_new_environments_stream_is_created_then_written_to(lambda_logs):
    logs = Logs({"/aws/lambda/fn": {}})
    client = lambda_logs.StreamsFirst(logs)
    client.put_log_events(logGroupName="/aws/lambda/fn", logStreamName="env-1", logEvents=EVENTS)
    client.put_log_events(logGroupName="/aws/lambda/fn", logStreamName="env-1", logEvents=EVENTS)
    assert logs.groups == {"/aws/lambda/fn": {"env-1": EVENTS + EVENTS}}
    assert logs.calls == ["CreateLogStream", "PutLogEvents", "PutLogEvents"]


def test_a_missing_group_is_created_with_the_stream(lambda_logs):
    logs = Logs()
    client = lambda_logs.StreamsFirst(logs)
    client.put_log_events(logGroupName="/aws/lambda/fn", logStreamName="env-1", logEvents=EVENTS)
    assert logs.groups == {"/aws/lambda/fn": {"env-1": EVENTS}}
    assert logs.calls == ["CreateLogStream", "CreateLogGroup", "CreateLogStream", "PutLogEvents"]


def test_a_stream_that_exists_already_is_written_to(lambda_logs):
    logs = Logs({"/aws/lambda/fn": {"env-1": []}})
    lambda_logs.StreamsFirst(logs).put_log_events(
        logGroupName="/aws/lambda/fn", logStreamName="env-1", logEvents=EVENTS
    )
    assert logs.groups == {"/aws/lambda/fn": {"env-1": EVENTS}}


def test_a_stream_deleted_later_fails_as_before_for_the_callers_recovery(lambda_logs):
    logs = Logs({"/aws/lambda/fn": {}})
    client = lambda_logs.StreamsFirst(logs)
    client.put_log_events(logGroupName="/aws/lambda/fn", logStreamName="env-1", logEvents=EVENTS)
    del logs.groups["/aws/lambda/fn"]["env-1"]
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.put_log_events(logGroupName="/aws/lambda/fn", logStreamName="env-1", logEvents=[])


def test_the_log_modules_clients_are_the_same_but_for_logs(lambda_logs):
    logs = Logs()
    other = object()
    made: list[dict[str, Any]] = []

    def with_assumed_role(**kwargs: Any) -> Any:
        made.append(kwargs)
        return types.SimpleNamespace(logs=logs, sqs=other)

    connect_to = lambda_logs.ClientsWithStreamsFirst(
        types.SimpleNamespace(with_assumed_role=with_assumed_role, marker="kept")
    )
    factory = connect_to.with_assumed_role(region_name="us-east-1", role_arn="arn:role")
    assert made == [{"region_name": "us-east-1", "role_arn": "arn:role"}]
    assert factory.sqs is other
    assert connect_to.marker == "kept"
    factory.logs.put_log_events(logGroupName="g", logStreamName="s", logEvents=EVENTS)
    assert logs.groups == {"g": {"s": EVENTS}}
