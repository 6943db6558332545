"""Stack operations that answer once they are done (loaded through LocalStack's on_infra_start
hook).

LocalStack's CloudFormation (v2 engine) runs CreateStack, UpdateStack, DeleteStack and
ExecuteChangeSet in a worker thread and answers at once, as AWS does. Its clients then poll
until the stack is stable, and the CDK CLI polls every 5 s: a stack that LocalStack updates in
a fraction of a second was reported done 5 s later, once per deploy and once for the
bootstrap. Here the request waits for its worker thread (at most ``WAIT_SECONDS``; a longer
operation answers then and is polled as before), so the client's first look finds the stack
stable. What is deployed, the stack's events and states, and the API's answers are unchanged:
only the moment the answer comes.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

from localstack.runtime import hooks

PROVIDER_MODULE = "localstack.services.cloudformation.v2.provider"
# Below botocore's 60 s read timeout (the harness's own client), far below the CDK CLI's 300 s.
WAIT_SECONDS = 30.0


def waiting_for_stack_operations(
    start: Callable[..., threading.Thread],
) -> Callable[..., threading.Thread]:
    """``start`` (localstack.utils.threads.start_worker_thread), waiting for the thread when
    the CloudFormation provider starts it (the operation's worker); unchanged for the rest."""

    def start_worker_thread(method: Any, params: Any = None, name: str | None = None) -> Any:
        thread = start(method, params, name=name)
        if sys._getframe(1).f_globals.get("__name__") == PROVIDER_MODULE:
            thread.join(WAIT_SECONDS)
        return thread

    return start_worker_thread


@hooks.on_infra_start()
def wait_for_stack_operations() -> None:
    from localstack.utils import threads

    threads.start_worker_thread = waiting_for_stack_operations(threads.start_worker_thread)
    # Providers load on their first request, after this hook, and import the patched name;
    # one loaded already (EAGER_SERVICE_LOADING) is patched in place.
    if (provider := sys.modules.get(PROVIDER_MODULE)) is not None:
        provider.start_worker_thread = threads.start_worker_thread  # type: ignore[attr-defined]
