"""``python -m agent``: one session in the foreground, exit status from the journal."""

from __future__ import annotations

import pytest

from agent.__main__ import main
from agent.tools import text_digest
from tests.support.journal_items import MOTO_JOURNAL_TABLE as TABLE


@pytest.fixture
def cli_env(monkeypatch, dynamodb):
    monkeypatch.setenv("JOURNAL_TABLE_NAME", TABLE)
    monkeypatch.setenv("AGENT_MODEL", "scripted")


def test_session_id_from_env_and_exit_zero_on_completed(cli_env, initiated, monkeypatch, capsys):
    monkeypatch.setenv("SESSION_ID", initiated)
    assert main(["--task", "Count these words"]) == 0
    assert capsys.readouterr().out.strip() == (
        f"session {initiated}: COMPLETED Analysed the task: 3 words, 17 characters "
        f"(sha256 {text_digest('Count these words')})."
    )


def test_exit_one_when_the_session_does_not_complete(cli_env, initiated, journal, capsys):
    journal.transition(initiated, "FAILED", error="cancelled")
    assert main(["--session-id", initiated, "--task", "t"]) == 1
    assert capsys.readouterr().out.strip() == f"session {initiated}: FAILED cancelled"


def test_a_session_id_is_required(cli_env, monkeypatch, capsys):
    monkeypatch.delenv("SESSION_ID", raising=False)
    with pytest.raises(SystemExit) as exited:
        main(["--task", "t"])
    assert exited.value.code == 2
    assert "--session-id or SESSION_ID" in capsys.readouterr().err
