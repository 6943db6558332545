"""LOCAL_DEVELOPMENT.md's Configuration table names every variable the settings modules read."""

from __future__ import annotations

import re

from harness.settings import REPO_ROOT

SETTINGS_MODULES = ("harness/settings.py", "agent/settings.py")


def variables_read(path: str) -> set[str]:
    return set(re.findall(r'_env\(\s*"([A-Z0-9_]+)"', (REPO_ROOT / path).read_text()))


def configuration_section() -> str:
    text = (REPO_ROOT / "LOCAL_DEVELOPMENT.md").read_text()
    return text.split("## Configuration", 1)[1].split("\n## ", 1)[0]


def test_every_setting_is_documented() -> None:
    read = set().union(*(variables_read(path) for path in SETTINGS_MODULES))
    assert {"AWS_ENDPOINT_URL", "AGENT_MODEL", "LAMBDA_KEEPALIVE_MS"} <= read  # the regex works
    documented = set(re.findall(r"`([A-Z0-9_]+)`", configuration_section()))
    assert read - documented == set(), "add these to LOCAL_DEVELOPMENT.md ## Configuration"
