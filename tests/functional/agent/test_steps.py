"""The agent journals its own steps (issue 17): each model turn and tool call of the real
Strands loop, driven by the scripted model, becomes an EVENT# item of the session (moto
DynamoDB); bounded in count and size; a refused write never fails the session. The
harness reads them back and its assertion helper checks them."""

from __future__ import annotations

from typing import Any

import pytest

from agent.runner import run_session
from agent.steps import StepRecorder
from contract import EVENT_SORT_KEY_PREFIX, event_sort_key
from harness.assertions import AgentStepMismatch, assert_agent_steps
from harness.sessions import Session, step_from_item
from harness.timeline import timeline_rows
from tests.support.helpers import wait_for
from tests.support.journal_items import MOTO_JOURNAL_TABLE as TABLE


def _event_items(dynamodb, session_id: str) -> list[dict[str, Any]]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    items = dynamodb.query(
        TableName=TABLE,
        KeyConditionExpression="PK = :s AND begins_with(SK, :p)",
        ExpressionAttributeValues={":s": {"S": session_id}, ":p": {"S": EVENT_SORT_KEY_PREFIX}},
    )["Items"]
    return [{k: deserializer.deserialize(v) for k, v in item.items()} for item in items]


def test_a_session_journals_its_model_turns_and_tool_calls(
    dynamodb, journal, initiated, make_settings
):
    # GIVEN / WHEN the real agent loop runs a session with the scripted model
    assert run_session(initiated, "Summarise the report", make_settings()) == "COMPLETED"

    # THEN every turn and call is an item beside the session, in order
    items = _event_items(dynamodb, initiated)
    steps = [step_from_item(item) for item in items]
    assert [(s.kind, s.name) for s in steps] == [
        ("model", "scripted"),
        ("tool", "journal"),
        ("model", "scripted"),
        ("tool", "analyze_text"),
        ("model", "scripted"),
        ("tool", "journal"),
        ("model", "scripted"),
    ]
    assert [s.stop_reason for s in steps if s.kind == "model"] == ["tool_use"] * 3 + ["end_turn"]
    assert [s.turn for s in steps if s.kind == "model"] == [1, 2, 3, 4]
    assert steps[1].arguments == {"status": "BUSY", "note": "started"}
    assert steps[1].result
    assert not steps[1].error
    assert all(s.seconds is not None and s.seconds >= 0 for s in steps)
    assert all(item["SK"].startswith("EVENT#") for item in items)

    # AND the harness's helper checks them; the timeline shows them with the journal rows
    session = Session(initiated, journal.get(initiated), (), tuple(steps))
    calls = assert_agent_steps(
        session,
        first_tool=("journal", {"status": "BUSY"}),
        tools=["journal", "analyze_text", "journal"],
        model_turns=4,
        no_errors=True,
    )
    assert calls[-1].arguments["status"] == "COMPLETED"
    labels = [(r.source, r.label) for r in timeline_rows(session)]
    assert ("agent", "tool journal") in labels
    assert ("agent", "model turn 4") in labels
    assert labels.index(("journal", "BUSY")) < labels.index(("agent", "tool analyze_text"))


def test_the_helper_says_what_it_saw(dynamodb, journal, initiated, make_settings):
    from agent.testing.faults import Fault

    run_session(initiated, "task", make_settings(), Fault.SKIP_BUSY, journal=journal)
    steps = tuple(step_from_item(item) for item in _event_items(dynamodb, initiated))
    session = Session(initiated, journal.get(initiated), (), steps)
    with pytest.raises(AgentStepMismatch) as raised:
        assert_agent_steps(session, first_tool=("journal", {"status": "BUSY"}), no_errors=True)
    message = str(raised.value)
    assert "expected the first tool call to be journal(status=BUSY)" in message
    assert "tool journal(status=COMPLETED" in message
    assert "expected no failed step, saw tool journal" in message


class _Recording:
    """A DynamoDB client double for the step writes: each request's step items, in order."""

    def __init__(self) -> None:
        self.requests: list[list[dict[str, Any]]] = []

    @property
    def items(self) -> list[dict[str, Any]]:
        return [item for request in self.requests for item in request]

    def put_item(self, **kwargs: Any) -> None:
        self.requests.append([kwargs["Item"]])

    def transact_write_items(self, TransactItems: list[dict[str, Any]]) -> None:  # noqa: N803
        self.requests.append([action["Put"]["Item"] for action in TransactItems])


class _Refusing(_Recording):
    def put_item(self, **kwargs: Any) -> None:
        from botocore.exceptions import ClientError

        super().put_item(**kwargs)
        raise ClientError({"Error": {"Code": "AccessDeniedException"}}, "PutItem")

    def transact_write_items(self, TransactItems: list[dict[str, Any]]) -> None:  # noqa: N803
        from botocore.exceptions import ClientError

        super().transact_write_items(TransactItems)
        raise ClientError({"Error": {"Code": "AccessDeniedException"}}, "TransactWriteItems")


def test_a_refused_step_write_does_not_fail_the_session(
    dynamodb, journal, initiated, make_settings, monkeypatch, caplog
):
    refusing = _Refusing()
    original = StepRecorder.__init__

    def refused_client(self, client, *args, **kwargs):
        original(self, refusing, *args, **kwargs)

    monkeypatch.setattr(StepRecorder, "__init__", refused_client)
    assert run_session(initiated, "task", make_settings(), journal=journal) == "COMPLETED"
    assert len(refusing.items) == 7
    assert "agent step not journaled" in caplog.text


