"""The LocalStack patch that keeps its clients' connections open: the gateway, built after
it, takes a finalizer that leaves a response's Connection header as the handlers made it,
where LocalStack's own closed every connection a client did not ask to keep."""

from __future__ import annotations

import types

import pytest

from tests.support.helpers import plugin_module_with_stand_in_hooks


def close_unless_asked(chain: object, context: types.SimpleNamespace, response: dict) -> None:
    """Stand-in for LocalStack's set_close_connection_header (Hypercorn server)."""
    if context.headers.get("Connection", "").lower() != "keep-alive":
        response.setdefault("Connection", "close")


def gateway_finalizers(handlers: types.SimpleNamespace) -> list:
    """What LocalStack's gateway does when built: it reads its finalizer from the module."""
    return [handlers.set_close_connection_header]


@pytest.fixture
def connections(monkeypatch):
    return plugin_module_with_stand_in_hooks(monkeypatch, "connections")


def test_a_botocore_request_keeps_its_connection(connections):
    handlers = types.SimpleNamespace(set_close_connection_header=close_unless_asked)
    botocore_request = types.SimpleNamespace(headers={})  # HTTP/1.1, no Connection header
    unpatched: dict[str, str] = {}
    for finalizer in gateway_finalizers(handlers):
        finalizer(None, botocore_request, unpatched)
    assert unpatched == {"Connection": "close"}

    connections.without_close_header(handlers)
    response: dict[str, str] = {}
    for finalizer in gateway_finalizers(handlers):
        finalizer(None, botocore_request, response)
    assert response == {}


def test_a_connection_header_a_handler_set_is_left_as_it_is(connections):
    response = {"Connection": "close"}
    connections.leave_connection_open(None, types.SimpleNamespace(headers={}), response)
    assert response == {"Connection": "close"}
