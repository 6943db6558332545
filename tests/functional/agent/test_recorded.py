"""Recorded conversations (issue 17): AGENT_RECORD writes a session's turns as the scripted
model plays them through the real tool loop; AGENT_MODEL=replay plays the file back through
the same loop (the tools really run, the journal really moves); a request that differs from
the recording fails the session naming the turn and the difference (moto, no LLM)."""

from __future__ import annotations

import json

import pytest

from agent.journal import Journal
from agent.models.recorded import RecordingUnusable, ReplayModel, first_difference
from agent.runner import run_session
from tests.support.journal_items import MOTO_JOURNAL_TABLE as TABLE
from tests.support.journal_items import initiated_item

TASK = "Summarise the report"


def _new_session(dynamodb, number: int, task: str = TASK) -> str:
    session_id = f"5e551011-0000-4000-8000-{number:012d}"
    dynamodb.put_item(TableName=TABLE, Item=initiated_item(session_id, task))
    return session_id


@pytest.fixture
def recording(dynamodb, initiated, make_settings, tmp_path):
    path = tmp_path / "fixtures" / "summarise.jsonl"
    assert run_session(initiated, TASK, make_settings(record_path=str(path))) == "COMPLETED"
    return path


def test_the_recording_holds_each_turn_request_and_response(recording):
    turns = [json.loads(line) for line in recording.read_text().splitlines()]
    assert [turn["turn"] for turn in turns] == [1, 2, 3, 4]
    assert turns[0]["request"]["messages"][0]["content"][0]["text"] == TASK
    assert turns[0]["request"]["tools"] == ["analyze_text", "journal"]
    assert {"messageStop": {"stopReason": "end_turn"}} in turns[-1]["response"]


def test_a_replay_runs_the_real_tools_to_the_same_end(dynamodb, recording, make_settings):
    # GIVEN a new session of the same task, WHEN it is replayed from the recording
    session_id = _new_session(dynamodb, 2)
    settings = make_settings(model="replay", replay_path=str(recording))
    assert run_session(session_id, TASK, settings) == "COMPLETED"
    # THEN the journal moved as in the recorded run (the tools ran for real)
    original, replayed = (
        Journal(TABLE, client=dynamodb).get(sid)
        for sid in ("0f8e2c1a-5b7d-4e3f-9a1b-2c3d4e5f6a7b", session_id)
    )
    assert [h["status"] for h in replayed["history"]] == ["INITIATED", "BUSY", "COMPLETED"]
    assert replayed["result"] == original["result"]


def test_a_different_request_fails_the_session_naming_turn_and_difference(
    dynamodb, recording, make_settings
):
    session_id = _new_session(dynamodb, 3, "Another task")
    settings = make_settings(model="replay", replay_path=str(recording))
    assert run_session(session_id, "Another task", settings) == "FAILED"
    error = Journal(TABLE, client=dynamodb).get(session_id)["error"]
    assert "ReplayMismatch: replay of summarise.jsonl: turn 1 does not match the recording" in error
    assert "messages[0].content[0].text: recorded 'Summarise the report', now 'Another task'" in (
        error
    )


def test_one_turn_more_than_recorded_fails_naming_it(dynamodb, recording, make_settings, tmp_path):
    shorter = tmp_path / "two-turns.jsonl"
    shorter.write_text("".join(recording.read_text().splitlines(keepends=True)[:2]))
    session_id = _new_session(dynamodb, 4)
    settings = make_settings(model="replay", replay_path=str(shorter))
    assert run_session(session_id, TASK, settings) == "FAILED"
    error = Journal(TABLE, client=dynamodb).get(session_id)["error"]
    assert "turn 3 was not recorded (the recording has 2 turns)" in error


def test_an_unusable_recording_is_refused_with_the_reason(tmp_path):
    with pytest.raises(RecordingUnusable, match="needs AGENT_REPLAY"):
        ReplayModel("")
    with pytest.raises(RecordingUnusable, match="cannot read it"):
        ReplayModel(tmp_path / "missing.jsonl")
    (tmp_path / "bad.jsonl").write_text("not json\n")
    with pytest.raises(RecordingUnusable, match="line 1 is not JSON"):
        ReplayModel(tmp_path / "bad.jsonl")


def test_first_difference_names_the_path():
    recorded = {"messages": [{"role": "user", "content": [{"text": "a"}]}], "tools": ["x"]}
    assert first_difference(recorded, recorded) is None
    changed = {"messages": [{"role": "user", "content": [{"text": "b"}]}], "tools": ["x"]}
    assert first_difference(recorded, changed) == (
        "messages[0].content[0].text: recorded 'a', now 'b'"
    )
    longer = {"messages": [*recorded["messages"], {"role": "user"}], "tools": ["x"]}
    assert first_difference(recorded, longer) == "messages: recorded 1 entries, now 2"
