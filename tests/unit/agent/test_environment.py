"""Settings read from the environment (agent/environment.py): a bad value is one line naming
the variable, the value and what is accepted; blank means the default; arguments beat it."""

from __future__ import annotations

import pytest

from agent.environment import SettingError
from agent.settings import AgentSettings
from harness.agentcore_standin import StandInConfig
from harness.settings import LOCAL_REGION, REPO_ROOT, Settings

BAD_VALUES = [
    (AgentSettings, "AGENT_PORT", "abc", "an integer from 1 to 65535"),
    (AgentSettings, "AGENT_PORT", "70000", "an integer from 1 to 65535"),
    (AgentSettings, "AGENT_SESSION_TIMEOUT_SECONDS", "-1", "a number of seconds greater than 0"),
    (AgentSettings, "AGENT_SESSION_TIMEOUT_SECONDS", "nan", "a number of seconds greater than 0"),
    (AgentSettings, "AGENT_MODEL", "gpt", "one of scripted, bedrock, openai"),
    (AgentSettings, "AGENT_ALLOW_FAULTS", "sometimes", "1 or 0 (also true/false, yes/no)"),
    (AgentSettings, "OPENAI_BASE_URL", "127.0.0.1:11434", "an http(s) URL"),
    (Settings, "AGENT_PORT", "abc", "an integer from 1 to 65535"),
    (Settings, "AGENTCORE_STANDIN_PORT", "0", "an integer from 1 to 65535"),
    (Settings, "HARNESS_STARTUP_TIMEOUT", "x", "a number of seconds greater than 0"),
    (Settings, "HARNESS_RUNTIME", "foo", "one of auto, host, docker"),
    (Settings, "HARNESS_TARGET", "foo", "one of local, aws"),
    (Settings, "HARNESS_EMULATOR", "moto", "one of localstack, ministack"),
    (Settings, "LAMBDA_KEEPALIVE_MS", "1.5", "an integer >= 1"),
    (Settings, "DYNAMODB_HEAP_SIZE", "64 MB", "a Java memory size such as 64m or 1g"),
    (Settings, "MALLOC_ARENA_MAX", "-1", "an integer >= 0"),
    (Settings, "AWS_ENDPOINT_URL", "http://127.0.0.1:port", "an http(s) URL"),
    (StandInConfig, "AGENTCORE_STANDIN_PORT", "abc", "an integer from 1 to 65535"),
    (StandInConfig, "AGENTCORE_STANDIN_TIMEOUT", "0", "a number of seconds greater than 0"),
    (StandInConfig, "AGENTCORE_STANDIN_FAULT", "boom", "throttle, error or delay:<seconds>"),
    (StandInConfig, "AGENTCORE_STANDIN_FAULT", "delay:soon", "throttle, error or delay:<seconds>"),
    (StandInConfig, "AGENT_URL", "agent:8080", "an http(s) URL"),
]


@pytest.mark.parametrize(("settings_class", "variable", "value", "accepted"), BAD_VALUES)
def test_a_bad_value_is_one_line_naming_variable_value_and_what_is_accepted(
    monkeypatch, settings_class, variable, value, accepted
):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingError) as bad:
        settings_class()
    message = str(bad.value)
    assert message.startswith(f"{variable}={value!r} is not valid: expected {accepted}")
    assert "\n" not in message
    assert (bad.value.variable, bad.value.value) == (variable, value)


def test_unset_or_blank_means_the_default(monkeypatch):
    monkeypatch.delenv("AGENT_PORT", raising=False)
    monkeypatch.setenv("AGENT_MODEL", "  ")
    settings = AgentSettings()
    assert (settings.port, settings.model) == (8080, "bedrock")
    monkeypatch.delenv("HARNESS_RUNTIME_DIR", raising=False)
    assert Settings().runtime_dir == REPO_ROOT / ".runtime"


def test_values_are_parsed_and_normalised(monkeypatch):
    for name, value in {
        "AGENT_PORT": " 8123 ",
        "AGENT_MODEL": "Bedrock",
        "AGENT_ALLOW_FAULTS": "0",
        "AGENT_SESSION_TIMEOUT_SECONDS": "2.5",
        "AGENT_URL": "http://agent:8080/",
        "AGENTCORE_STANDIN_FAULT": "delay:1.5",
    }.items():
        monkeypatch.setenv(name, value)
    agent = AgentSettings()
    assert (agent.port, agent.model, agent.allow_faults, agent.session_timeout_seconds) == (
        8123,
        "bedrock",
        False,
        2.5,
    )
    standin = StandInConfig()
    assert (standin.agent_url, standin.fault) == ("http://agent:8080", "delay:1.5")
    monkeypatch.setenv("AGENT_ALLOW_FAULTS", "1")
    assert AgentSettings().allow_faults is True


def test_an_argument_beats_the_environment_and_is_not_read(monkeypatch):
    monkeypatch.setenv("HARNESS_TARGET", "aws")
    assert Settings().target == "aws"
    assert Settings(target="local").target == "local"
    monkeypatch.setenv("AGENT_PORT", "abc")
    assert Settings(agent_port=9000).agent_port == 9000  # the bad variable is never parsed


def test_the_first_of_several_variables_wins(monkeypatch):
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    assert Settings(target="aws").region == "eu-west-1"
    monkeypatch.delenv("AWS_REGION")
    assert Settings(target="aws").region == "us-west-2"
    assert Settings(target="local").region == LOCAL_REGION


def test_task_is_taken_byte_for_byte(monkeypatch):
    monkeypatch.setenv("TASK", "  two spaces, then a tab\t")
    assert Settings().task == "  two spaces, then a tab\t"


def test_gateway_port_comes_from_the_endpoint(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4721/")
    settings = Settings()
    assert (settings.endpoint_url, settings.gateway_port) == ("http://127.0.0.1:4721", 4721)
