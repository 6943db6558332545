"""Assert a session's journal transitions end to end, from the recorded history."""

from __future__ import annotations

from collections.abc import Sequence

from harness.failures import one_line
from harness.sessions import Session, SessionReader


class TransitionMismatch(AssertionError):
    """The session's recorded transitions are not the expected ones."""


def describe(session: Session | None, session_id: str) -> str:
    """What was seen, for a failure message: journal history, execution status, failed state."""
    if session is None:
        return f"session {session_id}: nothing recorded (no journal item, no execution)"
    lines = [
        f"session {session_id}",
        f"  journal: {' -> '.join(session.statuses) or '(no item)'}"
        + (
            f" | error: {one_line(session.item.get('error'))}"
            if session.item and "error" in session.item
            else ""
        ),
    ]
    execution = session.execution
    if execution is None:
        lines.append("  execution: none found")
    else:
        lines.append(f"  execution: {execution.status} ({execution.arn})")
        if execution.last_step:
            lines.append(f"  last state: {execution.last_step.name}")
        if (failed := execution.failed_step) is not None:
            lines.append(f"  failed state: {failed.name}: {failed.error}: {one_line(failed.cause)}")
    return "\n".join(lines)


def assert_transitions(
    reader: SessionReader,
    session_id: str,
    expected: Sequence[str],
    *,
    timeout: float = 30.0,
    execution_status: str | None = None,
) -> Session:
    """Wait for the session to end, then compare its recorded history with ``expected``.

    Reads the journal's ``history`` (never a sampled status, since BUSY can be short-lived);
    optionally checks the execution's final status too. Returns the session for more checks.
    """
    session = reader.wait(session_id, timeout=timeout)
    seen = session.statuses if session else []
    problems = []
    if seen != list(expected):
        problems.append(
            f"expected transitions {' -> '.join(expected)}, saw {' -> '.join(seen) or 'none'}"
        )
    if session is not None and not session.done:
        problems.append(f"the session had not ended after {timeout:.0f} s")
    actual_execution = session.execution.status if session and session.execution else None
    if execution_status and actual_execution != execution_status:
        problems.append(f"expected execution {execution_status}, saw {actual_execution}")
    if problems:
        raise TransitionMismatch("; ".join(problems) + "\n" + describe(session, session_id))
    assert session is not None
    return session
