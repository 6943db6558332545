"""The plug-in's connections to DynamoDB Local (backend_proxy.BackendConnections), against a
real HTTP/1.1 server in the test process: a connection is kept and reused, one the server
closes is given up (after its answer, or later while idle), and every thread of a burst is
answered, with no more idle connections kept than the pool's limit."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.support.helpers import plugin_module_with_stand_in_hooks


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    accepted = 0  # connections the server accepted (one handler each)

    def setup(self) -> None:
        Echo.accepted += 1
        super().setup()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        if b"close" in body:
            self.send_header("Connection", "close")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


KEPT = 4  # idle connections the pool under test keeps


class Server(ThreadingHTTPServer):
    request_queue_size = 64  # a burst's connections arrive at once (socketserver's default: 5)
    daemon_threads = True


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    Echo.accepted = 0
    httpd = Server(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch, server: ThreadingHTTPServer) -> Iterator[Any]:
    module = plugin_module_with_stand_in_hooks(monkeypatch, "backend_proxy")
    pool = module.BackendConnections("127.0.0.1", server.server_address[1], timeout=30, kept=KEPT)
    yield pool
    pool.close()


def post(connections: Any, body: bytes) -> tuple[int, bytes]:
    headers = [("Host", "backend"), ("Content-Length", str(len(body)))]
    status, _, data = connections.request("POST", "/", headers, body)
    return status, data


def test_one_connection_serves_one_thread_after_another(connections: Any) -> None:
    assert post(connections, b"first") == (200, b"first")
    assert post(connections, b"second") == (200, b"second")
    assert Echo.accepted == 1


def test_a_connection_the_server_closes_is_not_used_again(connections: Any) -> None:
    assert post(connections, b"close after this") == (200, b"close after this")
    assert post(connections, b"next") == (200, b"next")
    assert Echo.accepted == 2


def test_a_connection_closed_while_idle_is_replaced(connections: Any) -> None:
    assert post(connections, b"first") == (200, b"first")
    for kept in connections._idle:
        kept.sock.shutdown(2)  # as a backend's idle timeout ends it
    assert post(connections, b"after") == (200, b"after")
    assert Echo.accepted == 2


def test_every_request_of_a_burst_is_answered(connections: Any) -> None:
    bodies = [f"request {i}".encode() for i in range(200)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda body: post(connections, body), bodies))
    assert answers == [(200, body) for body in bodies]
    assert 0 < len(connections._idle) <= KEPT
