"""Host-process runtime (no Docker engine): LocalStack, the AgentCore stand-in and the agent."""

from __future__ import annotations

import logging
import os
import shutil
import sys
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError
from harness.runtime.health import NotReady, get_json, wait_until
from harness.runtime.installer import Installer
from harness.runtime.processes import ManagedProcess, ProcessSpec, port_in_use
from harness.settings import REPO_ROOT, Settings

logger = logging.getLogger(__name__)

# Agent settings a user may set in their shell; the harness hands them to the agent process.
AGENT_PASSTHROUGH = (
    "AGENT_MODEL",
    "AGENT_SESSION_TIMEOUT_SECONDS",
    "BEDROCK_MODEL_ID",
    "OPENAI_BASE_URL",
    "OPENAI_API_KEY",
    "OPENAI_MODEL_ID",
    "AWS_PROFILE",
)
LOCALSTACK_PASSTHROUGH = ("LOCALSTACK_AUTH_TOKEN", "DEBUG", "LS_LOG")


class RuntimeProblem(HarnessError):
    """The runtime cannot start; the message says why and what to do."""


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    url: str
    healthy: bool
    detail: str


def _passthrough(names: tuple[str, ...]) -> dict[str, str]:
    return {name: os.environ[name] for name in names if os.environ.get(name)}


