"""What the agent imports before it serves: a bad setting stops it before the AWS SDK, the web
framework or Strands are imported, and Strands waits for the first session (agent/app.py,
agent/server.py). Checked in a fresh interpreter's sys.modules, not by timing."""

from __future__ import annotations

import pytest

from tests.support.helpers import modules_loaded_after

HEAVY = ("strands", "boto3", "botocore", "bedrock_agentcore", "starlette", "opentelemetry")


def loaded_after(code: str, **env: str) -> dict[str, bool]:
    """Which of HEAVY a fresh interpreter has imported after running ``code``."""
    return modules_loaded_after(code, HEAVY, **env)


@pytest.mark.parametrize(
    ("code", "variable"),
    [
        ("import agent.app", "AGENT_PORT"),
        ("from agent.__main__ import main; main(['--task', 't'])", "AGENT_MODEL"),
    ],
)
def test_a_bad_setting_stops_the_agent_before_its_heavy_imports(code, variable):
    loaded = loaded_after(code, **{variable: "bad"})
    assert not any(loaded.values()), loaded


def test_the_served_app_imports_strands_at_its_first_session_not_before():
    loaded = loaded_after(
        "from agent.app import SETTINGS, check_available; from agent.server import build_app; "
        "check_available(SETTINGS); build_app(SETTINGS)",
        AGENT_MODEL="scripted",
        AGENT_ALLOW_FAULTS="1",
    )
    assert loaded["bedrock_agentcore"], loaded  # the app was built
    assert not loaded["strands"], loaded
