"""Run one session: the Strands agent with its tools, bounded in time, always ending terminal.

If the run raises, times out, or ends without COMPLETED/FAILED, the runner itself records
FAILED with the reason, so no session is left BUSY or INITIATED.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from strands import Agent
from strands.types.exceptions import EventLoopException

from agent.journal import IllegalTransition, Journal, JournalError
from agent.models.factory import build_model
from agent.settings import AgentSettings
from agent.steps import StepRecorder
from agent.tools import analyze_text, journal_tool
from contract import TERMINAL_STATUSES, SessionStatus

if TYPE_CHECKING:  # a test double, absent from the production image
    from agent.testing.faults import Fault

logger = logging.getLogger(__name__)

SYSTEM_PROMPT = (Path(__file__).parent / "prompt.md").read_text()


def build_agent(
    journal: Journal,
    session_id: str,
    settings: AgentSettings,
    *,
    fault: Fault | None = None,
    cancelled: threading.Event | None = None,
    steps: StepRecorder | None = None,
) -> Agent:
    # Each model turn and tool call, journaled beside the session (the timeline shows them),
    # each status written after the steps that led to it; whoever runs the agent closes
    # ``steps`` when the run ends (its last steps are written then, else a moment later).
    steps = steps or StepRecorder(journal.client, journal.table_name, session_id)
    journal_update = journal_tool(
        journal, session_id, fault=fault, cancelled=cancelled, before_write=steps.flush
    )
    return Agent(
        model=build_model(settings, fault),
        tools=[journal_update, analyze_text],
        system_prompt=SYSTEM_PROMPT,
        callback_handler=None,
        hooks=[steps],
    )


MAX_ANSWER_IN_REASON = 300


def record_failure(journal: Journal, session_id: str, reason: str) -> None:
    """FAILED with ``reason``, unless the session already ended (then nothing changes)."""
    try:
        moved = journal.transition(session_id, SessionStatus.FAILED, note=reason, error=reason)
    except IllegalTransition:
        logger.info("session_id=<%s> | already terminal, failure not recorded", session_id)
    except (JournalError, ClientError, BotoCoreError) as error:
        logger.error("session_id=<%s>, error=<%s> | could not record FAILED", session_id, error)
    else:
        if moved:
            logger.warning("session_id=<%s>, reason=<%s> | recorded FAILED", session_id, reason)


def _final_status(journal: Journal, session_id: str) -> str | None:
    if ended := journal.ended_as(session_id):  # its own terminal write: no read needed
        return ended
    try:
        item = journal.get(session_id) or {}
    except (ClientError, BotoCoreError) as error:
        logger.error("session_id=<%s>, error=<%s> | could not read the journal", session_id, error)
        return None
    return item.get("status")


def run_session(
    session_id: str,
    task: str,
    settings: AgentSettings,
    fault: Fault | None = None,
    *,
    journal: Journal | None = None,
) -> str | None:
    """Run the agent on ``task``; returns the session's final journal status.

    ``journal`` defaults to one over ``settings.journal_table_name``.
    """
    journal = journal or Journal(settings.journal_table_name)
    cancelled = threading.Event()
    steps = StepRecorder(journal.client, journal.table_name, session_id)
    try:
        agent = build_agent(
            journal, session_id, settings, fault=fault, cancelled=cancelled, steps=steps
        )
    except Exception as error:  # noqa: BLE001 - a session that cannot start must still end
        record_failure(
            journal, session_id, f"agent could not start: {type(error).__name__}: {error}"
        )
        return _final_status(journal, session_id)
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["result"] = agent(task)
        except Exception as error:  # noqa: BLE001 - any agent failure must end the session
            outcome["error"] = error

    logger.info("session_id=<%s>, fault=<%s> | agent run starting", session_id, fault)
    worker = threading.Thread(target=work, daemon=True, name=f"session-{session_id[:8]}")
    worker.start()
    worker.join(settings.session_timeout_seconds)
    steps.close()  # its steps before the status the runner may still write
    if worker.is_alive():
        # FAILED first, then release an injected hang: released first, the agent could write
        # COMPLETED before the failure (seen on a loaded machine); a stuck model call is left
        # to finish alone, and its late writes are refused (the status is terminal).
        record_failure(
            journal, session_id, f"timed out after {settings.session_timeout_seconds:g} s"
        )
        cancelled.set()
        return _final_status(journal, session_id)
    if "error" in outcome:
        crash = outcome["error"]
        if isinstance(crash, EventLoopException):  # Strands wraps what the loop raised
            crash = crash.original_exception
        reason = f"agent crashed: {type(crash).__name__}: {crash}"
    else:
        status = _final_status(journal, session_id)
        if status in TERMINAL_STATUSES:
            logger.info("session_id=<%s>, status=<%s> | agent run ended", session_id, status)
            return status
        reason = f"agent ended without a terminal status (last status: {status})"
        answer = str(outcome.get("result") or "").strip()
        if answer:
            reason += f"; its last answer: {answer[:MAX_ANSWER_IN_REASON]}"
    record_failure(journal, session_id, reason)
    return _final_status(journal, session_id)
