"""What `python -m harness` imports: each command imports what it uses in its own body, so
`--help` needs neither rich nor the runtime nor the AWS SDK, `down` (host mode) neither the
docker runtime nor the AWS SDK. Checked in a fresh interpreter's sys.modules, not by timing;
and where its compiled modules are kept when the shell says not to write bytecode."""

from __future__ import annotations

import os
import subprocess
import sys

from harness.runtime import health
from harness.runtime.ports import free_ports
from harness.settings import REPO_ROOT
from tests.support.helpers import modules_loaded_after

HEAVY = ("rich", "boto3", "botocore", "psutil", "harness.runtime", "harness.runtime.docker")


def loaded_by(*args: str, **env: str) -> dict[str, bool]:
    """Which of HEAVY ``python -m harness ARGS`` has imported when it ends."""
    code = (
        f"import runpy\nsys.argv = ['harness', *{list(args)!r}]\n"
        "runpy.run_module('harness', run_name='__main__')"
    )
    return modules_loaded_after(code, HEAVY, **env)


def test_help_imports_nothing_heavy():
    loaded = loaded_by("--help")
    assert not any(loaded.values()), loaded


def test_down_in_host_mode_imports_neither_docker_nor_the_aws_sdk():
    gateway, agent, standin = free_ports(3)  # nothing runs there: nothing is stopped
    loaded = loaded_by(
        "down",
        HARNESS_RUNTIME="host",
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{gateway}",
        AGENT_PORT=str(agent),
        AGENTCORE_STANDIN_PORT=str(standin),
    )
    assert loaded["harness.runtime"], loaded  # it did pick the runtime
    assert not loaded["harness.runtime.docker"], loaded
    assert not loaded["boto3"], loaded
    assert not loaded["botocore"], loaded


def test_no_docker_info_when_no_daemon_can_answer(monkeypatch, tmp_path):
    """`auto` runs `docker info` only if a daemon could answer: not when the client would try
    the default socket and it does not exist (every command picks the runtime)."""
    ran: list[list[str]] = []
    monkeypatch.setattr(health.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(health.commands, "run", lambda command, **_: ran.append(command))
    monkeypatch.setattr(health, "DEFAULT_DOCKER_SOCKET", tmp_path / "docker.sock")
    for name in ("DOCKER_HOST", "DOCKER_CONTEXT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    assert not health.docker_engine_available()
    assert ran == []
    (tmp_path / "docker.sock").touch()
    assert health.docker_engine_available()
    (tmp_path / "docker.sock").unlink()
    assert health.docker_engine_available({"DOCKER_HOST": "unix:///elsewhere.sock"})
    assert len(ran) == 2  # the client was asked both times


def test_the_command_line_keeps_its_bytecode_when_the_shell_says_not_to_write_it(tmp_path):
    """With PYTHONDONTWRITEBYTECODE, every command compiled the harness's modules again
    (~0.07 CPU-s of each): their bytecode goes into the runtime's cache instead."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "HARNESS_RUNTIME_DIR": str(tmp_path)}
    env.pop("PYTHONPYCACHEPREFIX", None)
    subprocess.run(
        [sys.executable, "-m", "harness", "--help"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        check=True,
        timeout=60,
    )
    kept = {path.name.split(".")[0] for path in (tmp_path / "cache" / "pycache").rglob("*.pyc")}
    assert "cli" in kept, sorted(kept)
