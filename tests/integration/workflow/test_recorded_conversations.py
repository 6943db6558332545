"""Recorded conversations through the real stack (issue 17): the local agent records a
session (AGENT_RECORD, scripted model: no LLM here), then, restarted with AGENT_MODEL=replay,
plays the file back for a new session of the same task, which completes the same way through
the real workflow, tools and journal; a session whose request differs ends FAILED naming the
turn and the difference."""

from __future__ import annotations

import json

import pytest

from harness.assertions import assert_agent_steps, assert_transitions
from harness.runtime import select_runtime

TASK = "Summarise the quarterly cost report, recorded once"


@pytest.fixture
def restart_agent(harness_settings, agent_services, monkeypatch):
    """``restart_agent(**env)``: the runtime's agent again, with these variables; the
    original agent is back after the test."""
    runtime = select_runtime(harness_settings)
    if runtime.mode != "host":
        pytest.skip("restarts the host runtime's agent with other variables (host mode)")

    def restart(**env: str) -> None:
        for name in ("AGENT_RECORD", "AGENT_REPLAY", "AGENT_MODEL"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        runtime.down(["agent"])
        runtime.up(["agent"])

    yield restart
    monkeypatch.undo()
    runtime.down(["agent"])
    runtime.up(["agent"])


@pytest.mark.exclusive  # restarts the agent with other variables
def test_record_then_replay_through_the_stack(
    restart_agent, trigger, session_reader, deployed_stack, tmp_path
):
    bound = deployed_stack.session_timeout_seconds + 60
    recording = tmp_path / "summarise.jsonl"

    # GIVEN a session recorded with the scripted model
    restart_agent(AGENT_RECORD=str(recording))
    recorded_id = trigger(TASK)
    recorded = assert_transitions(
        session_reader, recorded_id, ["INITIATED", "BUSY", "COMPLETED"], timeout=bound
    )
    assert len(recording.read_text().splitlines()) == 4

    # WHEN the agent replays it for a new session of the same task
    restart_agent(AGENT_MODEL="replay", AGENT_REPLAY=str(recording))
    replayed_id = trigger(TASK)
    replayed = assert_transitions(
        session_reader, replayed_id, ["INITIATED", "BUSY", "COMPLETED"], timeout=bound
    )

    # THEN it ends the same way, through the same tool calls, with no model
    assert replayed.item["result"] == recorded.item["result"]
    steps = session_reader.session(replayed_id)
    assert_agent_steps(steps, tools=["journal", "analyze_text", "journal"], no_errors=True)
    assert {s.name for s in steps.agent_steps if s.kind == "model"} == {"replay"}

    # AND a session asking something else fails, naming the turn and the difference
    other_id = trigger("A task nobody recorded")
    failed = assert_transitions(session_reader, other_id, ["INITIATED", "FAILED"], timeout=bound)
    error = failed.item["error"]
    assert "turn 1 does not match the recording" in error, error
    assert json.dumps("A task nobody recorded")[1:-1] in error, error