def test_steps_are_bounded_in_count_and_size():
    client = _Recording()
    recorder = StepRecorder(client, TABLE, "s" * 36, max_steps=3)
    for index in range(10):
        recorder.write("2026-11-25T03:00:00.000Z", {"kind": "tool", "name": f"t{index}"})
    recorder.close()
    assert len(client.items) == 4
    assert client.items[-1]["kind"] == {"S": "truncated"}
    assert [i["SK"]["S"][-4:] for i in client.items] == ["0000", "0001", "0002", "0003"]

    from agent.steps import argument_summary

    summary = argument_summary({"text": "x" * 16_000, **{f"k{i}": i for i in range(20)}})
    assert len(summary) == 8
    assert len(summary["text"]) == 80


class _StatusesSeeing:
    """Moto's client, noting at each status write (UpdateItem) the step items already in the
    journal, and each step write's size."""

    def __init__(self, client: Any, session_id: str) -> None:
        self._client = client
        self._session_id = session_id
        self.steps_before: list[tuple[str, int]] = []
        self.step_writes: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def update_item(self, **kwargs: Any) -> Any:
        status = kwargs["ExpressionAttributeValues"][":status"]["S"]
        self.steps_before.append((status, len(_event_items(self._client, self._session_id))))
        return self._client.update_item(**kwargs)

    def put_item(self, **kwargs: Any) -> Any:
        if kwargs["Item"]["SK"]["S"].startswith(EVENT_SORT_KEY_PREFIX):
            self.step_writes.append(1)
        return self._client.put_item(**kwargs)

    def transact_write_items(self, **kwargs: Any) -> Any:
        self.step_writes.append(len(kwargs["TransactItems"]))
        return self._client.transact_write_items(**kwargs)


def test_each_status_is_written_after_the_steps_before_it_which_are_written_together(
    dynamodb, initiated, make_settings, monkeypatch
):
    # GIVEN a journal whose client sees each write, and no step written for waiting alone
    from agent import steps as steps_module
    from agent.journal import Journal

    monkeypatch.setattr(steps_module, "FLUSH_AFTER_SECONDS", 600)
    seeing = _StatusesSeeing(dynamodb, initiated)

    # WHEN the scripted session runs
    journal = Journal(TABLE, client=seeing)
    assert run_session(initiated, "Summarise", make_settings(), journal=journal) == "COMPLETED"

    # THEN BUSY came after the first model turn's step, COMPLETED after the five before it
    assert seeing.steps_before == [("BUSY", 1), ("COMPLETED", 5)]
    # AND the seven steps took three writes: the one before BUSY, the four before COMPLETED
    # (one transaction), the two after it when the run ended
    assert seeing.step_writes == [1, 4, 2]
    assert len(_event_items(dynamodb, initiated)) == 7


def test_a_step_waits_for_company_only_a_moment():
    # GIVEN a step written, no status write and the run not ended (a long model turn next)
    client = _Recording()
    recorder = StepRecorder(client, TABLE, "s" * 36)
    recorder.write("2026-11-25T03:00:00.000Z", {"kind": "model", "name": "m"})

    # THEN it reaches the journal by itself (the live page shows it while the run goes on)
    wait_for(lambda: client.items, 30, "the step written without a flush")
    assert [i["name"] for i in client.items] == [{"S": "m"}]
    recorder.close()
    assert len(client.requests) == 1


def test_a_step_whose_key_is_taken_is_left_out_and_the_others_written(dynamodb, caplog):
    # GIVEN an item already at the key of one of three steps
    at = "2026-11-25T03:00:00.000Z"
    taken = event_sort_key(at, 1)
    dynamodb.put_item(TableName=TABLE, Item={"PK": {"S": "s" * 36}, "SK": {"S": taken}})
    recorder = StepRecorder(dynamodb, TABLE, "s" * 36)

    # WHEN the three are written together
    for index in range(3):
        recorder.write(at, {"kind": "tool", "name": f"t{index}"})
    recorder.close()

    # THEN the other two are in the journal, the taken one unchanged and logged as not written
    items = {i["SK"]: i.get("name") for i in _event_items(dynamodb, "s" * 36)}
    assert items == {event_sort_key(at, 0): "t0", taken: None, event_sort_key(at, 2): "t2"}
    assert "agent step not journaled" in caplog.text


def test_a_status_write_waits_for_the_steps_a_timer_is_writing(monkeypatch):
    # GIVEN a step whose timed write is under way (the client holds it)
    import threading

    from agent import steps as steps_module

    entered, release = threading.Event(), threading.Event()

    class Holding(_Recording):
        def put_item(self, **kwargs: Any) -> None:
            entered.set()
            release.wait(60)
            super().put_item(**kwargs)

    monkeypatch.setattr(steps_module, "FLUSH_AFTER_SECONDS", 0.01)
    client = Holding()
    recorder = StepRecorder(client, TABLE, "s" * 36)
    recorder.write("2026-11-25T03:00:00.000Z", {"kind": "model", "name": "m"})
    assert entered.wait(30), "the timer never wrote the step"

    # WHEN the journal tool flushes before its status write
    before_status = threading.Thread(target=recorder.flush)
    before_status.start()

    # THEN the flush returns only once that step is written
    before_status.join(0.5)
    assert before_status.is_alive(), "the status would have gone before the step being written"
    release.set()
    before_status.join(30)
    assert not before_status.is_alive()
    assert [i["name"] for i in client.items] == [{"S": "m"}]
