"""Session reading, step pairing, timelines and transition assertions (moto, no runtime)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from agent.journal import SessionNotFound
from contract import JOURNAL_TABLE_SCHEMA, journal_key
from harness.assertions import TransitionMismatch, assert_completed, assert_transitions, describe
from harness.sessions import (
    Execution,
    Session,
    SessionReader,
    Step,
    steps_from_history,
)
from harness.settings import Settings
from harness.stack import StackOutputs
from harness.timeline import timeline_rows

T0 = datetime(2026, 11, 25, 3, 0, 0, tzinfo=UTC)


def _at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def _entered(name: str, seconds: float) -> dict:
    return {
        "type": "TaskStateEntered",
        "timestamp": T0 + timedelta(seconds=seconds),
        "stateEnteredEventDetails": {"name": name},
    }


def _exited(name: str, seconds: float) -> dict:
    return {
        "type": "TaskStateExited",
        "timestamp": T0 + timedelta(seconds=seconds),
        "stateExitedEventDetails": {"name": name},
    }


def test_steps_pair_entered_and_exited_and_keep_failures():
    events = [
        _entered("InitializeSession", 0),
        _exited("InitializeSession", 0.1),
        _entered("InvokeAgent", 0.1),
        {
            "type": "TaskFailed",
            "timestamp": T0 + timedelta(seconds=0.5),
            "taskFailedEventDetails": {"error": "AgentInvocationError", "cause": "agent down"},
        },
        _exited("InvokeAgent", 0.6),
        _entered("Failure", 0.7),
    ]
    steps = steps_from_history(events)
    assert [s.name for s in steps] == ["InitializeSession", "InvokeAgent", "Failure"]
    assert steps[0].exited == T0 + timedelta(seconds=0.1)
    assert steps[1].error == "AgentInvocationError"
    assert steps[1].cause == "agent down"
    assert steps[2].exited is None


def test_timeline_orders_journal_and_workflow_rows_with_durations():
    item = {
        "status": "COMPLETED",
        "history": [
            {"status": "INITIATED", "at": _at(0.05), "note": "created"},
            {"status": "BUSY", "at": _at(0.4), "note": ""},
            {"status": "COMPLETED", "at": _at(0.9), "note": "done"},
        ],
    }
    steps = steps_from_history(
        [_entered("InitializeSession", 0), _exited("InitializeSession", 0.1)]
    )
    execution = Execution("arn:x", "SUCCEEDED", T0, T0, {}, None, None, tuple(steps))
    rows = timeline_rows(Session("s-1", item, (execution,)))
    assert [r.label for r in rows] == ["InitializeSession", "INITIATED", "BUSY", "COMPLETED"]
    assert rows[0].seconds == pytest.approx(0.1)
    assert rows[1].seconds == pytest.approx(0.35)
    assert rows[-1].seconds is None


def test_describe_names_failed_state_and_journal_error():
    failed = Step("InvokeAgent", T0, T0, "AgentInvocationError", "could not reach the agent")
    execution = Execution("arn:e", "FAILED", T0, T0, {}, "SessionFailed", "x", (failed,))
    item = {
        "status": "FAILED",
        "error": "agent invocation failed",
        "history": [{"status": "INITIATED", "at": _at(0)}, {"status": "FAILED", "at": _at(1)}],
    }
    text = describe(Session("s-2", item, (execution,)), "s-2")
    assert "INITIATED -> FAILED" in text
    assert "error: agent invocation failed" in text
    assert "failed state: InvokeAgent: AgentInvocationError: could not reach the agent" in text


@pytest.fixture
def reader(moto_aws):
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.create_table(TableName="journal", **JOURNAL_TABLE_SCHEMA)
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    machine = sfn.create_state_machine(
        name="wf",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn="arn:aws:iam::123456789012:role/r",
    )["stateMachineArn"]
    outputs = StackOutputs(
        state_machine_arn=machine,
        journal_table_name="journal",
        event_bus_name="default",
        poll_interval_seconds=0.1,
        max_polls=5,
    )
    settings = Settings(target="aws", region="us-east-1")
    return SessionReader(settings, outputs), ddb, sfn, machine


def _put_history(
    ddb, session_id: str, statuses: list[str], execution_arn: str | None = None
) -> None:
    history = [
        {"M": {"status": {"S": s}, "at": {"S": _at(i)}, "note": {"S": ""}}}
        for i, s in enumerate(statuses)
    ]
    ddb.put_item(
        TableName="journal",
        Item={
            **journal_key(session_id),
            "status": {"S": statuses[-1]},
            "history": {"L": history},
            **({"execution_arn": {"S": execution_arn}} if execution_arn else {}),
        },
    )


def test_reader_reads_the_execution_the_journal_item_names(reader):
    """On AWS executions started by EventBridge have random names: the item says which."""
    session_reader, ddb, sfn, machine = reader
    sfn.start_execution(stateMachineArn=machine, name="other", input=json.dumps({"id": "b"}))
    arn = sfn.start_execution(
        stateMachineArn=machine, name="random-name", input=json.dumps({"id": "sess-a"})
    )["executionArn"]
    _put_history(ddb, "sess-a", ["INITIATED", "BUSY", "COMPLETED"], execution_arn=arn)
    session = session_reader.session("sess-a")
    assert [e.arn for e in session.executions] == [arn]
    assert session.statuses == ["INITIATED", "BUSY", "COMPLETED"]


def test_unknown_session_is_a_clear_error(reader):
    session_reader, *_ = reader
    with pytest.raises(SessionNotFound, match="no session nope"):
        session_reader.session("nope")


def test_assert_transitions_reports_what_it_saw(reader):
    session_reader, ddb, *_ = reader
    _put_history(ddb, "sess-f", ["INITIATED", "FAILED"])
    with pytest.raises(TransitionMismatch) as raised:
        assert_transitions(session_reader, "sess-f", ["INITIATED", "BUSY", "COMPLETED"], timeout=1)
    message = str(raised.value)
    assert "saw INITIATED -> FAILED" in message
    assert "execution: none found" in message


def test_assert_transitions_passes_on_the_expected_history(reader):
    session_reader, ddb, *_ = reader
    _put_history(ddb, "sess-ok", ["INITIATED", "BUSY", "COMPLETED"])
    session = assert_transitions(
        session_reader, "sess-ok", ["INITIATED", "BUSY", "COMPLETED"], timeout=1
    )
    assert session.status == "COMPLETED"


def test_assert_completed_also_wants_the_execution_succeeded(reader):
    # GIVEN a journal that went right, and no execution for it
    session_reader, ddb, *_ = reader
    _put_history(ddb, "sess-no-execution", ["INITIATED", "BUSY", "COMPLETED"])
    # THEN the session did not go right: its execution is missing
    with pytest.raises(TransitionMismatch, match="expected execution SUCCEEDED, saw None"):
        assert_completed(session_reader, "sess-no-execution", timeout=1)


def test_wait_sees_the_execution_of_a_session_that_ends_between_two_reads(reader, monkeypatch):
    """A rejected event ends in milliseconds: it may start and finish between two polls.
    The reader must still report the execution that wrote the journal item."""
    session_reader, ddb, sfn, machine = reader
    read_item = session_reader.item
    polls = []

    def item_then_the_session_happens(session_id):
        polls.append(session_id)
        if len(polls) == 2:
            arn = sfn.start_execution(
                stateMachineArn=machine, name="random", input=json.dumps({"id": session_id})
            )["executionArn"]
            sfn.stop_execution(executionArn=arn)  # ended (moto does not run executions)
            _put_history(ddb, session_id, ["INITIATED", "FAILED"], execution_arn=arn)
        return read_item(session_id)

    monkeypatch.setattr(session_reader, "item", item_then_the_session_happens)
    session = session_reader.wait("sess-fast", timeout=5, interval=0.01)
    assert session.statuses == ["INITIATED", "FAILED"]
    assert session.execution is not None, "the execution that wrote the journal was missed"
    assert session.execution.arn.endswith(":random")


def test_wait_reads_the_executions_at_each_poll_only_once_the_journal_is_terminal(
    reader, monkeypatch
):
    """A session is done only once its journal is: until then a DescribeExecution per poll
    (~4.5 CPU-ms between the emulator and the caller) tells nothing the session's end needs."""
    # GIVEN a session whose journal stays BUSY for 40 polls, then COMPLETED as its execution
    # ends
    session_reader, ddb, sfn, machine = reader
    arn = sfn.start_execution(
        stateMachineArn=machine, name="slow", input=json.dumps({"id": "sess-slow"})
    )["executionArn"]
    _put_history(ddb, "sess-slow", ["INITIATED", "BUSY"], execution_arn=arn)
    read_item, describe = session_reader.item, session_reader.sfn.describe_execution
    polls, described = [], []

    def item_completed_after_40_polls(session_id):
        polls.append(session_id)
        if len(polls) == 40:
            sfn.stop_execution(executionArn=arn)  # ended (moto does not run executions)
            _put_history(ddb, session_id, ["INITIATED", "BUSY", "COMPLETED"], execution_arn=arn)
        return read_item(session_id)

    def counted_describe(**kwargs):
        described.append(kwargs["executionArn"])
        return describe(**kwargs)

    monkeypatch.setattr(session_reader, "item", item_completed_after_40_polls)
    monkeypatch.setattr(session_reader.sfn, "describe_execution", counted_describe)

    # WHEN it is waited for
    session = session_reader.wait("sess-slow", timeout=60, interval=0.01)

    # THEN it ended at the poll that saw the journal terminal, its execution read then (and
    # once a second before, far fewer times than the polls)
    assert len(polls) == 40
    assert session.statuses == ["INITIATED", "BUSY", "COMPLETED"]
    assert session.execution.status == "ABORTED"
    assert len(described) < len(polls) // 2, described


