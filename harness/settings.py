"""Every environment variable the harness reads, in one place, with local defaults."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from agent.environment import (
    http_url,
    integer,
    one_of,
    port_number,
    seconds,
    setting,
    text,
)
from harness.wait_scale import DEFAULT_WAIT_SCALE, WAIT_SCALE_ENV, wait_scale

REPO_ROOT = Path(__file__).resolve().parent.parent
# The local stage is deployed to LocalStack's account in this region (infra/.../config.py),
# whatever AWS_REGION the shell exports for real AWS.
LOCAL_REGION = "us-east-1"
DEFAULT_TASK = "Summarise the quarterly cost report"
RUNTIME_MODES = ("auto", "host", "docker")
EMULATORS = ("localstack", "ministack")
TARGETS = ("local", "aws")
DOCKER_BASES = ("offline", "official")
TEST_PORTS = ("configured", "free")
# What a shell may export for real AWS that must not reach the local runtime's tools
# (prefixes; AWS_ENDPOINT_URL itself is the harness's endpoint setting and is kept).
SHELL_AWS_VARIABLES_IGNORED_LOCALLY = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL_",
)


# The caches every checkout on this machine shares: HARNESS_CACHE_DIR, else this folder in
# XDG_CACHE_HOME (~/.cache). The Makefile and scripts/bootstrap-venv.sh name the same default.
SHARED_CACHE_NAME = "agent-workflow-harness"


def shared_cache_default() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / SHARED_CACHE_NAME


def java_memory_size(value: str) -> str:
    """A size as java's -Xmx takes it: digits, then k, m or g (either case) or nothing."""
    if not re.fullmatch(r"[1-9][0-9]*[kKmMgG]?", value):
        raise ValueError("a Java memory size such as 64m or 1g")
    return value


@dataclass(frozen=True)
class Settings:
    """Harness configuration; fields default to environment variables, then local defaults
    (agent/environment.py: a bad value is a SettingError naming the variable)."""

    endpoint_url: str = setting("AWS_ENDPOINT_URL", "http://127.0.0.1:4566", http_url)
    # The AWS target's region; the local target always uses LOCAL_REGION.
    region: str = setting(("AWS_REGION", "AWS_DEFAULT_REGION"), LOCAL_REGION, text)
    # auto: Docker compose when a Docker engine answers, host processes otherwise.
    runtime_mode: str = setting("HARNESS_RUNTIME", "auto", one_of(*RUNTIME_MODES))
    runtime_dir: Path = setting("HARNESS_RUNTIME_DIR", REPO_ROOT / ".runtime", Path)
    # Downloads shared by the checkouts on this machine (uv's, npm's and jsii's caches, and
    # uv itself); each checkout's installs (.venv, .runtime, infra/node_modules) are its own.
    cache_dir: Path = setting("HARNESS_CACHE_DIR", shared_cache_default(), Path)
    agent_port: int = setting("AGENT_PORT", 8080, port_number)
    standin_port: int = setting("AGENTCORE_STANDIN_PORT", 8090, port_number)
    # The AWS emulator in the "localstack" slot: localstack (default) or ministack (for
    # parity and speed comparisons: `make bench` measures both).
    emulator: str = setting("HARNESS_EMULATOR", "localstack", one_of(*EMULATORS))
    localstack_python: str = setting("LOCALSTACK_PYTHON", "", text)
    lambda_python: str = setting("LAMBDA_PYTHON", "", text)
    startup_timeout: float = setting("HARNESS_STARTUP_TIMEOUT", 120.0, seconds)
    # How long `down` gives a host-mode service after SIGTERM before its tree is killed
    # (harness/runtime/processes.py, STOP_TIMEOUT: LocalStack needs 2-6 s).
    stop_timeout: float = setting("HARNESS_STOP_TIMEOUT", 15.0, seconds)
    # How long LocalStack keeps an idle Lambda environment (host mode). Forking one from the
    # zygote takes milliseconds, so a short keep-alive frees a burst's memory at little cost.
    lambda_keepalive_ms: int = setting("LAMBDA_KEEPALIVE_MS", 30000, integer(1))
    # DynamoDB Local's JVM (host mode; LocalStack starts it): its maximum heap (LocalStack's
    # own variable; its default is 256m) and the java launcher's options (JDK_JAVA_OPTIONS):
    # the serial collector and the client compiler keep it ~50 MB smaller than G1 and C2; a
    # heap given back when mostly free, small thread stacks, code cache and one compiler
    # thread, no perf-data file: ~10 MB more; no bytecode verification of its own jars: its
    # start ~0.3 CPU-s and ~0.3 s shorter (LOCAL_DEVELOPMENT.md, "What keeps it small").
    dynamodb_heap_size: str = setting("DYNAMODB_HEAP_SIZE", "64m", java_memory_size)
    dynamodb_java_options: str = setting(
        "DYNAMODB_JAVA_OPTIONS",
        "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xms16m -Xss256k -XX:ReservedCodeCacheSize=16m"
        " -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30 -XX:CICompilerCount=1 -XX:-UsePerfData"
        " -XX:+UnlockDiagnosticVMOptions -XX:-BytecodeVerificationRemote",
        text,
    )
    # glibc's MALLOC_ARENA_MAX for the Python services (LocalStack, agent, stand-in); 0 leaves
    # glibc's default (8 heaps per core for a threaded process).
    malloc_arena_max: int = setting("MALLOC_ARENA_MAX", 2, integer(0))
    # The task `trigger` publishes without --task: the Makefile's TASK, byte for byte.
    task: str = setting("TASK", DEFAULT_TASK, text, verbatim=True)
    stack_name: str = setting("STACK_NAME", "AgentWorkflow", text)
    target: str = setting("HARNESS_TARGET", "local", one_of(*TARGETS))
    # `make ui`: the live page's port (on 127.0.0.1 only).
    ui_port: int = setting("HARNESS_UI_PORT", 8077, port_number)
    # Base images on the private Docker engine: built offline from Debian's packages, or the
    # official ones from a registry.
    docker_base: str = setting("HARNESS_DOCKER_BASE", "offline", one_of(*DOCKER_BASES))
    # The fraction of its duration a Step Functions Wait state lasts in the local emulator
    # (harness/wait_scale.py): the local stage deploys the polls that keep its time budget.
    sfn_wait_scale: float = setting(WAIT_SCALE_ENV, DEFAULT_WAIT_SCALE, wait_scale)
    # The local stage's agent time budget in polls of 1 s (CDK context max_polls) when a deploy
    # names none (`-c max_polls=N` wins); 0: the stage's default (30). The end-to-end tests
    # deploy with 10 (harness/pytest_plugin.py): a hung agent's session then ends in ~15 s.
    local_max_polls: int = setting("HARNESS_MAX_POLLS", 0, integer(0))
    # free: an end-to-end test session runs its runtime on free loopback ports instead of the
    # configured ones (`make test` runs its docker tier so, beside the host tiers' runtime).
    test_ports: str = setting("HARNESS_TEST_PORTS", "configured", one_of(*TEST_PORTS))

    def __post_init__(self) -> None:
        if self.is_local:
            object.__setattr__(self, "region", LOCAL_REGION)

    @property
    def is_local(self) -> bool:
        return self.target == "local"

    @property
    def gateway_port(self) -> int:
        parts = urlsplit(self.endpoint_url)
        return parts.port or (443 if parts.scheme == "https" else 80)

    @property
    def agent_url(self) -> str:
        return f"http://127.0.0.1:{self.agent_port}"

    @property
    def standin_url(self) -> str:
        return f"http://127.0.0.1:{self.standin_port}"
