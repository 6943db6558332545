"""Fault injection for tests, honoured only when AGENT_ALLOW_FAULTS=1.

Asked per invocation (payload ``fault``, or the event detail's ``fault``):
- ``crash``: the model raises after BUSY (the run dies mid-session),
- ``hang``: after BUSY, the journal tool blocks until the session is cancelled,
- ``skip_busy``: the scripted model tries COMPLETED straight from INITIATED,
- ``journal_error``: the journal tool's writes fail as if DynamoDB did.
``crash`` and ``skip_busy`` are behaviours of the scripted model; ``hang`` and
``journal_error`` work with any model.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

logger = logging.getLogger(__name__)


class Fault(StrEnum):
    CRASH = "crash"
    HANG = "hang"
    SKIP_BUSY = "skip_busy"
    JOURNAL_ERROR = "journal_error"


class InvalidFault(ValueError):
    """An unknown fault name."""


def requested_fault(payload: dict[str, Any], allow_faults: bool) -> Fault | None:
    """The fault asked for in a payload; None when none is, or faults are not allowed."""
    detail = payload.get("detail") if isinstance(payload.get("detail"), dict) else {}
    name = payload.get("fault") or detail.get("fault")
    if not name:
        return None
    if not allow_faults:
        logger.warning("fault=<%s> | ignored: fault injection needs AGENT_ALLOW_FAULTS=1", name)
        return None
    try:
        return Fault(str(name))
    except ValueError:
        choices = ", ".join(f.value for f in Fault)
        raise InvalidFault(f"unknown fault {name!r}: choose one of {choices}") from None


class InjectedFault(RuntimeError):
    """Raised where a fault asks the agent to fail."""
