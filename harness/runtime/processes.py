"""Background processes with pid files and log files (the host-mode runtime's plumbing)."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProcessSpec:
    """How to run one long-lived service as a detached host process."""

    name: str
    command: list[str]
    env: dict[str, str]
    port: int
    health_url: str
    cwd: Path | None = None
    inherit_env: tuple[str, ...] = field(default=("PATH", "LANG", "LC_ALL", "TERM"))


class ManagedProcess:
    """A detached process whose pid and output live under ``run_dir``."""

    def __init__(self, spec: ProcessSpec, run_dir: Path) -> None:
        self.spec = spec
        # Keyed by port too, so two runtimes (e.g. a test's own) can live side by side.
        self.pid_file = run_dir / f"{spec.name}-{spec.port}.pid"
        self.log_file = run_dir / f"{spec.name}-{spec.port}.log"

    def pid(self) -> int | None:
        """The pid from the pid file, if that process is still alive."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def start(self) -> int:
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        env = {k: os.environ[k] for k in self.spec.inherit_env if k in os.environ}
        env.update(self.spec.env)
        with self.log_file.open("ab") as log:
            process = subprocess.Popen(
                self.spec.command,
                cwd=self.spec.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid_file.write_text(str(process.pid))
        logger.debug("service=<%s>, pid=<%s> | started", self.spec.name, process.pid)
        return process.pid

    def exited_early(self) -> bool:
        """True once a started process has died (its pid file names a dead pid)."""
        return self.pid_file.exists() and self.pid() is None

    def stop(self, timeout: float = 15.0) -> bool:
        """SIGTERM the process group, then SIGKILL after ``timeout``; True if it was running."""
        pid = self.pid()
        self.pid_file.unlink(missing_ok=True)
        if pid is None:
            return False
        _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid_alive(pid):
            logger.warning("service=<%s>, pid=<%s> | did not stop, killing", self.spec.name, pid)
            _signal_group(pid, signal.SIGKILL)
        return True

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its parent) is not alive.
    fields = _proc(pid, "stat").rsplit(")", 1)
    return len(fields) != 2 or fields[1].split()[0] != "Z"


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _proc(pid: int, name: str) -> str:
    try:
        return Path(f"/proc/{pid}/{name}").read_text(errors="replace")
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return ""


def cmdline(pid: int) -> str:
    return _proc(pid, "cmdline").replace("\0", " ")


def rss_mb(pid: int) -> float:
    """Resident memory of one process, in MiB (0 if it is gone)."""
    for line in _proc(pid, "status").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pss_mb(pid: int) -> float:
    """Proportional set size in MiB: shared pages split between their users, so forked
    processes (the host Lambda environments) are not counted many times over."""
    for line in _proc(pid, "smaps_rollup").splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return rss_mb(pid)


def descendants(root: int) -> set[int]:
    """Every live process below ``root`` (children, grandchildren, ...)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _proc(int(entry.name), "stat").rsplit(")", 1)
            if len(fields) == 2:
                parents[int(entry.name)] = int(fields[1].split()[1])
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found
