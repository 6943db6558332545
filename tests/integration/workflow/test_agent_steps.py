"""The agent's own steps on the session's timeline (issue 17): its model turns and tool calls,
journaled by the real agent process as EVENT# items beside the session, read back by the
harness and merged with the workflow's states and the journal's statuses."""

from __future__ import annotations

import pytest

from harness.assertions import assert_agent_steps, assert_transitions
from tests.support.helpers import run_harness

COMPLETED = ["INITIATED", "BUSY", "COMPLETED"]


def _completed(trigger, session_reader, deployed_stack, task: str):
    session_id = trigger(task)
    assert_transitions(
        session_reader, session_id, COMPLETED, timeout=deployed_stack.session_timeout_seconds + 60
    )
    return session_reader.session(session_id)


@pytest.mark.any_target
def test_the_journal_tool_says_busy_before_any_other_tool(trigger, session_reader, deployed_stack):
    session = _completed(trigger, session_reader, deployed_stack, "Say BUSY first")
    calls = assert_agent_steps(session, first_tool=("journal", {"status": "BUSY"}))
    assert calls[-1].name == "journal"
    assert calls[-1].arguments["status"] == "COMPLETED"


def test_the_scripted_session_steps_and_the_timeline(trigger, session_reader, deployed_stack):
    # GIVEN a session the scripted model ran to COMPLETED
    session = _completed(trigger, session_reader, deployed_stack, "Count these five words")

    # THEN its steps are the real tool loop's: four model turns, three tool calls, no error
    assert_agent_steps(
        session,
        first_tool=("journal", {"status": "BUSY"}),
        tools=["journal", "analyze_text", "journal"],
        model_turns=4,
        no_errors=True,
    )
    busy = next(t for t in session.transitions if t.status == "BUSY")
    first_call = session.tool_calls[0]
    # The BUSY write happened inside the first tool call (clocks of one machine).
    assert first_call.at <= busy.at

    # AND `history` prints them between the workflow's and the journal's rows
    result = run_harness("history", session.session_id)
    assert result.returncode == 0, result.stdout + result.stderr
    for text in ("model turn 1", "tool journal", "tool analyze_text", "status=BUSY", "end_turn"):
        assert text in result.stdout, result.stdout
