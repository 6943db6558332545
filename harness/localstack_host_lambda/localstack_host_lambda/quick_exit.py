"""LocalStack ends its process as soon as its own shutdown is done (an on_runtime_create hook).

After a stop (SIGTERM: ``make down``, the test fixtures, the bench) LocalStack runs its
shutdown hooks (services, DynamoDB Local's JVM, Lambda environments), cleans up its files and
returns; the interpreter then tore down its heap for 3-4 s more on a 2-core machine (seen with
py-spy: the main thread in the garbage collector's final collection, and module teardown),
work whose result nobody sees. ``exit_after_shutdown`` ends the process right after
LocalStack's last shutdown step, with LocalStack's own exit code, once the logs are flushed.
A runtime that ends with an exception takes the usual way out (its traceback, its status).
"""

from __future__ import annotations

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


@hooks.on_runtime_create()
def exit_after_shutdown() -> None:
    from localstack.runtime.runtime import LocalstackRuntime

    LocalstackRuntime._on_return = exit_when_returned(LocalstackRuntime._on_return)
