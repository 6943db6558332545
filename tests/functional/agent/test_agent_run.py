"""The scripted model through a real Strands Agent, the runner's guarantees, faults, session
id resolution and model selection (moto DynamoDB, no network, no LLM)."""

from __future__ import annotations

import threading

import pytest
from strands.models.bedrock import BedrockModel
from strands.models.openai import OpenAIModel

from agent import runner
from agent.doubles import requested_fault
from agent.journal import Journal
from agent.models.factory import build_model
from agent.runner import build_agent, run_session
from agent.server import InvalidInvocation, parse_invocation
from agent.steps import StepRecorder
from agent.testing.faults import Fault
from agent.testing.scripted_model import ScriptedModel
from agent.tools import text_digest
from tests.support.helpers import wait_for
from tests.support.journal_items import MOTO_JOURNAL_TABLE as TABLE


def _history(journal, session_id):
    return [entry["status"] for entry in journal.get(session_id)["history"]]


def test_scripted_model_drives_the_real_agent_tool_loop(journal, initiated, make_settings):
    steps = StepRecorder(journal.client, journal.table_name, initiated)
    agent = build_agent(journal, initiated, make_settings(), steps=steps)
    result = agent("Summarise the quarterly cost report")
    steps.close()  # the last steps written now, while the test's DynamoDB is there
    # The real loop ran three tool calls: journal BUSY, analyze_text, journal COMPLETED.
    tool_calls = [
        block["toolUse"]["name"]
        for message in agent.messages
        if message["role"] == "assistant"
        for block in message["content"]
        if "toolUse" in block
    ]
    assert tool_calls == ["journal", "analyze_text", "journal"]
    assert result.stop_reason == "end_turn"
    item = journal.get(initiated)
    assert _history(journal, initiated) == ["INITIATED", "BUSY", "COMPLETED"]
    digest = text_digest("Summarise the quarterly cost report")
    assert item["result"] == f"Analysed the task: 5 words, 35 characters (sha256 {digest})."


def test_run_session_completes_with_the_journal_named_by_the_settings(
    dynamodb, initiated, make_settings
):
    assert run_session(initiated, "Count these words", make_settings()) == "COMPLETED"
    item = Journal(TABLE, client=dynamodb).get(initiated)
    digest = text_digest("Count these words")
    assert item["result"] == f"Analysed the task: 3 words, 17 characters (sha256 {digest})."
    assert [entry["note"] for entry in item["history"]][1:] == ["started", item["result"]]


def test_the_fault_may_be_passed_positionally(journal, initiated, make_settings):
    assert run_session(initiated, "task", make_settings(), Fault.CRASH, journal=journal) == "FAILED"


@pytest.mark.parametrize(
    ("fault", "history", "reason"),
    [
        (Fault.CRASH, ["INITIATED", "BUSY", "FAILED"], "agent crashed: InjectedFault"),
        (
            Fault.SKIP_BUSY,
            ["INITIATED", "FAILED"],
            "without a terminal status (last status: INITIATED); its last answer: Stopping: "
            "journal failed: the journal refused the update: session",
        ),
        (
            Fault.JOURNAL_ERROR,
            ["INITIATED", "FAILED"],
            "without a terminal status (last status: INITIATED); its last answer: Stopping: "
            "journal failed: the journal write failed: An error occurred (InternalServerError)",
        ),
    ],
)
def test_faults_end_failed_with_a_reason(journal, initiated, fault, history, reason, make_settings):
    status = run_session(initiated, "task", make_settings(), journal=journal, fault=fault)
    assert status == "FAILED"
    assert _history(journal, initiated) == history
    assert reason in journal.get(initiated)["error"]


def test_a_hanging_run_is_bounded_by_the_session_timeout(journal, initiated, make_settings):
    quick = make_settings(session_timeout_seconds=0.5)
    status = run_session(initiated, "task", quick, journal=journal, fault=Fault.HANG)
    assert status == "FAILED"
    assert journal.get(initiated)["error"] == "timed out after 0.5 s"


def test_a_held_run_goes_on_only_once_another_hand_ends_the_session(
    journal, initiated, make_settings
):
    # GIVEN a session held after BUSY (the session timeout is far away)
    ended: list[str | None] = []
    run = threading.Thread(
        target=lambda: ended.append(
            run_session(initiated, "task", make_settings(), journal=journal, fault=Fault.HOLD)
        )
    )
    run.start()
    wait_for(lambda: journal.get(initiated)["status"] == "BUSY", 10, "BUSY")
    run.join(timeout=0.5)
    assert run.is_alive(), "the held session did not wait"

    # WHEN another hand ends it, as the workflow's RecordTimeout does
    journal.transition(initiated, "FAILED", error="timed out by the workflow")

    # THEN the run ends, the session as that hand left it (the agent's late COMPLETED refused)
    run.join(timeout=10)
    assert ended == ["FAILED"]
    assert _history(journal, initiated) == ["INITIATED", "BUSY", "FAILED"]
    assert journal.get(initiated)["error"] == "timed out by the workflow"


class SlowFailureJournal(Journal):
    """A journal whose FAILED write, once the session's agent was released, waits (bounded)
    for the agent's own COMPLETED write: as on a loaded machine, where the released agent
    could get there first. An agent not yet released (an injected hang) cannot write, so a
    FAILED written before its release does not wait."""

    def __init__(self, table: str, client) -> None:
        super().__init__(table, client=client)
        self.released = threading.Event()  # the session's own, once the runner built it
        self.completed_written = threading.Event()

    def transition(self, session_id, status, *args, **kwargs):
        if status == "FAILED" and self.released.is_set():
            self.completed_written.wait(timeout=2)
        moved = super().transition(session_id, status, *args, **kwargs)
        if status == "COMPLETED":
            self.completed_written.set()
        return moved


