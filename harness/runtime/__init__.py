"""The local AWS runtime: LocalStack, the agent and the AgentCore stand-in.

Two implementations behind one interface (``up``, ``down``, ``status``, ``log_files``):
``ComposeRuntime`` when a Docker engine answers, ``HostRuntime`` (host processes) otherwise.
"""

from __future__ import annotations

from collections.abc import Callable

from harness.runtime.docker import ComposeRuntime, docker_engine_available
from harness.runtime.host import HostRuntime, RuntimeProblem, ServiceStatus
from harness.settings import Settings

__all__ = ["ComposeRuntime", "HostRuntime", "RuntimeProblem", "ServiceStatus", "select_runtime"]


def select_runtime(
    settings: Settings, report: Callable[[str], None] | None = None
) -> HostRuntime | ComposeRuntime:
    """The runtime for ``HARNESS_RUNTIME`` (host | docker | auto: docker if an engine answers)."""
    mode = settings.runtime_mode
    if mode not in {"auto", "host", "docker"}:
        raise RuntimeProblem(f"HARNESS_RUNTIME must be auto, host or docker (got {mode!r})")
    if mode == "auto":
        mode = "docker" if docker_engine_available() else "host"
    runtime_class = ComposeRuntime if mode == "docker" else HostRuntime
    return runtime_class(settings, report) if report else runtime_class(settings)
