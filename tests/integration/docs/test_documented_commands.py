"""The trigger commands in LOCAL_DEVELOPMENT.md, run exactly as written, complete a session:
the docs cannot rot (issue 8)."""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from harness.assertions import assert_completed
from harness.settings import REPO_ROOT, Settings
from tests.support.helpers import run_command

DOC = REPO_ROOT / "LOCAL_DEVELOPMENT.md"
DEFAULT_ENDPOINT = "http://127.0.0.1:4566"
BLOCK = re.compile(r"<!-- doc-test: (?P<name>[\w-]+) -->\s*```bash\n(?P<command>.*?)\n```", re.S)


def documented_commands() -> dict[str, str]:
    return {m["name"]: m["command"] for m in BLOCK.finditer(DOC.read_text())}


def run_as_written(command: str, settings: Settings) -> subprocess.CompletedProcess[str]:
    # A user's shell: no AWS endpoint or credentials exported. On other ports than the
    # documented ones (the suite's own runtime, beside another checkout's), what a user there
    # does: the endpoint exported, and the documented one replaced by it.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    if settings.endpoint_url != DEFAULT_ENDPOINT:
        env["AWS_ENDPOINT_URL"] = settings.endpoint_url
        env["LOCALSTACK_HOST"] = f"127.0.0.1:{settings.gateway_port}"  # awslocal's
        command = command.replace(DEFAULT_ENDPOINT, settings.endpoint_url)
    return run_command(["bash", "-c", command], env=env, timeout=180)


def test_the_doc_has_the_documented_trigger_commands():
    assert set(documented_commands()) == {"make", "harness", "awslocal", "aws"}


@pytest.mark.parametrize("name", ["make", "harness"])
def test_watching_commands_end_completed(name, deployed_stack, agent_services, harness_settings):
    result = run_as_written(documented_commands()[name], harness_settings)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "COMPLETED:" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("name", ["awslocal", "aws"])
def test_put_events_commands_start_a_session_that_completes(
    name, deployed_stack, agent_services, session_reader, harness_settings
):
    result = run_as_written(documented_commands()[name], harness_settings)
    assert result.returncode == 0, result.stdout + result.stderr
    printed = json.loads(result.stdout)
    assert printed["FailedEntryCount"] == 0
    session_id = printed["Entries"][0]["EventId"]
    session = assert_completed(session_reader, session_id)
    assert session.item["task"] == "Summarise the quarterly cost report"
