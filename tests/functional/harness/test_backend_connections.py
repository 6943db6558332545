"""The plug-in's connections to DynamoDB Local (backend_proxy.BackendConnections), against a
real HTTP/1.1 server in the test process: a connection is kept and reused, one the server
closes is given up (after its answer, or later while idle), every thread of a burst is
answered, with no more idle connections kept than the pool's limit, and no more calls are at
the server at once than the pool's limit of open connections."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from harness.polling import poll
from tests.support.helpers import plugin_module_with_stand_in_hooks


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    accepted = 0  # connections the server accepted (one handler each)
    # Requests saying "hold" wait for `released`; the most of them in the server at once.
    released = threading.Event()
    holding = 0
    most_holding = 0
    counting = threading.Lock()

    def setup(self) -> None:
        Echo.accepted += 1
        super().setup()

    def hold(self) -> None:
        with Echo.counting:
            Echo.holding += 1
            Echo.most_holding = max(Echo.most_holding, Echo.holding)
        Echo.released.wait(10)
        with Echo.counting:
            Echo.holding -= 1

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if b"hold" in body:
            self.hold()
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
    Echo.accepted = Echo.holding = Echo.most_holding = 0
    Echo.released.clear()
    httpd = Server(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    Echo.released.set()
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


def test_a_thread_beyond_the_open_connections_waits_for_one(
    monkeypatch: pytest.MonkeyPatch, server: ThreadingHTTPServer
) -> None:
    module = plugin_module_with_stand_in_hooks(monkeypatch, "backend_proxy")
    pool = module.BackendConnections("127.0.0.1", server.server_address[1], timeout=30, limit=2)
    with ThreadPoolExecutor(max_workers=3) as threads:
        held = [threads.submit(post, pool, b"hold") for _ in range(2)]
        poll(lambda: Echo.holding == 2, timeout=30, interval=0.01, what="two calls held")
        quick = threads.submit(post, pool, b"quick")
        # The server would answer it at once; it waits for one of the held calls' connection.
        # (A bound: without the limit the server answers it within milliseconds.)
        with pytest.raises(FuturesTimeout):
            quick.result(timeout=1)
        Echo.released.set()
        assert [call.result(timeout=30) for call in held] == [(200, b"hold")] * 2
        assert quick.result(timeout=30) == (200, b"quick")
    pool.close()
    assert Echo.most_holding == 2
