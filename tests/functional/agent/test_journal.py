"""The journal's forward-only status, its history and idempotent repeats (moto DynamoDB)."""

from __future__ import annotations

import re

import pytest

from agent.journal import IllegalTransition, SessionNotFound
from contract import SessionStatus, journal_key
from tests.support.journal_items import MOTO_JOURNAL_TABLE as TABLE


def _statuses(journal, session_id):
    return [entry["status"] for entry in journal.get(session_id)["history"]]


def test_busy_then_completed_appends_history_and_stores_the_result(journal, initiated):
    assert journal.transition(initiated, SessionStatus.BUSY, note="started") is True
    assert journal.transition(initiated, "COMPLETED", note="done", result="42 words") is True
    item = journal.get(initiated)
    assert item["status"] == "COMPLETED"
    assert item["result"] == "42 words"
    assert _statuses(journal, initiated) == ["INITIATED", "BUSY", "COMPLETED"]
    assert item["history"][1]["note"] == "started"
    assert item["history"][2]["at"].endswith("Z")
    assert item["updated_at"] == item["history"][2]["at"]


@pytest.mark.parametrize("path", [["FAILED"], ["BUSY", "FAILED"]])
def test_failed_is_reachable_from_initiated_and_busy(journal, initiated, path):
    for status in path:
        journal.transition(initiated, status, error="boom" if status == "FAILED" else None)
    item = journal.get(initiated)
    assert item["status"] == "FAILED"
    assert item["error"] == "boom"
    assert _statuses(journal, initiated) == ["INITIATED", *path]


def test_repeating_a_transition_is_idempotent(journal, initiated):
    journal.transition(initiated, "BUSY")
    assert journal.transition(initiated, "BUSY") is False
    journal.transition(initiated, "COMPLETED", result="r")
    assert journal.transition(initiated, "COMPLETED", result="other") is False
    assert _statuses(journal, initiated) == ["INITIATED", "BUSY", "COMPLETED"]
    assert journal.get(initiated)["result"] == "r"


@pytest.mark.parametrize(
    ("done", "attempt"),
    [
        (["BUSY", "COMPLETED"], "BUSY"),
        (["BUSY", "COMPLETED"], "FAILED"),
        (["FAILED"], "BUSY"),
        (["FAILED"], "COMPLETED"),
        ([], "COMPLETED"),
    ],
)
def test_illegal_transitions_are_refused_and_leave_the_item_intact(
    journal, initiated, done, attempt
):
    for status in done:
        journal.transition(initiated, status)
    before = journal.get(initiated)
    with pytest.raises(IllegalTransition) as refused:
        journal.transition(initiated, attempt, note="late")
    assert f"is {before['status']}" in str(refused.value)
    assert journal.get(initiated) == before


def test_initiated_is_never_written_by_the_agent(journal, initiated):
    with pytest.raises(IllegalTransition, match="only written by the workflow"):
        journal.transition(initiated, "INITIATED")


def test_unknown_session_is_reported(journal):
    with pytest.raises(SessionNotFound):
        journal.transition("no-such-session", "BUSY")


def test_unknown_status_is_a_value_error(journal, initiated):
    with pytest.raises(ValueError, match="DONE"):
        journal.transition(initiated, "DONE")


def test_note_result_and_error_may_be_passed_positionally(journal, initiated):
    journal.transition(initiated, SessionStatus.BUSY, "started")
    journal.transition(initiated, SessionStatus.FAILED, "gave up", None, "no data")
    item = journal.get(initiated)
    assert [entry["note"] for entry in item["history"]] == [
        "session initiated by workflow",
        "started",
        "gave up",
    ]
    assert item["error"] == "no data"
    assert "result" not in item


def test_a_terminal_repeat_changes_nothing(journal, initiated):
    journal.transition(initiated, "FAILED", error="first reason")
    before = journal.get(initiated)
    assert journal.transition(initiated, "FAILED", error="second reason") is False
    assert journal.get(initiated) == before


def test_an_item_without_history_gets_one(journal, dynamodb, initiated):
    dynamodb.update_item(
        TableName=TABLE,
        Key=journal_key(initiated),
        UpdateExpression="REMOVE history",
    )
    journal.transition(initiated, "BUSY", note="started")
    assert journal.get(initiated)["history"] == [
        {"status": "BUSY", "at": journal.get(initiated)["updated_at"], "note": "started"}
    ]


def test_timestamps_are_utc_milliseconds_with_z(journal, initiated):
    journal.transition(initiated, "BUSY")
    at = journal.get(initiated)["updated_at"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", at), at
