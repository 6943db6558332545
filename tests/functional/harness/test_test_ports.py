"""HARNESS_TEST_PORTS=free: a test session's runtime takes free loopback ports, exported for
the commands its tests run (`make test` runs its docker tier so, beside the host tiers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.file_lock import held_unless_taken
from harness.pytest_plugin import PORT_CLAIMS

pytest_plugins = ["pytester"]

SESSION = """
import os

def test_ports(harness_settings):
    print("ports", harness_settings.gateway_port, harness_settings.agent_port,
          harness_settings.standin_port)
    print("env", os.environ["AWS_ENDPOINT_URL"], os.environ["AGENT_PORT"],
          os.environ["AGENTCORE_STANDIN_PORT"])
"""


def _ports(pytester: pytest.Pytester) -> tuple[list[str], list[str]]:
    pytester.makepyfile(test_session=SESSION)
    result = pytester.runpytest_inprocess("-p", "harness.pytest_plugin", "-s", "-q")
    result.assert_outcomes(passed=1)
    ports = next(line for line in result.outlines if line.startswith("ports "))
    env = next(line for line in result.outlines if line.startswith("env "))
    return ports.split()[1:], env.split()[1:]


def test_free_ports_replace_the_configured_ones_for_the_session(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_RUNTIME", "host")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    monkeypatch.setenv("AGENT_PORT", "8080")
    monkeypatch.setenv("AGENTCORE_STANDIN_PORT", "8090")
    monkeypatch.setenv("HARNESS_TEST_PORTS", "free")
    ports, env = _ports(pytester)
    assert len(set(ports)) == 3
    assert not {"4566", "8080", "8090"} & set(ports)
    assert env == [f"http://127.0.0.1:{ports[0]}", ports[1], ports[2]]


def test_configured_ports_are_kept_by_default(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path))  # no other checkout's claims
    monkeypatch.setenv("HARNESS_RUNTIME", "host")
    monkeypatch.delenv("HARNESS_TEST_PORTS", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4999")
    monkeypatch.setenv("AGENT_PORT", "8999")
    monkeypatch.setenv("AGENTCORE_STANDIN_PORT", "8998")
    ports, env = _ports(pytester)
    assert ports == ["4999", "8999", "8998"]
    assert env == ["http://127.0.0.1:4999", "8999", "8998"]


def test_ports_another_checkouts_session_claimed_are_left_to_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Two checkouts' test sessions started together both find the configured ports free: the
    one that claims them first keeps them, the other runs on free ports."""
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("HARNESS_RUNTIME", "host")
    monkeypatch.delenv("HARNESS_TEST_PORTS", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4999")
    monkeypatch.setenv("AGENT_PORT", "8999")
    monkeypatch.setenv("AGENTCORE_STANDIN_PORT", "8998")
    claim = tmp_path / PORT_CLAIMS / "4999-8999-8998.lock"
    with held_unless_taken(claim, "/elsewhere/other-checkout") as holder:
        assert holder is None
        ports, env = _ports(pytester)
    assert not {"4999", "8999", "8998"} & set(ports)
    assert env == [f"http://127.0.0.1:{ports[0]}", ports[1], ports[2]]
    # Once that session has ended, the claim is free again: the next one keeps the ports.
    assert _ports(pytester)[0] == ["4999", "8999", "8998"]
