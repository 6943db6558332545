"""One bounded poller: every wait in the harness and its tests goes through ``poll``.

The idea is LocalStack's ``poll_condition`` and powertools' retry helpers: a bound, an
interval (optionally growing), and, when the bound is reached, an error that says what was
awaited, for how long, and what the last check saw (its value, or the exception it raised).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from harness.errors import HarnessError


class PollTimeout(HarnessError):
    """``what`` was not seen within ``timeout`` seconds; ``last`` is what the last check saw
    (a value, or the exception it raised)."""

    def __init__(self, what: str, timeout: float, last: Any, checks: int) -> None:
        self.what = what
        self.timeout = timeout
        self.last = last
        self.checks = checks
        seen = (
            f"last error: {type(last).__name__}: {last}"
            if isinstance(last, BaseException)
            else f"last: {last!r}"
        )
        super().__init__(f"{what} not seen within {timeout:g} s ({checks} checks; {seen})")


def poll[T](
    check: Callable[[], T],
    *,
    timeout: float,
    what: str,
    interval: float = 0.1,
    backoff: float = 1.0,
    max_interval: float | None = None,
    accept: Callable[[T], bool] = bool,
    retry_on: type[BaseException] | tuple[type[BaseException], ...] = (),
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call ``check`` until ``accept`` takes its value (default: any truthy value); return it.

    Checks start at once and are ``interval`` seconds apart (times ``backoff`` after each
    one, up to ``max_interval``); the last check runs at the bound, never after it. An
    exception of a ``retry_on`` type counts as "not yet" (and is reported if it is the last
    thing seen); any other exception ends the wait at once (a check's way to give up early,
    e.g. when the process it waits for has died). Raises ``PollTimeout`` at the bound.
    ``clock`` and ``sleep`` are injectable for tests.
    """
    deadline = clock() + timeout
    last: Any = None
    checks = 0
    while True:
        checks += 1
        try:
            value = check()
        except retry_on as error:
            last = error
        else:
            if accept(value):
                return value
            last = value
        remaining = deadline - clock()
        if remaining <= 0:
            raise PollTimeout(what, timeout, last, checks)
        sleep(min(interval, remaining))
        interval = interval * backoff
        if max_interval is not None:
            interval = min(interval, max_interval)
