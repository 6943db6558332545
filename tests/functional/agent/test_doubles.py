"""The test doubles (agent/testing/) are loaded only when asked for, and asked for where they
are absent (the production image) the agent stops with one line saying what is missing."""

from __future__ import annotations

import sys

import pytest

import agent.app
from agent import doubles
from agent.__main__ import main as agent_cli
from agent.settings import AgentSettings
from agent.testing.faults import Fault

TEST_DOUBLES = ("agent.testing", "agent.testing.scripted_model", "agent.testing.faults")


@pytest.fixture
def without_test_doubles(monkeypatch):
    """As in the production image: agent/testing/ cannot be imported."""
    for name in TEST_DOUBLES:
        monkeypatch.setitem(sys.modules, name, None)


def test_the_default_model_is_bedrock_and_faults_are_off(monkeypatch):
    monkeypatch.delenv("AGENT_MODEL", raising=False)
    monkeypatch.delenv("AGENT_ALLOW_FAULTS", raising=False)
    settings = AgentSettings.from_env()
    assert settings.model == "bedrock"
    assert settings.allow_faults is False
    doubles.check_available(settings)  # needs no test double


def test_the_scripted_model_and_faults_load_when_present(make_settings):
    doubles.check_available(make_settings(model="scripted", allow_faults=True))
    assert type(doubles.scripted_model()).__name__ == "ScriptedModel"
    assert doubles.requested_fault({"fault": "hang"}, allow_faults=True) is Fault.HANG


@pytest.mark.parametrize(
    ("overrides", "missing"),
    [
        ({"model": "scripted", "allow_faults": False}, "AGENT_MODEL=scripted needs"),
        ({"model": "bedrock", "allow_faults": True}, "AGENT_ALLOW_FAULTS=1 needs"),
    ],
)
def test_a_missing_double_is_one_clear_error_at_start(
    without_test_doubles, make_settings, monkeypatch, overrides, missing
):
    settings = make_settings(**overrides)
    with pytest.raises(doubles.TestDoublesMissing, match=missing):
        doubles.check_available(settings)
    # the app refuses to start: one line, no traceback
    monkeypatch.setattr(agent.app, "SETTINGS", settings)
    with pytest.raises(SystemExit) as stopped:
        agent.app.main()
    message = str(stopped.value.code)
    assert message.startswith(f"error: {missing} the agent's test doubles (agent/testing/")
    assert "production image ships without them" in message
    assert "\n" not in message


def test_without_doubles_a_fault_is_still_ignored_unless_allowed(without_test_doubles):
    assert doubles.requested_fault({"fault": "crash"}, allow_faults=False) is None
    assert doubles.requested_fault({"task": "no fault"}, allow_faults=True) is None
    with pytest.raises(doubles.TestDoublesMissing, match=r"agent/testing/faults\.py"):
        doubles.requested_fault({"fault": "crash"}, allow_faults=True)


def test_an_unknown_fault_names_the_choices():
    with pytest.raises(doubles.InvalidFault, match="crash, hang, hold, skip_busy, journal_error"):
        doubles.requested_fault({"fault": "explode"}, allow_faults=True)


def test_the_one_shot_cli_stops_with_the_same_line(without_test_doubles, monkeypatch):
    monkeypatch.setenv("AGENT_MODEL", "scripted")
    monkeypatch.delenv("AGENT_ALLOW_FAULTS", raising=False)
    with pytest.raises(SystemExit) as stopped:
        agent_cli(["--session-id", "s" * 36, "--task", "t", "--table", "journal"])
    assert str(stopped.value.code).startswith("error: AGENT_MODEL=scripted needs")
