"""LocalStack talks to DynamoDB Local over plain keep-alive connections (an on_infra_start hook).

LocalStack's DynamoDB is DynamoDB Local behind a proxy: every call (each journal write of the
agent, each of the workflow's polls) is parsed by the gateway, then forwarded to the JVM over
HTTP. The forwarding used rolo's general proxy: it rebuilt the request through a WSGI
environment (werkzeug's EnvironBuilder), then sent it with ``requests``, whose session keeps
10 connections and opens a new one for every thread beyond them (a burst has ~100). Both
were about half of LocalStack's CPU for a DynamoDB call (yappi, 300 GetItems).
``forward_dynamodb_directly`` gives DynamoDB's server a ``BackendProxy``: the same request
(method, path and query, headers with the original Host and X-Forwarded-For, body) and the
same response (status, headers, body bytes undecoded) over ``http.client`` connections kept
open and shared by all threads, one at a time each. A connection the backend has closed is
noticed before reuse, as urllib3 does; an error on a call is raised as before.

At most ``OPEN_CONNECTIONS`` calls are at DynamoDB Local at once; a burst's other threads wait
for a connection. DynamoDB Local runs its SQLite work on one queue anyway, but its Jetty server
started a worker thread for each call in flight: a burst of 100 left ~100 idle threads (each
~100 kB of stack and thread state resident), kept for Jetty's minute of idle timeout.
"""

from __future__ import annotations

import http.client
import select
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from localstack.runtime import hooks

# Headers the proxy sets itself (from the body it sends, and the client it forwards for).
REPLACED_HEADERS = frozenset({"content-length", "transfer-encoding", "x-forwarded-for"})
# Idle connections kept; a burst's threads beyond them open their own and close them after
# (with 8 and with 64 the burst of 100 took as long; fewer idle ones hold less in both processes).
KEPT_CONNECTIONS = 8
# Calls forwarded at once (so DynamoDB Local's worker threads; its SQLite queue serialises them).
OPEN_CONNECTIONS = 8
TIMEOUT_SECONDS = 60.0


def is_dropped(connection: http.client.HTTPConnection) -> bool:
    """Whether a kept connection can no longer be used: the backend closed it (its socket
    reads as ready: end of file), or it was never opened."""
    sock = connection.sock
    if sock is None:
        return True
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def forwarded_headers(
    headers: Iterable[tuple[str, str]], client_ip: str | None, body_length: int, host: str
) -> list[tuple[str, str]]:
    """The request's headers as rolo's proxy sent them: the original Host (else the
    backend's), the client added to X-Forwarded-For, the length of the body as sent."""
    items = list(headers)
    forwarded_for = next((v for k, v in items if k.lower() == "x-forwarded-for"), None)
    result = [(k, v) for k, v in items if k.lower() not in REPLACED_HEADERS]
    if not any(k.lower() == "host" for k, _ in result):
        result.append(("Host", host))
    if client_ip:
        chain = f"{forwarded_for}, {client_ip}" if forwarded_for else client_ip
        result.append(("X-Forwarded-For", chain))
    result.append(("Content-Length", str(body_length)))
    return result


def response_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The backend's headers for the response LocalStack builds: http.client has already
    read a chunked body whole, so its framing headers no longer apply."""
    return [(k, v) for k, v in headers if k.lower() not in ("transfer-encoding", "content-length")]


class BackendConnections:
    """Keep-alive connections to one backend, each used by one thread at a time, at most
    ``limit`` of them in use (a thread beyond waits for one)."""

    def __init__(
        self,
        host: str,
        port: int,
        timeout: float = TIMEOUT_SECONDS,
        kept: int = KEPT_CONNECTIONS,
        limit: int = OPEN_CONNECTIONS,
    ) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.kept = kept
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._in_use = threading.BoundedSemaphore(limit)

    def _take(self) -> http.client.HTTPConnection:
        while True:
            with self._lock:
                connection = self._idle.pop() if self._idle else None
            if connection is None:
                return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            if not is_dropped(connection):
                return connection
            connection.close()

    def _give_back(self, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < self.kept:
                self._idle.append(connection)
                return
        connection.close()

    def request(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Send one request; the status, the headers (repeated ones kept) and the body."""
        if not self._in_use.acquire(timeout=self.timeout):
            raise TimeoutError(f"no connection to {self.host}:{self.port} free in {self.timeout} s")
        try:
            return self._send(method, target, headers, body)
        finally:
            self._in_use.release()

    def _send(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = self._take()
        try:
            # Host and Accept-Encoding exactly as given (or none), as rolo's proxy sent them.
            connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                connection.putheader(name, value)
            connection.endheaders(body or None)
            response = connection.getresponse()
            data = response.read()
        except BaseException:
            connection.close()
            raise
        if response.will_close:
            connection.close()
        else:
            self._give_back(connection)
        return response.status, response.getheaders(), data

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


class BackendProxy:
    """What LocalStack's ``AwsRequestProxy`` calls (rolo's ``Proxy.forward``), over
    ``BackendConnections`` to ``forward_base_url``."""

    def __init__(self, forward_base_url: str) -> None:
        parts = urlsplit(forward_base_url)
        self.forward_base_url = forward_base_url
        self.netloc = parts.netloc
        self.connections = BackendConnections(parts.hostname or "localhost", parts.port or 80)

    def forward(
        self,
        request: Any,
        forward_path: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        from rolo.request import get_raw_path, restore_payload
        from werkzeug import Response

        path = get_raw_path(request) if forward_path is None else forward_path
        target = "/" + path.lstrip("/")
        if query := request.query_string:
            target += "?" + query.decode("latin-1")
        body = restore_payload(request)
        sent = forwarded_headers(
            list(request.headers.items()), request.remote_addr, len(body), self.netloc
        )
        if headers:
            extra = {k.lower() for k in headers}
            sent = [(k, v) for k, v in sent if k.lower() not in extra] + list(headers.items())
        status, received, data = self.connections.request(request.method, target, sent, body)
        return Response(response=data, status=status, headers=response_headers(received))

    def close(self) -> None:
        self.connections.close()


def with_backend_proxy(server_class: Any) -> None:
    """Make each new ``server_class`` (LocalStack's DynamodbServer) forward through a
    ``BackendProxy`` to its own URL."""
    original_init = server_class.__init__

    def init_with_backend_proxy(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.proxy.proxy = BackendProxy(self.url)

    server_class.__init__ = init_with_backend_proxy


@hooks.on_infra_start()
def forward_dynamodb_directly() -> None:
    from localstack.services.dynamodb.server import DynamodbServer

    with_backend_proxy(DynamodbServer)
