"""What the agent imports before it serves: a bad setting stops it before the AWS SDK, the web
framework or Strands are imported, and Strands waits for the first session (agent/app.py,
agent/server.py). Checked in a fresh interpreter's sys.modules, not by timing."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from harness.settings import REPO_ROOT

HEAVY = ("strands", "boto3", "botocore", "bedrock_agentcore", "starlette", "opentelemetry")


def loaded_after(code: str, **env: str) -> dict[str, bool]:
    """Which of HEAVY a fresh interpreter has imported after running ``code``."""
    probe = (
        f"import sys\ntry:\n    {code}\nexcept SystemExit:\n    pass\n"
        f"import json; print(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    loaded: dict[str, bool] = json.loads(result.stdout.splitlines()[-1])
    return loaded


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
