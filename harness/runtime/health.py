"""Health checks over HTTP (waiting on them: ``harness.polling.poll``), and whether a Docker
daemon answers."""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from harness import commands
from harness.errors import HarnessError

# Where the docker client looks for its daemon when nothing else says (docker context ls).
DEFAULT_DOCKER_SOCKET = Path("/var/run/docker.sock")


class NotReady(HarnessError):
    """A service will not become ready (e.g. its process exited while starting)."""


def get_json(url: str, timeout: float = 2.0) -> Any | None:
    """The JSON body of a 2xx GET, or None when the service does not answer."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return json.loads(response.read() or b"null")
    except (urllib.error.URLError, OSError, ValueError):
        return None


def docker_engine_available(env: dict[str, str] | None = None) -> bool:
    """True when a Docker daemon answers (the client alone is not enough). Without ``env``,
    the user's engine: the private engine never makes ``auto`` pick docker."""
    environment = {**os.environ, **(env or {})}
    if not shutil.which("docker") or not _a_daemon_may_answer(environment):
        return False
    try:
        commands.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            what="docker info",
            timeout=10,
            env=environment,
        )
    except HarnessError:
        return False
    return True


def _a_daemon_may_answer(env: dict[str, str]) -> bool:
    """False only when the docker client would try the default socket and it does not exist:
    then `docker info` (a process, every time a command picks the runtime) cannot succeed."""
    if env.get("DOCKER_HOST") or env.get("DOCKER_CONTEXT"):
        return True
    config = Path(env.get("DOCKER_CONFIG") or Path.home() / ".docker") / "config.json"
    if config.exists():
        return True  # it may name another context: let the client read it
    return DEFAULT_DOCKER_SOCKET.exists()
