"""Fault injection for tests, honoured only when AGENT_ALLOW_FAULTS=1 (a test double: not in
the production image; agent/doubles.py loads it when a fault is asked for and allowed).

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
import threading
from enum import StrEnum

from botocore.exceptions import ClientError

from agent.doubles import InvalidFault
from contract import SessionStatus

logger = logging.getLogger(__name__)


class Fault(StrEnum):
    CRASH = "crash"
    HANG = "hang"
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
        self, session_id: str, status: SessionStatus, cancelled: threading.Event
    ) -> None:
        """``hang``: after BUSY, block until the session is cancelled."""
        if self is Fault.HANG and status is SessionStatus.BUSY:
            logger.warning("session_id=<%s> | injected fault hang: blocking", session_id)
            cancelled.wait()


class InjectedFault(RuntimeError):
    """Raised where a fault asks the agent to fail."""