def test_wait_reads_an_ended_sessions_item_and_executions_once(reader, monkeypatch):
    """The poll that sees the session done has just read its item and executions: the session
    wait returns adds their steps without reading them again (a GetItem and a DescribeExecution
    less per waited session, ~12 CPU-ms between the emulator and the caller)."""
    # GIVEN a session that has already ended, with its execution
    session_reader, ddb, sfn, machine = reader
    arn = sfn.start_execution(
        stateMachineArn=machine, name="ended", input=json.dumps({"id": "sess-ended"})
    )["executionArn"]
    sfn.stop_execution(executionArn=arn)
    _put_history(ddb, "sess-ended", ["INITIATED", "BUSY", "COMPLETED"], execution_arn=arn)
    read_item, describe = session_reader.item, session_reader.sfn.describe_execution
    reads = []

    def counted(call, name):
        def wrapper(*args, **kwargs):
            reads.append(name)
            return call(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(session_reader, "item", counted(read_item, "item"))
    monkeypatch.setattr(session_reader.sfn, "describe_execution", counted(describe, "execution"))

    # WHEN it is waited for
    session = session_reader.wait("sess-ended", timeout=60, interval=0.01)

    # THEN its item and its execution were read once each, and the session has its steps too
    assert reads == ["item", "execution"]
    assert session.statuses == ["INITIATED", "BUSY", "COMPLETED"]
    assert session.execution.arn == arn
    assert session.execution.status == "ABORTED"
    assert session.execution.steps == tuple(session_reader.steps(arn))
    assert session.wait_note == session_reader.outputs.wait_note
