"""Host-process runtime (no Docker engine): LocalStack, the AgentCore stand-in and the agent."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from agent.identity import AGENT_CODE, code_fingerprint
from contract import (
    ENV_AGENT_ALLOW_FAULTS,
    ENV_AGENT_MODEL,
    ENV_BEDROCK_MODEL_ID,
    ENV_RECORD_AWS_CALLS,
)
from harness.agentcore_standin import STANDIN_CODE
from harness.errors import HarnessError
from harness.fingerprint import fingerprint
from harness.polling import PollTimeout, poll
from harness.runtime.health import NotReady, get_json
from harness.runtime.installer import (
    HOST_LAMBDA_PLUGIN,
    LOCALSTACK_LOCK,
    MINISTACK_LOCK,
    Installer,
)
from harness.runtime.ownership import (
    CHECKOUT_ENV,
    FINGERPRINT_ENV,
    Owner,
    identity_owner,
    process_owner,
)
from harness.runtime.ports import free_port, port_in_use
from harness.runtime.processes import ManagedProcess, ProcessSpec
from harness.settings import REPO_ROOT, Settings
from harness.wait_scale import emulator_environment, format_scale

logger = logging.getLogger(__name__)

# Agent settings a user may set in their shell; the harness hands them to the agent process.
AGENT_PASSTHROUGH = (
    ENV_AGENT_MODEL,
    "AGENT_RECORD",
    "AGENT_REPLAY",
    "AGENT_SESSION_TIMEOUT_SECONDS",
    ENV_BEDROCK_MODEL_ID,
    "OPENAI_BASE_URL",
    "OPENAI_API_KEY",
    "OPENAI_MODEL_ID",
    "AWS_PROFILE",
)
# The local runtime's model: a test double (agent/testing/), deterministic, no LLM.
LOCAL_AGENT_MODEL = "scripted"
LOCALSTACK_PASSTHROUGH = ("LOCALSTACK_AUTH_TOKEN", "DEBUG", "LS_LOG")


class RuntimeProblem(HarnessError):
    """The runtime cannot start; the message says why and what to do."""


class ForeignRuntime(RuntimeProblem):
    """A service on this checkout's port belongs to another checkout (or to nobody we know)."""

    def __init__(self, message: str, service: str, owner: Owner) -> None:
        super().__init__(message)
        self.service = service
        self.owner = owner


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
            # DynamoDB Local's JVM (LocalStack starts it, with this environment): its heap,
            # and options the java launcher reads (see Settings).
            "DYNAMODB_HEAP_SIZE": self.settings.dynamodb_heap_size,
            # Its temporary files (the sqlite native library it unpacks at each start) stay
            # in the instance's folder, which goes at `down`: in /tmp, each start left 0.9 MB.
            "JDK_JAVA_OPTIONS": (
                f"{self.settings.dynamodb_java_options} -Djava.io.tmpdir={fs_root / 'tmp'}"
            ),
            **self._malloc_env(),
            # LocalStack's own calls between its services stay in the process (no HTTP round
            # trip through its gateway); DynamoDB Local keeps its tables in memory (a runtime's
            # tables live as long as it, as they did in its temporary directory).
            "IN_MEMORY_CLIENT": "1",
            "DYNAMODB_IN_MEMORY": "1",
            **emulator_environment("localstack", self.settings.sfn_wait_scale),
            **_passthrough(LOCALSTACK_PASSTHROUGH),
            **self._owner_markers("localstack"),
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
                # Its Lambda workers' folders (~50 MB each, never removed by MiniStack) go in
                # this instance's tmp, which `down` removes.
                "TMPDIR": str(self.instance_root / "tmp"),
                **emulator_environment("ministack", self.settings.sfn_wait_scale),
                **self._owner_markers("localstack"),
            },
            port=self.settings.gateway_port,
            health_url=f"{self.settings.endpoint_url}/_ministack/health",
        )

    def _malloc_env(self) -> dict[str, str]:
        """glibc's arena limit for a Python service: fewer per-thread heaps, less memory kept."""
        limit = self.settings.malloc_arena_max
        return {"MALLOC_ARENA_MAX": str(limit)} if limit else {}

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
        self, name: str, module: str, port: int, *, settings_prefix: str, env: dict[str, str]
    ) -> ProcessSpec:
        """``python -m module`` on loopback ``port`` (its <settings_prefix>_HOST and _PORT)."""
        listen = {f"{settings_prefix}_HOST": "127.0.0.1", f"{settings_prefix}_PORT": str(port)}
        return ProcessSpec(
            name=name,
            command=[sys.executable, "-m", module],
            env={
                "PYTHONUNBUFFERED": "1",
                "PYTHONPATH": str(REPO_ROOT),
                **self._malloc_env(),
                **listen,
                **env,
            },
            port=port,
            health_url=f"http://127.0.0.1:{port}/ping",
            cwd=REPO_ROOT,
        )

    def _standin(self) -> ProcessSpec:
        return self._python_service(
            "agentcore-standin",
            "harness.agentcore_standin",
            self.settings.standin_port,
            settings_prefix="AGENTCORE_STANDIN",
            env={"AGENT_URL": self.settings.agent_url},
        )

    def agent_spec(self) -> ProcessSpec:
        return self._python_service(
            "agent",
            "agent.app",
            self.settings.agent_port,
            settings_prefix="AGENT",
            env={
                "AWS_ENDPOINT_URL": self.settings.endpoint_url,
                "AWS_REGION": self.settings.region,
                "AWS_DEFAULT_REGION": self.settings.region,
                "AWS_ACCESS_KEY_ID": "test",
                "AWS_SECRET_ACCESS_KEY": "test",
                # The local runtime is a test bed: the scripted model (no LLM) unless the shell
                # asks for another, and tests inject faults per invocation. Both are explicit:
                # the agent's own default is Bedrock, and no faults.
                ENV_AGENT_MODEL: os.environ.get(ENV_AGENT_MODEL) or LOCAL_AGENT_MODEL,
                ENV_AGENT_ALLOW_FAULTS: os.environ.get(ENV_AGENT_ALLOW_FAULTS, "1"),
                # Each AWS call logged, for the IAM sufficiency check (local runs only).
                ENV_RECORD_AWS_CALLS: "1",
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

    def _ensure(self, spec: ProcessSpec, *, quiet: bool = False) -> bool:
        """Start ``spec`` unless this checkout's runs it with current code; True if started
        (a restart for new code is not: whoever started it before still owns it)."""
        restarting = False
        if get_json(spec.health_url) is not None:
            if self._reusable(spec):
                if not quiet:
                    self.report(f"{spec.name} already running on port {spec.port}: reusing it")
                return False
            restarting = True
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

        def healthy() -> bool:
            if process.exited_early():
                raise NotReady(f"{spec.name} on port {spec.port}: the process exited")
            return get_json(spec.health_url) is not None

        started = time.monotonic()
        try:
            poll(
                healthy,
                timeout=self.settings.startup_timeout,
                interval=0.05,  # a restarted agent answers in ~0.5 s: each look saves waiting
                what=f"{spec.name} on port {spec.port} answering {spec.health_url}",
            )
        except (NotReady, PollTimeout) as problem:
            process.stop()
            raise RuntimeProblem(
                f"{problem}. Last lines of {process.log_file}:\n{process.log_tail()}"
            ) from None
        waited = time.monotonic() - started
        self.report(f"{spec.name} ready in {waited:.1f} s")
        return not restarting

    # -- ownership: only this checkout's services, running this checkout's code -----------
    def code_fingerprint(self, name: str) -> str:
        """The fingerprint of the code a service of this checkout runs, as of now."""
        if name == "agent":
            return code_fingerprint(*AGENT_CODE)
        if name == "agentcore-standin":
            return code_fingerprint(*STANDIN_CODE)
        # The Wait scale too: the stack is deployed for the emulator's (harness/wait_scale.py).
        scale = f"wait_scale={format_scale(self.settings.sfn_wait_scale)}"
        if self.settings.emulator == "ministack":
            return fingerprint(MINISTACK_LOCK, extra=scale)
        return fingerprint(LOCALSTACK_LOCK, HOST_LAMBDA_PLUGIN, extra=scale)

    def _owner_markers(self, name: str) -> dict[str, str]:
        """Environment that names the emulator's owner (read back by process_owner)."""
        return {CHECKOUT_ENV: str(REPO_ROOT), FINGERPRINT_ENV: self.code_fingerprint(name)}

    def owner(self, spec: ProcessSpec) -> Owner:
        """Who runs the service answering on ``spec.port`` (see harness/runtime/ownership.py)."""
        if spec.name != "localstack":
            reported = identity_owner(spec.health_url.removesuffix("/ping"))
            if reported is not None:
                return reported
        return process_owner(spec.port, likely=ManagedProcess(spec, self.run_dir).pid())

    def _owned(self, spec: ProcessSpec) -> Owner:
        """The owner of a running service, if it is this checkout; else ForeignRuntime.

        Ours: it says this checkout, or it says nothing (started before services said who
        they are) but is the process our own pid file names.
        """
        owner = self.owner(spec)
        if owner.checkout == str(REPO_ROOT):
            return owner
        managed = ManagedProcess(spec, self.run_dir).pid()
        if owner.checkout is None and managed is not None and owner.pid in (None, managed):
            return owner
        raise ForeignRuntime(self._foreign_message(spec, owner), spec.name, owner)

    def _foreign_message(self, spec: ProcessSpec, owner: Owner) -> str:
        if owner.checkout:
            whose = f"belongs to another checkout, {owner.checkout} ({owner.describe()})"
            stop = f"stop it there (`cd {owner.checkout} && make down`)"
        else:
            whose = f"was not started by this checkout's harness ({owner.describe()})"
            stop = "stop it (`make down` in the checkout that started it)"
        ports = (
            f"AWS_ENDPOINT_URL=http://127.0.0.1:{free_port(self.settings.gateway_port)} "
            f"AGENT_PORT={free_port(self.settings.agent_port)} "
            f"AGENTCORE_STANDIN_PORT={free_port(self.settings.standin_port)}"
        )
        return (
            f"{spec.name} on port {spec.port} {whose}. This checkout ({REPO_ROOT}) does not "
            f"use another checkout's runtime: its code and stack are not this one's. Either "
            f"{stop}, or run this checkout on other ports: export e.g. {ports} for every "
            "command here (make up, make trigger-workflow, pytest, ...)."
        )

    def _reusable(self, spec: ProcessSpec) -> bool:
        """True to reuse the running service; False once it was stopped to run new code.

        Raises ForeignRuntime when it is not this checkout's. Only a process this harness
        started (its pid file) is restarted; the emulator never is (its state is in memory).
        """
        owner = self._owned(spec)
        want = self.code_fingerprint(spec.name)
        if owner.fingerprint == want:
            return True
        if spec.name == "localstack":
            if owner.fingerprint is not None:
                self.report(
                    f"{self.settings.emulator} was started with other emulator code or "
                    "settings (lock file, host Lambda plugin, HARNESS_SFN_WAIT_SCALE): "
                    "`make down && make up` to run this one (its state is in memory: redeploy "
                    "after)"
                )
            return True
        process = ManagedProcess(spec, self.run_dir)
        managed = process.pid()
        if managed is None or owner.pid not in (None, managed):
            self.report(
                f"{spec.name} code changed since it started, but this harness did not start it "
                f"({owner.describe()}): restart it to run the new code"
            )
            return True
        self.report(f"{spec.name} code changed since it started: restarting it")
        process.stop()
        return False

    def refuse_foreign(self, services: Collection[str] | None = None) -> None:
        """Raise ForeignRuntime if a running service (all by default) is another checkout's."""
        for spec in self.specs():
            if (services is None or spec.name in services) and port_in_use(spec.port):
                self._owned(spec)

    def ensure_current(self, services: Collection[str] | None = None) -> None:
        """For the running services (all by default): refuse another checkout's, restart ours
        whose code changed since they started. Starts nothing that is not running."""
        for spec in self.specs():
            if (services is None or spec.name in services) and get_json(spec.health_url):
                self._ensure(spec, quiet=True)

    def down(self, services: Collection[str] | None = None) -> list[str]:
        """Stop what this harness started (reverse order); returns the names stopped."""
        stopped = []
        for spec in reversed(self.specs()):
            if services is not None and spec.name not in services:
                continue
            if ManagedProcess(spec, self.run_dir).stop(self.settings.stop_timeout):
                stopped.append(spec.name)
        if "localstack" in stopped:
            # The emulator's instance folder goes with it (its next start makes a fresh one):
            # what it left in its temporary folder (MiniStack leaves every Lambda worker's,
            # DynamoDB Local its sqlite library), and one folder per port a test session used.
            shutil.rmtree(self.instance_root, ignore_errors=True)
        return stopped

    def status(self) -> list[ServiceStatus]:
        result = []
        for spec in self.specs():
            process = ManagedProcess(spec, self.run_dir)
            healthy = get_json(spec.health_url) is not None
            pid = process.pid()
            owner = f"pid {pid}" if pid else (self._owner_note(spec) if healthy else "")
            result.append(ServiceStatus(spec.name, spec.health_url, healthy, owner))
        return result

    def _owner_note(self, spec: ProcessSpec) -> str:
        """Whose a running service is, when this checkout's harness did not start it."""
        checkout = self.owner(spec).checkout
        if checkout is None:
            return "not started by this checkout's harness"
        if checkout != str(REPO_ROOT):
            return f"another checkout: {checkout}"
        return "this checkout's code, not started by `make up`"

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
