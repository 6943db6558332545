"""A Lambda environment's log stream is created before its first logs (an on_infra_start hook).

LocalStack ships each invocation's logs to CloudWatch Logs from one thread per function
(``LogHandler.run_log_loop``): a PutLogEvents, and when that fails because the stream does
not exist, a CreateLogGroup (which fails too once the group exists), a CreateLogStream and the
PutLogEvents again. Every execution environment writes to a stream of its own, so each new
environment paid four calls and two errors through LocalStack's gateway: a burst of 100
sessions starts 100 environments, and this thread took ~0.6 of LocalStack's ~9 CPU-s.

``create_log_streams_first`` hands the loop a client that creates a stream it has not
written to yet before its first PutLogEvents (the group only when the stream's creation says
it is missing): two calls for a new environment's first logs, one after. The same events
reach the same group and stream; the loop's own recovery still runs if a stream is deleted
later.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from typing import Any

from localstack.runtime import hooks

KNOWN_STREAMS = 4096  # streams remembered per function (an environment's stream each)


class StreamsFirst:
    """A CloudWatch Logs client whose ``put_log_events`` first creates a stream it has not
    written to; every other attribute is the client's own."""

    def __init__(self, client: Any, size: int = KNOWN_STREAMS) -> None:
        self._client = client
        self._size = size
        self._known: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def put_log_events(self, *, logGroupName: str, logStreamName: str, **kwargs: Any) -> Any:  # noqa: N803 - boto3's names
        stream = (logGroupName, logStreamName)
        with self._lock:
            known = stream in self._known
        if not known:
            self._create_stream(logGroupName, logStreamName)
            with self._lock:
                self._known[stream] = None
                while len(self._known) > self._size:
                    self._known.popitem(last=False)
        return self._client.put_log_events(
            logGroupName=logGroupName, logStreamName=logStreamName, **kwargs
        )

    def _create_stream(self, group: str, stream: str) -> None:
        exists = self._client.exceptions.ResourceAlreadyExistsException
        try:
            self._client.create_log_stream(logGroupName=group, logStreamName=stream)
        except exists:
            return
        except self._client.exceptions.ResourceNotFoundException:  # the group is missing
            with contextlib.suppress(exists):
                self._client.create_log_group(logGroupName=group)
            with contextlib.suppress(exists):
                self._client.create_log_stream(logGroupName=group, logStreamName=stream)


class ClientsWithStreamsFirst:
    """Stands for ``connect_to`` in LocalStack's Lambda log module: the clients it makes
    there are the same, but their CloudWatch Logs client is wrapped in ``StreamsFirst``."""

    def __init__(self, connect_to: Any) -> None:
        self._connect_to = connect_to

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connect_to, name)

    def with_assumed_role(self, **kwargs: Any) -> Any:
        return _Factory(self._connect_to.with_assumed_role(**kwargs))


class _Factory:
    def __init__(self, factory: Any) -> None:
        self._factory = factory

    def __getattr__(self, name: str) -> Any:
        return getattr(self._factory, name)

    @property
    def logs(self) -> StreamsFirst:
        return StreamsFirst(self._factory.logs)


@hooks.on_infra_start()
def create_log_streams_first() -> None:
    from localstack.services.lambda_.invocation import logs

    logs.connect_to = ClientsWithStreamsFirst(logs.connect_to)
