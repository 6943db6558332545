"""Docker compose runtime, for machines with a Docker engine."""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Callable, Collection

from harness import commands
from harness.errors import HarnessError
from harness.runtime.health import get_json
from harness.runtime.host import RuntimeProblem, ServiceStatus
from harness.settings import REPO_ROOT, Settings

logger = logging.getLogger(__name__)

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
# The compose network's real name (fixed in docker-compose.yml): Lambda containers join it.
COMPOSE_NETWORK = "agent-workflow"
STANDIN_URL_IN_COMPOSE = "http://agentcore-standin:8090"


def docker_engine_available() -> bool:
    """True when a Docker daemon answers (the client alone is not enough)."""
    if not shutil.which("docker"):
        return False
    try:
        commands.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"], what="docker info", timeout=10
        )
    except HarnessError:
        return False
    return True


class ComposeRuntime:
    """``docker compose`` over docker-compose.yml: LocalStack, the agent, the stand-in."""

    mode = "docker"

    def __init__(self, settings: Settings, report: Callable[[str], None] = logger.info) -> None:
        self.settings = settings
        self.report = report

    def _compose(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = ["docker", "compose", "-f", str(COMPOSE_FILE), *args]
        return commands.run(command, what=f"`{' '.join(command)}`", error=RuntimeProblem)

    def _urls(self) -> dict[str, str]:
        return {
            "localstack": f"{self.settings.endpoint_url}/_localstack/health",
            "agent": f"{self.settings.agent_url}/ping",
            "agentcore-standin": f"{self.settings.standin_url}/ping",
        }

    def up(self, services: Collection[str] | None = None) -> list[str]:
        """Start the compose services (all by default); returns the names started."""
        wanted = [name for name in self._urls() if services is None or name in services]
        missing = [name for name in wanted if get_json(self._urls()[name]) is None]
        if not missing:
            self.report("compose services already running: reusing them")
            return []
        self.report(f"docker compose up {' '.join(missing)}")
        self._compose("up", "--detach", "--build", "--wait", *missing)
        return missing

    def down(self, services: Collection[str] | None = None) -> list[str]:
        if services is None:
            self._compose("down", "--volumes", "--remove-orphans")
            return list(self._urls())
        self._compose("stop", *services)
        return list(services)

    def status(self) -> list[ServiceStatus]:
        return [
            ServiceStatus(name, url, get_json(url) is not None, "docker compose service")
            for name, url in self._urls().items()
        ]

    def log_files(self) -> dict[str, str]:
        return {name: f"docker compose logs {name}" for name in self._urls()}

    def log_text(self, service: str) -> str:
        """What one compose service has logged so far ("" if compose cannot say)."""
        try:
            return self._compose("logs", "--no-color", service).stdout
        except RuntimeProblem:
            return ""
