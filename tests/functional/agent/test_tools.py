"""The journal tool as the model sees it: bound to one session, errors as tool results."""

from __future__ import annotations

import pytest
from strands import Agent

from agent.testing.faults import Fault
from agent.testing.scripted_model import ScriptedModel
from agent.tools import journal_tool


def _agent(journal, session_id, fault=None) -> Agent:
    tool = journal_tool(journal, session_id, fault=fault)
    return Agent(model=ScriptedModel(), tools=[tool], callback_handler=None)


def _call(agent: Agent, **arguments):
    result = agent.tool.journal(record_direct_tool_call=False, **arguments)
    return result["status"], " ".join(block["text"] for block in result["content"])


def test_the_model_never_passes_a_session_id(journal, initiated):
    spec = journal_tool(journal, initiated).tool_spec
    assert spec["name"] == "journal"
    assert set(spec["inputSchema"]["json"]["properties"]) == {"status", "note"}
    assert spec["inputSchema"]["json"]["required"] == ["status"]


def test_completed_note_becomes_the_result(journal, initiated):
    agent = _agent(journal, initiated)
    assert _call(agent, status="busy") == ("success", "session is now BUSY")
    assert _call(agent, status="COMPLETED", note="3 words")[0] == "success"
    item = journal.get(initiated)
    assert (item["status"], item["result"]) == ("COMPLETED", "3 words")
    assert "error" not in item


def test_failed_note_becomes_the_error(journal, initiated):
    agent = _agent(journal, initiated)
    assert _call(agent, status="FAILED", note="the input was empty")[0] == "success"
    item = journal.get(initiated)
    assert (item["status"], item["error"]) == ("FAILED", "the input was empty")
    assert item["history"][-1]["note"] == "the input was empty"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"status": "DONE"}, "unknown status 'DONE': use BUSY, COMPLETED or FAILED"),
        ({"status": "COMPLETED", "note": "r"}, "is INITIATED: it cannot move to COMPLETED"),
        ({"status": "INITIATED"}, "only written by the workflow"),
    ],
)
def test_bad_updates_are_tool_errors_and_leave_the_item_intact(
    journal, initiated, arguments, message
):
    before = journal.get(initiated)
    status, text = _call(_agent(journal, initiated), **arguments)
    assert status == "error"
    assert message in text
    assert journal.get(initiated) == before


def test_an_unknown_session_is_a_tool_error(journal):
    status, text = _call(_agent(journal, "no-such-session"), status="BUSY")
    assert status == "error"
    assert "not in the journal" in text


def test_a_failing_write_is_a_tool_error(journal, initiated):
    before = journal.get(initiated)
    status, text = _call(_agent(journal, initiated, Fault.JOURNAL_ERROR), status="BUSY")
    assert status == "error"
    assert "the journal write failed" in text
    assert "InternalServerError" in text
    assert journal.get(initiated) == before
