"""Assert a session end to end: its journal transitions (from the recorded history) and the
agent's own steps (model turns and tool calls, as it journaled them)."""

from __future__ import annotations

from collections.abc import Sequence

from contract import SessionStatus
from harness.failures import one_line
from harness.sessions import AgentStep, Session, SessionReader

# A session that went right, as its journal records it.
COMPLETED_TRANSITIONS = [SessionStatus.INITIATED, SessionStatus.BUSY, SessionStatus.COMPLETED]


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
    timeout: float | None = None,
    execution_status: str | None = None,
) -> Session:
    """Wait for the session to end (at most ``timeout`` seconds; by default the stack's
    ``session_end_timeout_seconds``), then compare its recorded history with ``expected``.

    Reads the journal's ``history`` (never a sampled status, since BUSY can be short-lived);
    optionally checks the execution's final status too. Returns the session for more checks.
    """
    if timeout is None:
        timeout = reader.outputs.session_end_timeout_seconds
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


def assert_completed(
    reader: SessionReader, session_id: str, *, timeout: float | None = None
) -> Session:
    """The session went right: INITIATED -> BUSY -> COMPLETED, its execution SUCCEEDED."""
    return assert_transitions(
        reader, session_id, COMPLETED_TRANSITIONS, timeout=timeout, execution_status="SUCCEEDED"
    )


class AgentStepMismatch(AssertionError):
    """The agent's journaled steps are not the expected ones."""


def _describe_steps(session: Session) -> str:
    lines = [f"agent steps of session {session.session_id}:"]
    for step in session.agent_steps:
        arguments = " ".join(f"{k}={v}" for k, v in step.arguments.items())
        outcome = f" error: {step.error}" if step.error else ""
        lines.append(
            f"  {step.label}({arguments}){outcome}"
            if step.kind == "tool"
            else (f"  {step.label}: {step.stop_reason}{outcome}")
        )
    if not session.agent_steps:
        lines.append("  none journaled")
    return "\n".join(lines)


def _matches(step: AgentStep, name: str, arguments: dict[str, str]) -> bool:
    return step.name == name and all(step.arguments.get(k) == v for k, v in arguments.items())


def assert_agent_steps(
    session: Session,
    *,
    first_tool: tuple[str, dict[str, str]] | None = None,
    tools: Sequence[str] | None = None,
    model_turns: int | None = None,
    no_errors: bool = False,
) -> list[AgentStep]:
    """Check the agent's own steps, as it journaled them (model turns and tool calls):

    - ``first_tool=("journal", {"status": "BUSY"})``: that tool, with those arguments, was
      called before any other tool;
    - ``tools=["journal", "analyze_text", "journal"]``: the tools called, in order;
    - ``model_turns=4``: how many model turns there were;
    - ``no_errors``: no turn and no tool call failed.

    Returns the tool calls for more checks; raises AgentStepMismatch saying what was seen.
    """
    calls = session.tool_calls
    problems = []
    if first_tool is not None:
        name, arguments = first_tool
        if not calls or not _matches(calls[0], name, arguments):
            wanted = " ".join(f"{k}={v}" for k, v in arguments.items())
            problems.append(f"expected the first tool call to be {name}({wanted})")
    if tools is not None and [call.name for call in calls] != list(tools):
        problems.append(
            f"expected tool calls {' -> '.join(tools) or 'none'}, "
            f"saw {' -> '.join(call.name for call in calls) or 'none'}"
        )
    turns = [step for step in session.agent_steps if step.kind == "model"]
    if model_turns is not None and len(turns) != model_turns:
        problems.append(f"expected {model_turns} model turns, saw {len(turns)}")
    if no_errors and (failed := [s.label for s in session.agent_steps if s.error]):
        problems.append(f"expected no failed step, saw {', '.join(failed)}")
    if problems:
        raise AgentStepMismatch("; ".join(problems) + "\n" + _describe_steps(session))
    return calls
