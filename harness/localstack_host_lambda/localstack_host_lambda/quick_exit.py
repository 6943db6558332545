"""LocalStack ends its process as soon as its own shutdown is done (an on_runtime_create hook).

After a stop (SIGTERM: ``make down``, the test fixtures, the bench) LocalStack runs its
shutdown hooks (services, DynamoDB Local's JVM, Lambda environments), cleans up its files and
returns; the interpreter then tore down its heap for 3-4 s more on a 2-core machine (seen with
py-spy: the main thread in the garbage collector's final collection, and module teardown),
work whose result nobody sees. ``exit_after_shutdown`` ends the process right after
LocalStack's last shutdown step, with LocalStack's own exit code, once the logs are flushed.
A runtime that ends with an exception takes the usual way out (its traceback, its status).

``wake_loop_to_stop``: LocalStack's server stops its event loop from the shutdown thread with
``loop.stop()``, which is not thread-safe: it only sets a flag. Where the loop has already run
the shutdown's other callbacks and gone back to wait (epoll, no timeout), nothing wakes it to
see the flag, so the main thread serves on and the last steps (cleaning up its threads and
processes: DynamoDB Local's JVM, Lambda environments) never run. Seen under load: SIGTERM,
"Stopping all services", then nothing until `down` killed it. The patch also schedules the
stop through ``call_soon_threadsafe``, which wakes the loop.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

from localstack.runtime import hooks


def exit_when_returned(on_return: Callable[[Any], None]) -> Callable[[Any], None]:
    """``on_return`` (the runtime's last step, run in a ``finally``), then the process's end
    with the runtime's exit code, unless an exception is on its way out."""

    def on_return_then_exit(runtime: Any) -> None:
        on_return(runtime)
        if sys.exc_info()[1] is not None:
            return
        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(int(runtime.exit_code))

    return on_return_then_exit


def wake_loop_to_stop(shutdown: Callable[[Any], None]) -> Callable[[Any], None]:
    """``shutdown`` (the server's), then its loop's stop scheduled thread-safely, which wakes
    the loop if it waits."""

    def shutdown_then_wake(server: Any) -> None:
        shutdown(server)
        with contextlib.suppress(RuntimeError):  # the loop has ended and closed already
            server.loop.call_soon_threadsafe(server.loop.stop)

    return shutdown_then_wake


@hooks.on_runtime_create()
def exit_after_shutdown() -> None:
    from localstack.runtime.runtime import LocalstackRuntime

    LocalstackRuntime._on_return = exit_when_returned(LocalstackRuntime._on_return)


@hooks.on_runtime_create()
def stop_server_loop_thread_safely() -> None:
    from localstack.runtime.server.hypercorn import HypercornRuntimeServer

    HypercornRuntimeServer.shutdown = wake_loop_to_stop(HypercornRuntimeServer.shutdown)
