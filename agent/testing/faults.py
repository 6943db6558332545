"""Fault injection for tests, honoured only when AGENT_ALLOW_FAULTS=1 (a test double: not in
the production image; agent/doubles.py loads it when a fault is asked for and allowed).

Asked per invocation (payload ``fault``, or the event detail's ``fault``):
- ``crash``: the model raises after BUSY (the run dies mid-session),
- ``hang``: after BUSY, the journal tool blocks until the session is cancelled,
- ``hold``: after BUSY, the journal tool blocks until another hand moves the session on (as
  the workflow's RecordTimeout does; a test that must see the session running ends it when
  it has seen it) or it is cancelled,
- ``skip_busy``: the scripted model tries COMPLETED straight from INITIATED,
- ``journal_error``: the journal tool's writes fail as if DynamoDB did.
``crash`` and ``skip_busy`` are behaviours of the scripted model; ``hang``, ``hold`` and
``journal_error`` work with any model.
"""

from __future__ import annotations

import logging
import threading
from enum import StrEnum
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from agent.doubles import InvalidFault
from contract import SessionStatus

if TYPE_CHECKING:
    from agent.journal import Journal

logger = logging.getLogger(__name__)

# How often a held session reads its journal item to see whether it was moved on.
HOLD_POLL_SECONDS = 0.1


class Fault(StrEnum):
    CRASH = "crash"
    HANG = "hang"
    HOLD = "hold"
    SKIP_BUSY = "skip_busy"
    JOURNAL_ERROR = "journal_error"

    @classmethod
    def named(cls, name: str) -> Fault:
        try:
            return cls(name)
        except ValueError:
            choices = ", ".join(f.value for f in cls)
            raise InvalidFault(f"unknown fault {name!r}: choose one of {choices}") from None

    # Hooks the journal tool calls around each write (agent/tools.py).
    def before_journal_write(self) -> None:
        """``journal_error``: the write fails as if DynamoDB did (what boto3 raises)."""
        if self is Fault.JOURNAL_ERROR:
            raise ClientError(
                {
                    "Error": {
                        "Code": "InternalServerError",
                        "Message": "injected fault journal_error",
                    }
                },
                "UpdateItem",
            )

    def after_journal_write(
        self,
        journal: Journal,
        session_id: str,
        status: SessionStatus,
        cancelled: threading.Event,
    ) -> None:
        """After BUSY, ``hang`` blocks until the session is cancelled; ``hold`` until the
        session's item leaves BUSY by another hand, or the session is cancelled."""
        if status is not SessionStatus.BUSY or self not in (Fault.HANG, Fault.HOLD):
            return
        logger.warning("session_id=<%s> | injected fault %s: blocking", session_id, self)
        if self is Fault.HANG:
            cancelled.wait()
            return
        while not cancelled.wait(HOLD_POLL_SECONDS):
            if (journal.get(session_id) or {}).get("status") != SessionStatus.BUSY:
                return


class InjectedFault(RuntimeError):
    """Raised where a fault asks the agent to fail."""
