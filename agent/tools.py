"""The agent's tools: the journal (bound to one session) and a small text analysis tool."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from strands import tool

from agent.journal import Journal, JournalError
from contract import SessionStatus

if TYPE_CHECKING:  # a test double, absent from the production image
    from agent.testing.faults import Fault

logger = logging.getLogger(__name__)


def _error(message: str) -> dict[str, Any]:
    return {"status": "error", "content": [{"text": message}]}


def journal_tool(
    journal: Journal,
    session_id: str,
    *,
    fault: Fault | None = None,
    cancelled: threading.Event | None = None,
    before_write: Callable[[], None] = lambda: None,
) -> Any:
    """The ``journal`` tool for one session: the model gives a status, never a session id.
    ``before_write`` runs before each status write (the agent's steps so far are written)."""
    cancelled = cancelled or threading.Event()

    @tool(name="journal")
    def journal_update(status: str, note: str = "") -> dict[str, Any]:
        """Record the session's status in the journal.

        Args:
            status: BUSY when you start working; COMPLETED when done; FAILED if you cannot.
            note: For COMPLETED, a short result; for FAILED, the reason; else optional.
        """
        try:
            target = SessionStatus(status.strip().upper())
        except ValueError:
            return _error(f"unknown status {status!r}: use BUSY, COMPLETED or FAILED")
        before_write()
        try:
            if fault is not None:
                fault.before_journal_write()
            journal.transition(
                session_id,
                target,
                note=note,
                result=note if target is SessionStatus.COMPLETED else None,
                error=(note or "the agent reported failure")
                if target is SessionStatus.FAILED
                else None,
            )
        except JournalError as refused:
            return _error(f"the journal refused the update: {refused}")
        except (ClientError, BotoCoreError) as failed:
            logger.error("session_id=<%s>, error=<%s> | journal write failed", session_id, failed)
            return _error(f"the journal write failed: {failed}")
        if fault is not None:
            fault.after_journal_write(journal, session_id, target, cancelled)
        return {"status": "success", "content": [{"text": f"session is now {target}"}]}

    return journal_update


def text_digest(text: str) -> str:
    """A short SHA-256 of the text's UTF-8 bytes: shows which text, byte for byte, was read."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


@tool
def analyze_text(text: str) -> dict[str, int | str]:
    """Count the words, characters and sentences of a text, and give its SHA-256 digest.

    Args:
        text: The text to analyse.
    """
    sentences = sum(text.count(mark) for mark in ".!?") or (1 if text.strip() else 0)
    return {
        "words": len(text.split()),
        "characters": len(text),
        "sentences": sentences,
        "sha256": text_digest(text),
    }
