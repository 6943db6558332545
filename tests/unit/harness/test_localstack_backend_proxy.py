"""The plug-in's DynamoDB Local forwarding (backend_proxy.py), its pure parts: the headers it
sends and returns, when a kept connection is given up, and where it is installed."""

from __future__ import annotations

import socket
import types

import pytest

from tests.support.helpers import plugin_module_with_stand_in_hooks


@pytest.fixture
def backend_proxy(monkeypatch):
    return plugin_module_with_stand_in_hooks(monkeypatch, "backend_proxy")


def test_the_original_host_is_kept_and_the_client_added_to_the_forwarded_chain(backend_proxy):
    sent = backend_proxy.forwarded_headers(
        [
            ("Host", "localhost:4566"),
            ("X-Forwarded-For", "192.0.2.1"),
            ("Content-Length", "999"),
            ("Transfer-Encoding", "chunked"),
            ("X-Amz-Target", "DynamoDB_20120810.GetItem"),
        ],
        "10.0.0.7",
        12,
        "127.0.0.1:45000",
    )
    assert sent == [
        ("Host", "localhost:4566"),
        ("X-Amz-Target", "DynamoDB_20120810.GetItem"),
        ("X-Forwarded-For", "192.0.2.1, 10.0.0.7"),
        ("Content-Length", "12"),
    ]


def test_a_request_without_host_or_client_names_the_backend_and_no_chain(backend_proxy):
    sent = backend_proxy.forwarded_headers([("x-amz-target", "T")], None, 0, "127.0.0.1:45000")
    assert sent == [("x-amz-target", "T"), ("Host", "127.0.0.1:45000"), ("Content-Length", "0")]


def test_a_read_body_loses_its_framing_headers_and_keeps_repeated_ones(backend_proxy):
    received = [
        ("Transfer-Encoding", "chunked"),
        ("Content-Length", "5"),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
    ]
    assert backend_proxy.response_headers(received) == [
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
    ]


def test_a_connection_the_backend_closed_or_never_opened_is_dropped(backend_proxy):
    ours, backends = socket.socketpair()
    try:
        connection = types.SimpleNamespace(sock=ours)
        assert not backend_proxy.is_dropped(connection)
        backends.close()
        assert backend_proxy.is_dropped(connection)
        assert backend_proxy.is_dropped(types.SimpleNamespace(sock=None))
    finally:
        ours.close()


def test_each_new_server_forwards_through_a_backend_proxy_to_its_own_url(backend_proxy):
    class Server:  # LocalStack's DynamodbServer, as far as the patch reads it
        def __init__(self, port: int) -> None:
            self.url = f"http://localhost:{port}"
            self.proxy = types.SimpleNamespace(proxy="rolo's proxy")

    backend_proxy.with_backend_proxy(Server)
    server = Server(45001)
    assert isinstance(server.proxy.proxy, backend_proxy.BackendProxy)
    assert server.proxy.proxy.forward_base_url == "http://localhost:45001"
    assert server.proxy.proxy.connections.port == 45001
