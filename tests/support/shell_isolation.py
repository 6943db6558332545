"""Unit and functional tests never reach a runtime and never read the shell's set-up: every
AWS_* variable the shell (or make) exports is dropped, no AWS config or credentials file is
read, and the port overrides are dropped, so they see the documented defaults."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def no_shell_aws_settings(monkeypatch, tmp_path):
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.delenv("AGENT_PORT", raising=False)
    monkeypatch.delenv("AGENTCORE_STANDIN_PORT", raising=False)