class HostRuntime:
    """Starts, stops and reports the three services as detached host processes."""

    mode = "host"

    def __init__(self, settings: Settings, report: Callable[[str], None] = logger.info) -> None:
        self.settings = settings
        self.report = report
        self.installer = Installer(settings, report)
        self.run_dir = settings.runtime_dir / "run"

    # -- service definitions -------------------------------------------------------------
    def _localstack(self) -> ProcessSpec:
        if self.settings.emulator == "ministack":
            return self._ministack()
        if self.settings.emulator != "localstack":
            raise RuntimeProblem(
                f"HARNESS_EMULATOR must be localstack or ministack (got {self.settings.emulator!r})"
            )
        fs_root = self.instance_root
        env = {
            "OVERRIDE_IN_DOCKER": "0",
            "FILESYSTEM_ROOT": str(fs_root),
            "TMPDIR": str(fs_root / "tmp"),
            "HOME": str(fs_root / "home"),
            "CONFIG_DIR": str(fs_root / "config"),
            "DISABLE_EVENTS": "1",
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "DNS_ADDRESS": "0",
            "GATEWAY_LISTEN": f"127.0.0.1:{self.settings.gateway_port}",
            # LocalStack's default (twisted) server binds every interface whatever the host;
            # hypercorn honours it, so the runtime stays on loopback.
            "GATEWAY_SERVER": "hypercorn",
            "LAMBDA_RUNTIME_EXECUTOR": "host",
            "HOST_LAMBDA_PYTHON_3_12": str(self.installer.lambda_python),
            "LAMBDA_KEEPALIVE_MS": str(self.settings.lambda_keepalive_ms),
            **_passthrough(LOCALSTACK_PASSTHROUGH),
        }
        return ProcessSpec(
            name="localstack",
            command=[str(self.installer.localstack_python), "-m", "localstack.runtime.main"],
            env=env,
            port=self.settings.gateway_port,
            health_url=f"{self.settings.endpoint_url}/_localstack/health",
        )

    def _ministack(self) -> ProcessSpec:
        """MiniStack in the emulator slot (same name, so fixtures and the CLI are unchanged)."""
        return ProcessSpec(
            name="localstack",
            command=[str(self.installer.ministack_python), "-m", "ministack"],
            env={
                "GATEWAY_PORT": str(self.settings.gateway_port),
                "BIND_HOST": "127.0.0.1",
                "HOME": str(self.instance_root / "home"),
            },
            port=self.settings.gateway_port,
            health_url=f"{self.settings.endpoint_url}/_ministack/health",
        )

    @property
    def instance_root(self) -> Path:
        """LocalStack's FILESYSTEM_ROOT for this port: its own state, the shared installs."""
        return self.settings.runtime_dir / "localstack-instances" / str(self.settings.gateway_port)

    def _prepare_instance(self) -> None:
        """Fresh state dirs (LocalStack cleans them on exit), installs linked in, not copied."""
        root = self.instance_root
        shutil.rmtree(root, ignore_errors=True)
        for sub in ("tmp", "home", "config", "var/lib/localstack"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        (root / "var/lib/localstack/lib").symlink_to(
            self.installer.lib_dir, target_is_directory=True
        )
        (root / "usr/lib").mkdir(parents=True)
        (root / "usr/lib/localstack").symlink_to(
            self.installer.static_libs_dir, target_is_directory=True
        )

    def _python_service(
        self, name: str, module: str, port: int, env: dict[str, str]
    ) -> ProcessSpec:
        return ProcessSpec(
            name=name,
            command=[sys.executable, "-m", module],
            env={"PYTHONUNBUFFERED": "1", "PYTHONPATH": str(REPO_ROOT), **env},
            port=port,
            health_url=f"http://127.0.0.1:{port}/ping",
            cwd=REPO_ROOT,
        )

    def _standin(self) -> ProcessSpec:
        return self._python_service(
            "agentcore-standin",
            "agent.agentcore_standin",
            self.settings.standin_port,
            {
                "AGENTCORE_STANDIN_HOST": "127.0.0.1",
                "AGENTCORE_STANDIN_PORT": str(self.settings.standin_port),
                "AGENT_URL": self.settings.agent_url,
            },
        )

    def agent_spec(self) -> ProcessSpec:
        return self._python_service(
            "agent",
            "agent.app",
            self.settings.agent_port,
            {
                "AGENT_HOST": "127.0.0.1",
                "AGENT_PORT": str(self.settings.agent_port),
                "AWS_ENDPOINT_URL": self.settings.endpoint_url,
                "AWS_REGION": self.settings.region,
                "AWS_DEFAULT_REGION": self.settings.region,
                "AWS_ACCESS_KEY_ID": "test",
                "AWS_SECRET_ACCESS_KEY": "test",
                # The local runtime is a test bed: tests inject faults per invocation.
                "AGENT_ALLOW_FAULTS": os.environ.get("AGENT_ALLOW_FAULTS", "1"),
                **_passthrough(AGENT_PASSTHROUGH),
            },
        )

    def specs(self) -> list[ProcessSpec]:
        return [self._localstack(), self.agent_spec(), self._standin()]

    # -- lifecycle -------------------------------------------------------------------------
    def up(self, services: Collection[str] | None = None) -> list[str]:
        """Start the services (all by default) that are not already healthy.

        Returns the names this call started, so a caller can stop just those.
        """
        return [
            spec.name
            for spec in self.specs()
            if (services is None or spec.name in services) and self._ensure(spec)
        ]

    def _ensure(self, spec: ProcessSpec) -> bool:
        if get_json(spec.health_url) is not None:
            self.report(f"{spec.name} already running on port {spec.port}: reusing it")
            return False
        if port_in_use(spec.port):
            raise RuntimeProblem(
                f"port {spec.port} is taken by a process that is not a healthy {spec.name} "
                f"({spec.health_url} does not answer). Stop that process, or move {spec.name} "
                "to another port (AWS_ENDPOINT_URL, AGENT_PORT, AGENTCORE_STANDIN_PORT)."
            )
        if spec.name == "localstack":
            self.installer.ensure_all()
            self._prepare_instance()
        process = ManagedProcess(spec, self.run_dir)
        process.stop()  # a stale pid file from a crashed run
        process.start()
        self.report(f"starting {spec.name} on port {spec.port} (log: {process.log_file})")
        try:
            waited = wait_until(
                lambda: get_json(spec.health_url) is not None,
                timeout=self.settings.startup_timeout,
                what=f"{spec.name} on port {spec.port}",
                abort=lambda: "the process exited" if process.exited_early() else None,
            )
        except NotReady as problem:
            process.stop()
            raise RuntimeProblem(
                f"{problem}. Last lines of {process.log_file}:\n{process.log_tail()}"
            ) from None
        self.report(f"{spec.name} ready in {waited:.1f} s")
        return True

    def down(self, services: Collection[str] | None = None) -> list[str]:
        """Stop what this harness started (reverse order); returns the names stopped."""
        stopped = []
        for spec in reversed(self.specs()):
            if services is not None and spec.name not in services:
                continue
            if ManagedProcess(spec, self.run_dir).stop():
                stopped.append(spec.name)
        return stopped

    def status(self) -> list[ServiceStatus]:
        result = []
        for spec in self.specs():
            process = ManagedProcess(spec, self.run_dir)
            healthy = get_json(spec.health_url) is not None
            pid = process.pid()
            owner = f"pid {pid}" if pid else ("not started by the harness" if healthy else "")
            result.append(ServiceStatus(spec.name, spec.health_url, healthy, owner))
        return result

    def log_files(self) -> dict[str, str]:
        return {s.name: str(ManagedProcess(s, self.run_dir).log_file) for s in self.specs()}

    def log_text(self, service: str) -> str:
        """What one service has logged so far ("" if it has no log here)."""
        spec = next((s for s in self.specs() if s.name == service), None)
        if spec is None:
            return ""
        try:
            return ManagedProcess(spec, self.run_dir).log_file.read_text(errors="replace")
        except FileNotFoundError:
            return ""
