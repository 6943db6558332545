"""Scaled Wait states in LocalStack's Step Functions interpreter (an on_infra_start hook).

LocalStack runs a Wait state in real time (its request #13099 for a scale is open); MiniStack
has ``SFN_WAIT_SCALE``. The harness starts LocalStack with ``HARNESS_SFN_WAIT_SCALE`` (its
setting of the same name), and this hook makes every Wait state last that fraction of its
duration: the state machine, its definition and its history events are unchanged, only the
time between a Wait's entry and its exit is shorter. Unset or 1: nothing is patched.

The scale holds while few executions wait: a Wait lasts ``scale x N`` of its duration (at
most all of it) where N executions are in a Wait as it starts, so all of them together poll
no more often than one would at the scale. (A burst of 50 sessions polling ten times as
often kept LocalStack's one core busy with polls: 50 sessions took 32 s instead of 4.4 s.)

The wait itself is LocalStack's: on the execution's own event, which a stop, a timeout or an
error pulses, so a stopped execution still leaves its Wait at once. (LocalStack's own loop
counts whole seconds and would wait forever for a fraction of one.)
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
import time
from collections.abc import Iterator
from typing import Any, Protocol

from localstack.runtime import hooks

from localstack_host_lambda.footprint import once_loaded

LOG = logging.getLogger(__name__)

WAIT_SCALE_ENV = "HARNESS_SFN_WAIT_SCALE"
WAIT_FUNCTION = (
    "localstack.services.stepfunctions.asl.component.state.state_wait.wait_function.wait_function"
)


class Execution(Protocol):
    """What a wait needs of LocalStack's Environment: its state event and whether it runs."""

    @property
    def program_state_event(self) -> Any: ...

    def is_running(self) -> bool: ...


def parse_scale(raw: str | None) -> float:
    """The scale ``raw`` names: a number above 0 and at most 1; unset or empty is 1."""
    if raw is None or not raw.strip():
        return 1.0
    try:
        scale = float(raw)
    except ValueError:
        scale = math.nan
    if not (math.isfinite(scale) and 0 < scale <= 1):
        raise ValueError(f"{WAIT_SCALE_ENV}={raw!r}: expected a number above 0 and at most 1")
    return scale


class Waiting:
    """How many executions are in a scaled Wait now (LocalStack runs each in its thread)."""

    def __init__(self) -> None:
        self._count = 0
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def one_more(self) -> Iterator[int]:
        """Count one more while the block runs; yields the count with it."""
        with self._lock:
            self._count += 1
            count = self._count
        try:
            yield count
        finally:
            with self._lock:
                self._count -= 1


def share(scale: float, waiting: int) -> float:
    """The share of its duration a Wait lasts while ``waiting`` executions wait."""
    return min(1.0, scale * max(1, waiting))


def wait_scaled(env: Execution, seconds: float, scale: float, waiting: Waiting) -> None:
    """Wait ``seconds`` times the scale's share unless the execution stops running first."""
    with waiting.one_more() as count:
        deadline = time.monotonic() + max(0.0, seconds) * share(scale, count)
        while env.is_running() and (remaining := deadline - time.monotonic()) > 0:
            env.program_state_event.wait(remaining)


def patch_wait_function(wait_function: Any, scale: float) -> None:
    """Make ``wait_function`` (LocalStack's WaitFunction class, the base of Seconds,
    SecondsPath, Timestamp and TimestampPath) wait ``scale`` of what its state says."""

    waiting = Waiting()

    def _eval_body(self: Any, env: Any) -> None:
        wait_scaled(env, self._get_wait_seconds(env=env), scale, waiting)

    wait_function._eval_body = _eval_body
    wait_function.harness_wait_scale = scale


@hooks.on_infra_start()
def scale_wait_states() -> None:
    try:
        scale = parse_scale(os.environ.get(WAIT_SCALE_ENV))
    except ValueError as error:
        LOG.error("Step Functions Wait states are not scaled: %s", error)
        return
    if scale == 1:
        return
    # when Step Functions is first used, not at the start (speedups.py says why)
    once_loaded(WAIT_FUNCTION, lambda module: patch_wait_function(module.WaitFunction, scale))
    LOG.info(
        "Step Functions Wait states last %g of their duration, more while several"
        " executions wait (%s=%g, set by the harness)",
        scale,
        WAIT_SCALE_ENV,
        scale,
    )
