"""LocalStack's stop no longer waits out its Lambda event pollers' long polls.

Each Lambda function has an event manager whose poller thread long-polls the function's
internal event queue (``WaitTimeSeconds=2``, hard-coded). Stopping the manager (LocalStack's
shutdown stops every function's) sets the poller's stop flag, then joins its thread: the join
waited until the long poll in flight ran out, up to 2 s of every `down` (seen with py-spy:
all but a few samples of LocalStack's "Stopping all services" were in that join). The queue
is deleted right after the join, so here it is shut down first: its long poll ends at once,
the poller sees its stop flag, and the join returns. Pending events go with the queue, as
before. (``stop_for_update``, which keeps the queue for the function's next version, is left
as it is.)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

from localstack.runtime import hooks

from localstack_host_lambda.footprint import once_loaded

EVENT_MANAGER = "localstack.services.lambda_.invocation.event_manager"


def queue_shut_first(stop: Callable[[Any], None]) -> Callable[[Any], None]:
    """``LambdaEventManager.stop``, its event queue shut down (ending a long poll) before it
    stops the poller and waits for it."""

    def stop_without_waiting_out_the_poll(manager: Any) -> None:
        from localstack.services.lambda_.invocation.internal_sqs_queue import (
            get_fake_sqs_client,
        )

        queue_url = manager.event_queue_url
        if queue_url and not manager.stopped.is_set():
            with contextlib.suppress(ValueError):  # no such queue (any more)
                get_fake_sqs_client().queue_manager.get_queue(queue_url).shutdown()
        stop(manager)

    return stop_without_waiting_out_the_poll


def _patch(module: ModuleType) -> None:
    manager: Any = module.LambdaEventManager
    manager.stop = queue_shut_first(manager.stop)


@hooks.on_runtime_create()
def wake_event_pollers_to_stop() -> None:
    """Before LocalStack loads its Lambda provider (on Lambda's first request)."""
    once_loaded(EVENT_MANAGER, _patch)
