"""Whose runtime answers on a port: this checkout's, another checkout's, or nobody knows.

Several clones of the repository can live on one machine, and each one's harness would happily
reuse whatever answers on the default ports: the second checkout then runs the first one's
agent and stack. So each service the harness starts says which checkout it belongs to and
which code it started with:

- the agent and the AgentCore stand-in answer ``GET /_harness/identity`` (agent/identity.py):
  the checkout their code was imported from and a fingerprint of that code at start. Asking
  over HTTP works whoever started them (``make up``, ``make agent``, by hand) and for any user.
- LocalStack (and MiniStack), which we cannot change, get two environment variables from the
  harness, ``HARNESS_CHECKOUT`` and ``HARNESS_CODE_FINGERPRINT``, read back from
  the environment of the process that listens on the port (psutil: its listening socket,
  then ``Process.environ()``). That names the owner even when the pid file lives in another
  checkout's ``.runtime``; a process of another user cannot be read, and is then reported as
  of unknown owner.
"""

from __future__ import annotations

from dataclasses import dataclass

import psutil

from agent.identity import IDENTITY_PATH
from harness.runtime.health import get_json
from harness.runtime.processes import cmdline

CHECKOUT_ENV = "HARNESS_CHECKOUT"
FINGERPRINT_ENV = "HARNESS_CODE_FINGERPRINT"


@dataclass(frozen=True)
class Owner:
    """Who runs a service: ``checkout`` and ``fingerprint`` are None when it does not say."""

    checkout: str | None
    fingerprint: str | None
    pid: int | None
    command: str = ""

    def describe(self) -> str:
        where = f"pid {self.pid}" if self.pid else "pid unknown"
        return f"{where}: {self.command}" if self.command else where


def identity_owner(base_url: str) -> Owner | None:
    """The owner a Python service reports on ``GET /_harness/identity``; None if it does not."""
    answer = get_json(base_url + IDENTITY_PATH)
    if not isinstance(answer, dict) or not answer.get("checkout"):
        return None
    pid = answer.get("pid")
    return Owner(
        checkout=str(answer["checkout"]),
        fingerprint=answer.get("fingerprint") or None,
        pid=pid if isinstance(pid, int) else None,
        command=cmdline(pid) if isinstance(pid, int) else "",
    )


def process_owner(port: int, likely: int | None = None) -> Owner:
    """The owner of the process listening on ``port``, from the harness's environment markers;
    ``likely``: the process that should be listening (the pid file's), looked at first."""
    pid = likely if likely is not None and listens_on(likely, port) else listening_pid(port)
    if pid is None:
        return Owner(None, None, None)
    env = process_environment(pid)
    return Owner(
        checkout=env.get(CHECKOUT_ENV) or None,
        fingerprint=env.get(FINGERPRINT_ENV) or None,
        pid=pid,
        command=cmdline(pid),
    )


def listening_pid(port: int) -> int | None:
    """The process that listens on TCP ``port`` (the oldest, if a socket is shared), if visible.

    psutil maps the socket to its process through the processes' fds, as ``ss -p`` does: a
    socket of another user's process is listed without a pid (unless we are root).
    """
    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.AccessDenied:  # macOS lists sockets only for root
        return None
    holders = [
        c.pid
        for c in connections
        if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid
    ]
    return min(holders) if holders else None


def listens_on(pid: int, port: int) -> bool:
    """``pid`` itself listens on TCP ``port``: found through its own fds alone (the whole
    machine's, which ``listening_pid`` reads, are thousands while the tests run)."""
    try:
        connections = psutil.Process(pid).net_connections(kind="tcp")
    except psutil.Error:
        return False
    return any(
        c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port for c in connections
    )


def process_environment(pid: int) -> dict[str, str]:
    """The environment ``pid`` started with; empty if it is gone or not ours to read (the
    kernel lets only its user, or root, read it: psutil raises AccessDenied then)."""
    try:
        return psutil.Process(pid).environ()
    except psutil.Error:
        return {}
