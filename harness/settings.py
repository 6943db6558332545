"""Every environment variable the harness reads, in one place, with local defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# The local stage is deployed to LocalStack's account in this region (infra/.../config.py),
# whatever AWS_REGION the shell exports for real AWS.
LOCAL_REGION = "us-east-1"
DEFAULT_TASK = "Summarise the quarterly cost report"
# What a shell may export for real AWS that must not reach the local runtime's tools
# (prefixes; AWS_ENDPOINT_URL itself is the harness's endpoint setting and is kept).
SHELL_AWS_VARIABLES_IGNORED_LOCALLY = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL_",
)


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


@dataclass(frozen=True)
class Settings:
    """Harness configuration; fields default to environment variables, then local defaults."""

    endpoint_url: str = field(
        default_factory=lambda: _env("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    )
    # The AWS target's region; the local target always uses LOCAL_REGION.
    region: str = field(
        default_factory=lambda: _env("AWS_REGION", _env("AWS_DEFAULT_REGION", LOCAL_REGION))
    )
    # auto: Docker compose when a Docker engine answers, host processes otherwise.
    runtime_mode: str = field(default_factory=lambda: _env("HARNESS_RUNTIME", "auto"))
    runtime_dir: Path = field(
        default_factory=lambda: Path(_env("HARNESS_RUNTIME_DIR", str(REPO_ROOT / ".runtime")))
    )
    agent_port: int = field(default_factory=lambda: int(_env("AGENT_PORT", "8080")))
    standin_port: int = field(default_factory=lambda: int(_env("AGENTCORE_STANDIN_PORT", "8090")))
    # The AWS emulator in the "localstack" slot: localstack (default) or ministack (for
    # parity and speed comparisons, e.g. `make bench-ministack`).
    emulator: str = field(default_factory=lambda: _env("HARNESS_EMULATOR", "localstack"))
    localstack_python: str = field(default_factory=lambda: _env("LOCALSTACK_PYTHON", ""))
    lambda_python: str = field(default_factory=lambda: _env("LAMBDA_PYTHON", ""))
    startup_timeout: float = field(
        default_factory=lambda: float(_env("HARNESS_STARTUP_TIMEOUT", "120"))
    )
    # How long LocalStack keeps an idle Lambda environment (host mode). Forking one from the
    # zygote takes milliseconds, so a short keep-alive frees a burst's memory at little cost.
    lambda_keepalive_ms: int = field(
        default_factory=lambda: int(_env("LAMBDA_KEEPALIVE_MS", "30000"))
    )
    # The task `trigger` publishes without --task: the Makefile's TASK, byte for byte.
    task: str = field(default_factory=lambda: os.environ.get("TASK", DEFAULT_TASK))
    stack_name: str = field(default_factory=lambda: _env("STACK_NAME", "AgentWorkflow"))
    target: str = field(default_factory=lambda: _env("HARNESS_TARGET", "local"))
    # `make ui`: the live page's port (on 127.0.0.1 only).
    ui_port: int = field(default_factory=lambda: int(_env("HARNESS_UI_PORT", "8077")))

    def __post_init__(self) -> None:
        if self.is_local:
            object.__setattr__(self, "region", LOCAL_REGION)

    @property
    def is_local(self) -> bool:
        return self.target == "local"

    @property
    def gateway_port(self) -> int:
        return int(self.endpoint_url.rsplit(":", 1)[-1].split("/", 1)[0])

    @property
    def agent_url(self) -> str:
        return f"http://127.0.0.1:{self.agent_port}"

    @property
    def standin_url(self) -> str:
        return f"http://127.0.0.1:{self.standin_port}"