def test_a_timed_out_run_stays_failed_when_the_agent_finishes_late(
    dynamodb, initiated, make_settings, monkeypatch
):
    # GIVEN a hang that the timeout releases, and a slow journal write for the failure
    journal = SlowFailureJournal(TABLE, dynamodb)

    def build(*args, cancelled, **kwargs):
        journal.released = cancelled  # what releases the hang
        return build_agent(*args, cancelled=cancelled, **kwargs)

    monkeypatch.setattr(runner, "build_agent", build)
    quick = make_settings(session_timeout_seconds=0.5)

    # WHEN the session times out
    status = run_session(initiated, "task", quick, journal=journal, fault=Fault.HANG)

    # THEN it is FAILED for the timeout: the late agent could not complete it
    item = journal.get(initiated)
    assert status == "FAILED"
    assert item["error"] == "timed out after 0.5 s"
    assert [entry["status"] for entry in item["history"]] == ["INITIATED", "BUSY", "FAILED"]


def test_runner_does_not_overwrite_a_session_that_already_ended(journal, initiated, make_settings):
    journal.transition(initiated, "FAILED", error="timed out by the workflow")
    before = journal.get(initiated)
    status = run_session(initiated, "task", make_settings(), journal=journal, fault=Fault.CRASH)
    assert status == "FAILED"
    assert journal.get(initiated) == before


def test_session_id_comes_from_payload_then_header_then_env(make_settings):
    env = make_settings(session_id="from-env")
    payload = {"task": "t", "journal_table_name": "journal-test"}
    assert parse_invocation({**payload, "session_id": "p"}, "h", env).session_id == "p"
    assert parse_invocation(payload, "from-header", env).session_id == "from-header"
    assert parse_invocation(payload, None, env).session_id == "from-env"
    with pytest.raises(InvalidInvocation, match="session_id is missing"):
        parse_invocation(payload, None, make_settings())


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"session_id": "s"}, "task"),
        ({"session_id": "s", "task": "  "}, "task"),
        ("not an object", "JSON object"),
        ({"session_id": "s", "task": "t", "fault": "explode"}, "unknown fault"),
    ],
)
def test_bad_invocations_name_the_problem(payload, field, make_settings):
    with pytest.raises(InvalidInvocation, match=field):
        parse_invocation(payload, None, make_settings())


def test_table_name_from_payload_or_env(make_settings):
    payload = {"session_id": "s", "task": "t"}
    assert parse_invocation(payload, None, make_settings()).table_name == "journal-test"
    with pytest.raises(InvalidInvocation, match="journal_table_name"):
        parse_invocation(payload, None, make_settings(journal_table_name=""))


def test_faults_need_agent_allow_faults():
    payload = {"detail": {"task": "t", "fault": "crash"}}
    assert requested_fault(payload, allow_faults=True) is Fault.CRASH
    assert requested_fault(payload, allow_faults=False) is None
    assert requested_fault({"fault": "hang"}, allow_faults=True) is Fault.HANG


def test_model_is_a_setting(make_settings):
    assert isinstance(build_model(make_settings()), ScriptedModel)
    assert isinstance(build_model(make_settings(model="bedrock")), BedrockModel)
    assert isinstance(build_model(make_settings(model="openai")), OpenAIModel)
    with pytest.raises(ValueError, match="scripted, bedrock, openai"):
        build_model(make_settings(model="gpt"))


def test_a_session_that_cannot_build_its_model_ends_failed(journal, initiated, make_settings):
    status = run_session(initiated, "task", make_settings(model="gpt"), journal=journal)
    assert status == "FAILED"
    assert journal.get(initiated)["error"].startswith(
        "agent could not start: ValueError: AGENT_MODEL='gpt' is unknown"
    )


def test_the_scripted_model_decides_from_the_conversation_alone(journal, initiated, make_settings):
    agent = build_agent(journal, initiated, make_settings())
    agent("Count these words")
    # Replaying any prefix of the conversation to a fresh model gives the turn that followed.
    for index, message in enumerate(agent.messages):
        if message["role"] != "assistant":
            continue
        kind, turn = ScriptedModel().next_turn(agent.messages[:index])
        block = message["content"][0]
        if kind == "tool":
            assert "toolUse" in block
            assert (turn["name"], turn["input"]) == (
                block["toolUse"]["name"],
                block["toolUse"]["input"],
            )
        else:
            assert block["text"] == turn


class _CountingReads:
    def __init__(self, client):
        self._client = client
        self.reads = 0

    def __getattr__(self, name):
        return getattr(self._client, name)

    def get_item(self, **kwargs):
        self.reads += 1
        return self._client.get_item(**kwargs)


@pytest.mark.parametrize(
    ("fault", "final"), [(None, "COMPLETED"), (Fault.CRASH, "FAILED")], ids=["completed", "crash"]
)
def test_a_session_the_agent_ended_itself_is_not_read_back(
    dynamodb, initiated, make_settings, fault, final
):
    # GIVEN a journal whose reads are counted
    counting = _CountingReads(dynamodb)
    journal = Journal(TABLE, client=counting)

    # WHEN the run ends with a terminal status the agent (or the runner) wrote itself
    assert run_session(initiated, "Summarise", make_settings(), fault, journal=journal) == final

    # THEN its final status came from that write: no read (a terminal status never changes)
    assert counting.reads == 0
    assert Journal(TABLE, client=dynamodb).get(initiated)["status"] == final
