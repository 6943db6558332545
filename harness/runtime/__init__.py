"""The local AWS runtime: LocalStack, the agent and the AgentCore stand-in.

Two implementations behind one interface (``up``, ``down``, ``status``, ``log_files``):
``ComposeRuntime`` when a Docker engine answers, ``HostRuntime`` (host processes) otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from harness.runtime.health import docker_engine_available
from harness.runtime.host import ForeignRuntime, HostRuntime, RuntimeProblem, ServiceStatus
from harness.runtime.ownership import Owner
from harness.runtime.ports import free_ports
from harness.settings import RUNTIME_MODES, Settings

if TYPE_CHECKING:
    from harness.runtime.docker import ComposeRuntime

__all__ = [
    "ComposeRuntime",
    "ForeignRuntime",
    "HostRuntime",
    "RuntimeProblem",
    "ServiceStatus",
    "ensure_current",
    "on_free_ports",
    "select_runtime",
    "settings_of_this_checkout",
]


def select_runtime(
    settings: Settings, report: Callable[[str], None] | None = None
) -> HostRuntime | ComposeRuntime:
    """The runtime for ``HARNESS_RUNTIME`` (host | docker | auto: docker if an engine answers)."""
    mode = settings.runtime_mode
    if mode not in RUNTIME_MODES:
        raise RuntimeProblem(f"HARNESS_RUNTIME must be auto, host or docker (got {mode!r})")
    if mode == "auto":
        mode = "docker" if docker_engine_available() else "host"
    runtime_class: type[HostRuntime | ComposeRuntime] = HostRuntime
    if mode == "docker":  # its module (the engine, the images) only when it runs
        from harness.runtime.docker import ComposeRuntime

        runtime_class = ComposeRuntime
    return runtime_class(settings, report) if report else runtime_class(settings)


def __getattr__(name: str) -> Any:
    """``ComposeRuntime``, imported when asked for (host mode never needs it)."""
    if name == "ComposeRuntime":
        from harness.runtime.docker import ComposeRuntime

        return ComposeRuntime
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def ensure_current(
    settings: Settings,
    report: Callable[[str], None],
    services: Collection[str] | None = None,
) -> HostRuntime | ComposeRuntime | None:
    """Before using the local runtime (trigger, deploy): refuse another checkout's services
    (ForeignRuntime) and restart this checkout's agent or stand-in if its code changed since
    it started (host mode; docker compose is taken as it is). Returns the local runtime, or
    None for a remote target."""
    if not settings.is_local:
        return None
    runtime = select_runtime(settings, report)
    if isinstance(runtime, HostRuntime):
        runtime.ensure_current(services)
    return runtime


def settings_of_this_checkout(settings: Settings) -> tuple[Settings, ForeignRuntime | None]:
    """``settings`` if no other checkout's service holds its ports; otherwise the same settings
    on free ports (a runtime of this checkout's own, e.g. for the test suite), and why."""
    runtime = select_runtime(settings)
    if not settings.is_local:
        return settings, None
    try:
        if isinstance(runtime, HostRuntime):
            runtime.refuse_foreign()
        elif taken := runtime.ports_held_by_others():
            owner = Owner(checkout=None, fingerprint=None, pid=None)
            raise ForeignRuntime(f"ports {taken} are not this compose project's", "ports", owner)
    except ForeignRuntime as foreign:
        return on_free_ports(settings), foreign
    return settings, None


def on_free_ports(settings: Settings) -> Settings:
    """``settings`` with the gateway, the agent and the stand-in on free loopback ports."""
    gateway, agent, standin = free_ports(3)
    return replace(
        settings,
        endpoint_url=f"http://127.0.0.1:{gateway}",
        agent_port=agent,
        standin_port=standin,
    )
