"""The real AgentCore app over HTTP: accepted fast, /ping busy while it works, every session
ends terminal (issue 4)."""

from __future__ import annotations

import urllib.error

import pytest

from agent.identity import AGENT_CODE, IDENTITY_PATH, code_fingerprint
from agent.journal import Journal
from harness.settings import REPO_ROOT
from tests.support.agent_process import AGENT_HTTP_TABLE as TABLE
from tests.support.agent_process import http_json
from tests.support.helpers import wait_for


def _invoke(agent_url, session_id, **extra):
    body = {"session_id": session_id, "task": "Summarise the report", "journal_table_name": TABLE}
    return http_json(f"{agent_url}/invocations", {**body, **extra})


def test_invocation_is_accepted_at_once_and_the_session_completes(
    agent_url, new_session, ended_item
):
    session_id = new_session()
    answer = _invoke(agent_url, session_id)
    assert answer == {"session_id": session_id, "status": "accepted"}
    item = ended_item(session_id)
    assert [h["status"] for h in item["history"]] == ["INITIATED", "BUSY", "COMPLETED"]
    assert item["result"].startswith("Analysed the task")


def test_ping_is_busy_while_a_session_runs_then_healthy(
    agent_url, new_session, session_item, dynamodb
):
    # GIVEN a session held after BUSY until this test ends it (no deadline races the checks)
    session_id = new_session()
    # (the app answers at once: the session cannot end before this test ends it)
    answer = _invoke(agent_url, session_id, fault="hold")
    assert answer == {"session_id": session_id, "status": "accepted"}
    wait_for(lambda: session_item(session_id).get("status") == "BUSY", 20, "BUSY")
    # THEN the app says it is busy
    wait_for(lambda: _ping(agent_url) == "HealthyBusy", 20, "HealthyBusy")
    # WHEN the session is ended by another hand, as the workflow's RecordTimeout ends it
    Journal(TABLE, client=dynamodb).transition(session_id, "FAILED", error="ended by the test")
    # THEN the agent's run ends, leaving the session as it was ended, and the app is idle
    wait_for(lambda: _ping(agent_url) == "Healthy", 20, "Healthy")
    item = session_item(session_id)
    assert [h["status"] for h in item["history"]] == ["INITIATED", "BUSY", "FAILED"]
    assert item["error"] == "ended by the test"


def _ping(agent_url):
    return http_json(f"{agent_url}/ping")["status"]


@pytest.mark.parametrize(
    ("fault", "history", "reason"),
    [
        ("crash", ["INITIATED", "BUSY", "FAILED"], "agent crashed: InjectedFault"),
        (
            "skip_busy",
            ["INITIATED", "FAILED"],
            "without a terminal status (last status: INITIATED)",
        ),
        ("journal_error", ["INITIATED", "FAILED"], "without a terminal status"),
    ],
)
def test_faults_end_failed_with_a_reason(
    agent_url, new_session, ended_item, fault, history, reason
):
    session_id = new_session()
    _invoke(agent_url, session_id, fault=fault)
    item = ended_item(session_id)
    assert item["status"] == "FAILED"
    assert [h["status"] for h in item["history"]] == history
    assert reason in item["error"]


def test_a_bad_invocation_is_refused_with_the_field_named(agent_url):
    with pytest.raises(urllib.error.HTTPError) as refused:
        http_json(f"{agent_url}/invocations", {"session_id": "s", "journal_table_name": TABLE})
    assert refused.value.code == 400
    assert "task" in refused.value.read().decode()


def test_the_agent_says_whose_code_it_runs(agent_url):
    identity = http_json(f"{agent_url}{IDENTITY_PATH}")
    assert identity["service"] == "agent"
    assert identity["checkout"] == str(REPO_ROOT)
    assert identity["fingerprint"] == code_fingerprint(*AGENT_CODE)
    assert isinstance(identity["pid"], int)


def test_each_log_line_is_written_once(agent_url, agent_log):
    """One logging setup: bedrock_agentcore's app logs through the process's one handler, not
    also through a JSON handler of its own (every SDK line used to appear twice)."""
    sdk_line = "WARNING bedrock_agentcore.app: Invocation returned HTTP 400"
    before = agent_log.read_text().count(sdk_line)
    with pytest.raises(urllib.error.HTTPError) as rejected:
        http_json(f"{agent_url}/invocations", {"task": "no session id"})
    assert rejected.value.code == 400
    wait_for(lambda: agent_log.read_text().count(sdk_line) > before, 10, "the SDK's log line")
    # A handler on the SDK's logger runs before the root's, in the same call: by now it wrote.
    log = agent_log.read_text()
    assert log.count(sdk_line) == before + 1, log[-2000:]
    assert '"logger": "bedrock_agentcore.app"' not in log, "the SDK's own JSON handler wrote"
