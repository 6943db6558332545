"""LocalStack keeps a client's connection open (the project's plug-in, connections.py): an
HTTP/1.1 request with no Connection header, as botocore sends it, is answered without
``Connection: close``, and the next request goes over the same connection."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit


def test_two_requests_go_over_one_connection(localstack: str) -> None:
    endpoint = urlsplit(localstack)
    connection = http.client.HTTPConnection(endpoint.hostname or "", endpoint.port, timeout=30)
    try:
        connection.request("GET", "/_localstack/health")
        first = connection.getresponse()
        first.read()
        socket = connection.sock
        assert first.status == 200
        assert first.getheader("Connection", "").lower() != "close"
        assert socket is not None

        connection.request("GET", "/_localstack/health")
        second = connection.getresponse()
        second.read()
        assert second.status == 200
        assert connection.sock is socket  # not closed and opened again
    finally:
        connection.close()
