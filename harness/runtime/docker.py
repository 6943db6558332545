"""Docker compose runtime, for machines with a Docker engine.

The engine is the user's (``DOCKER_HOST`` or the default socket) when one answers; otherwise,
with ``HARNESS_RUNTIME=docker``, this checkout's private engine (harness/runtime/engine.py),
started on demand, on which the images are built offline before compose runs them.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Callable, Collection

from harness import commands
from harness.runtime.engine import Engine, EngineProblem
from harness.runtime.health import docker_engine_available, get_json
from harness.runtime.host import RuntimeProblem, ServiceStatus
from harness.runtime.images import ImageBuilder
from harness.runtime.ports import port_in_use
from harness.settings import REPO_ROOT, Settings
from harness.wait_scale import emulator_environment

logger = logging.getLogger(__name__)

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
# The compose network's real name (fixed in docker-compose.yml).
COMPOSE_NETWORK = "agent-workflow"
COMPOSE_PROJECT = "agent-workflow"
STANDIN_URL_IN_COMPOSE = "http://agentcore-standin:8090"
# Seconds compose gives a container between SIGTERM and SIGKILL on `down`.
STOP_GRACE_SECONDS = 10


class ComposeRuntime:
    """``docker compose`` over docker-compose.yml: LocalStack, the agent, the stand-in."""

    mode = "docker"

    def __init__(self, settings: Settings, report: Callable[[str], None] = logger.info) -> None:
        self.settings = settings
        self.report = report
        self.engine = Engine(settings, report)
        self._private: bool | None = None

    # -- which engine -----------------------------------------------------------------------
    @property
    def private_engine(self) -> bool:
        """True when compose runs on this checkout's private engine (no user engine answers)."""
        if self._private is None:
            own = self.engine.environment()["DOCKER_HOST"]
            self._private = (
                os.environ.get("DOCKER_HOST") == own
                or self.engine.running()
                or not docker_engine_available()
            )
        return self._private

    def environment(self) -> dict[str, str]:
        """The compose subprocess's environment: the engine, and the ports and DynamoDB Local's
        JVM settings from the settings (as host mode gives them)."""
        env = dict(os.environ)
        if self.private_engine:
            env.update(self.engine.environment())
        env.update(
            {
                "LOCALSTACK_PORT": str(self.settings.gateway_port),
                "AGENT_PORT": str(self.settings.agent_port),
                "AGENTCORE_STANDIN_PORT": str(self.settings.standin_port),
                "HARNESS_CHECKOUT": str(REPO_ROOT),
                "DYNAMODB_HEAP_SIZE": self.settings.dynamodb_heap_size,
                "DYNAMODB_JAVA_OPTIONS": self.settings.dynamodb_java_options,
                **emulator_environment("localstack", self.settings.sfn_wait_scale),
            }
        )
        return env

    def _compose(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [
            "docker",
            "compose",
            "--project-name",
            COMPOSE_PROJECT,
            "-f",
            str(COMPOSE_FILE),
            *args,
        ]
        return commands.run(
            command, what=f"`{' '.join(command)}`", error=RuntimeProblem, env=self.environment()
        )

    def _urls(self) -> dict[str, str]:
        return {
            "localstack": f"{self.settings.endpoint_url}/_localstack/health",
            "agent": f"{self.settings.agent_url}/ping",
            "agentcore-standin": f"{self.settings.standin_url}/ping",
        }

    def running_services(self) -> list[str]:
        """The compose services running on the engine ([] when there is no engine)."""
        if self.private_engine and not self.engine.running():
            return []
        try:
            listed = self._compose("ps", "--services", "--status", "running").stdout
        except RuntimeProblem:
            return []
        return listed.split()

    def ports_held_by_others(self) -> list[int]:
        """The configured ports something other than this compose project listens on."""
        taken = [
            port
            for port in (
                self.settings.gateway_port,
                self.settings.agent_port,
                self.settings.standin_port,
            )
            if port_in_use(port)
        ]
        return taken if taken and not self.running_services() else []

    # -- lifecycle ----------------------------------------------------------------------------
    def up(self, services: Collection[str] | None = None) -> list[str]:
        """Start the compose services (all by default); returns the names that were not
        running before. Running ones are left to compose, which recreates a container only
        when its image (rebuilt when its inputs changed) or its configuration changed."""
        wanted = [name for name in self._urls() if services is None or name in services]
        missing = [name for name in wanted if get_json(self._urls()[name]) is None]
        build = ["--build"]
        if self.private_engine:
            try:
                self.engine.start()
                ImageBuilder(self.engine, self.report).build_all(
                    offline_base=self.settings.docker_base == "offline"
                )
            except EngineProblem as problem:
                raise RuntimeProblem(str(problem)) from None
            build = ["--no-build"]
        self.report(f"docker compose up {' '.join(wanted)}")
        timeout = str(int(self.settings.startup_timeout))
        self._compose("up", "--detach", *build, "--wait", "--wait-timeout", timeout, *wanted)
        return missing

    def down(self, services: Collection[str] | None = None) -> list[str]:
        if self.private_engine and not self.engine.running():
            return []
        grace = str(STOP_GRACE_SECONDS)
        if services is None:
            self._compose("down", "--volumes", "--remove-orphans", "--timeout", grace)
            return list(self._urls())
        self._compose("stop", "--timeout", grace, *services)
        self._compose("rm", "--force", *services)
        return list(services)

    def status(self) -> list[ServiceStatus]:
        engine = "private engine" if self.private_engine else "docker"
        return [
            ServiceStatus(name, url, get_json(url) is not None, f"compose service ({engine})")
            for name, url in self._urls().items()
        ]

    def log_files(self) -> dict[str, str]:
        engine = (
            'eval "$(.venv/bin/python -m harness engine env)" && ' if self.private_engine else ""
        )
        compose = f"docker compose -p {COMPOSE_PROJECT}"
        return {name: f"{engine}{compose} logs {name}" for name in self._urls()}

    def log_text(self, service: str) -> str:
        """What one compose service has logged so far ("" if compose cannot say)."""
        try:
            return self._compose("logs", "--no-color", service).stdout
        except RuntimeProblem:
            return ""
