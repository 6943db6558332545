"""Background processes with pid files and log files (the host-mode runtime's plumbing): start
one, find the instances this checkout runs, stop a whole process tree (SIGTERM, then SIGKILL),
read a process's command line and memory (RSS, PSS; psutil), and hold Ctrl-C while a clean-up
must not be cut in half."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from harness import recently_used
from harness.polling import PollTimeout, poll

logger = logging.getLogger(__name__)

# How long a service gets to stop after SIGTERM before it and its tree are killed. LocalStack
# (the slowest) was measured at 2-3.5 s after a deploy and sessions on a 2-core machine, up to
# 5.6 s with both cores busy, 3.2 s after a burst of 30 sessions (31 Lambda environments).
STOP_TIMEOUT = 15.0
# How long a child may outlive its stopped parent before it is signalled itself.
ORPHAN_GRACE = 2.0
# Each service's logs of stopped instances kept beside the running ones' (the most recent):
# a runtime on other ports (a test's own, a bench's) leaves its log, ~50 per make test.
KEPT_LOGS = 10
# A service's log is appended to across its starts (what it said before a restart stays), but
# the runtime `make up` and every make test start on the fixed ports lives on: its LocalStack
# and agent logs grew by ~2 MB a make test, 52 MB after five hours of work, and each trigger
# and watch read the whole emulator log (see rotate_if_large).
LOG_ROTATE_BYTES = 4 * 1024 * 1024


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
        return live_pid(self.pid_file)

    def start(self) -> int:
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        env = {k: os.environ[k] for k in self.spec.inherit_env if k in os.environ}
        env.update(self.spec.env)
        rotate_if_large(self.log_file)
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
        self._prune_logs()
        return process.pid

    def _prune_logs(self) -> None:
        """Remove this service's logs of stopped instances on other ports but the
        ``KEPT_LOGS`` most recent (each with its previous log); a running instance's log (its
        pid file is there) stays."""
        stopped = [
            log
            for log in self.log_file.parent.glob(f"{self.spec.name}-*.log")
            if (instance := _instance(log)) is not None
            and instance[0] == self.spec.name
            and log != self.log_file
            and not log.with_suffix(".pid").exists()
        ]
        for log in recently_used.prune(stopped, KEPT_LOGS):
            with contextlib.suppress(FileNotFoundError):
                previous_log(log).unlink()

    def exited_early(self) -> bool:
        """True once a started process has died (its pid file names a dead pid)."""
        return self.pid_file.exists() and self.pid() is None

    def stop(self, timeout: float = STOP_TIMEOUT) -> bool:
        """Stop the process and its whole tree (see ``stop_tree``); True if it was running."""
        pid = self.pid()
        self.pid_file.unlink(missing_ok=True)
        if pid is None:
            return False
        if not stop_tree(pid, timeout):
            logger.warning(
                "service=<%s>, pid=<%s> | did not stop within %.0f s, killed",
                self.spec.name,
                pid,
                timeout,
            )
        return True

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


def rotate_if_large(log: Path) -> None:
    """Before a start that appends to ``log``: past ``LOG_ROTATE_BYTES`` it is moved aside as
    its previous log (replacing the one before), so the start begins a new one."""
    with contextlib.suppress(FileNotFoundError):
        if log.stat().st_size > LOG_ROTATE_BYTES:
            log.replace(previous_log(log))


def previous_log(log: Path) -> Path:
    """Where ``<name>.log`` goes when it is rotated: ``<name>.previous.log``."""
    return log.with_suffix(".previous.log")


def _instance(path: Path) -> tuple[str, int] | None:
    """``(service, port)`` of an instance's pid or log file, ``<service>-<port>.<suffix>``;
    None for another file."""
    name, _, port = path.stem.rpartition("-")
    return (name, int(port)) if port.isdigit() else None


@contextlib.contextmanager
def signals_deferred(
    signals: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM),
    notice: Callable[[], None] | None = None,
) -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block is done (a clean-up that must not be cut in
    half); the first one that arrived meanwhile is raised again right after it. ``notice``
    is called when the first arrives (to say what it waits for)."""
    received: list[int] = []

    def hold(signum: int, _frame: object) -> None:
        if not received and notice is not None:
            notice()
        received.append(signum)

    previous = {sig: signal.signal(sig, hold) for sig in signals}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if received:
            signal.raise_signal(received[0])


def running_instances(run_dir: Path) -> list[tuple[str, int, int]]:
    """``(service, port, pid)`` for every pid file under ``run_dir`` whose process runs: every
    instance started from this checkout, whatever its ports."""
    found = []
    for pid_file in sorted(run_dir.glob("*-*.pid")):
        instance = _instance(pid_file)
        try:
            pid = int(pid_file.read_text().strip())
        except (OSError, ValueError):
            continue
        if instance is not None and pid_alive(pid):
            found.append((*instance, pid))
    return found


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def stop_tree(
    pid: int,
    timeout: float = STOP_TIMEOUT,
    *,
    hurry: Callable[[], bool] = lambda: False,
) -> bool:
    """Stop ``pid`` and every process below it, wherever their process group or session is,
    and every process left in the session ``pid`` leads (whose parent is gone).

    The tree is collected before any signal (once a parent is gone its children are
    re-parented and can no longer be found), and again while the parent lives, since it may
    start children while it shuts down. Only ``pid`` gets SIGTERM: its children (in its
    group, or in sessions of their own, as LocalStack's DynamoDB JVM) are left to it to stop,
    and get SIGTERM themselves if they outlive it by ``ORPHAN_GRACE``. Whatever is still
    alive after ``timeout`` (or as soon as ``hurry()`` is true) gets SIGKILL, and is waited
    for (bounded). Processes are tracked as ``psutil.Process`` (pid and start time), so a
    reused pid is never signalled. True if everything ended before SIGKILL.
    """
    tree = _processes({pid} | descendants(pid) | session_members(pid))
    if pid not in tree:
        return True
    # Not its whole group: that killed LocalStack's Lambda environments under it, and after a
    # burst its shutdown then never ended (SIGTERM to LocalStack alone: ~3 s, children too).
    _signal(tree[pid], signal.SIGTERM)
    parent_gone_at: float | None = None
    orphans_signalled = False
    checks = 0

    def ended() -> str | None:
        """Once the whole tree is gone: "ended"; "hurry" to kill at once. Meanwhile it tracks
        new children and signals orphans that outlive their parent."""
        nonlocal parent_gone_at, orphans_signalled, checks
        alive = _alive(tree)
        if not alive:
            return "ended"
        if hurry():
            return "hurry"
        if pid in alive:
            if checks % 10 == 0:  # its new children, every 0.5 s
                tree.update(_processes(descendants(pid) | session_members(pid)))
        elif parent_gone_at is None:
            parent_gone_at = time.monotonic()
        elif not orphans_signalled and time.monotonic() - parent_gone_at >= ORPHAN_GRACE:
            for orphan in alive.values():
                _signal(orphan, signal.SIGTERM)
            orphans_signalled = True
        checks += 1
        return None

    try:
        outcome = poll(ended, timeout=timeout, interval=0.05, what=f"process tree of {pid} to end")
    except PollTimeout:
        outcome = "timeout"
    if outcome == "ended":
        return True
    alive = _alive(tree)
    if pid in alive:  # its group too: children started since the last look
        _signal_group(pid, signal.SIGKILL)
    for survivor in alive.values():
        _signal(survivor, signal.SIGKILL)
    with contextlib.suppress(PollTimeout):  # the caller reports that it had to kill
        poll(lambda: not _alive(tree), timeout=5, interval=0.05, what=f"killed tree of {pid}")
    return False


def _process(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except psutil.Error:  # gone (or not ours to look at)
        return None


def _processes(pids: set[int]) -> dict[int, psutil.Process]:
    return {pid: process for pid in pids if (process := _process(pid)) is not None}


def _running(process: psutil.Process) -> bool:
    """Still running: not exited, not a zombie, and its pid not reused by another process
    (``is_running`` compares the start time). A zombie whose other threads still run is not
    done: its main thread has ended, but the process still holds its files and ports (as
    LocalStack does for a moment after its exit, its last thread freeing its memory: its
    port accepted connections after `down` had said it stopped)."""
    try:
        if not process.is_running():
            return False
        return process.status() != psutil.STATUS_ZOMBIE or process.num_threads() > 1
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def _alive(tree: dict[int, psutil.Process]) -> dict[int, psutil.Process]:
    """The processes of ``tree`` that still run (not exited, not zombies, pid not reused)."""
    return {pid: process for pid, process in tree.items() if _running(process)}


def _signal(process: psutil.Process, sig: signal.Signals) -> None:
    """Signal ``process`` unless it is gone (psutil refuses a pid reused since we saw it)."""
    with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
        process.send_signal(sig)


def live_pid(pid_file: Path) -> int | None:
    """The pid ``pid_file`` holds, if that process is still alive (not a zombie)."""
    try:
        pid = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if pid_alive(pid) else None


def pid_alive(pid: int) -> bool:
    """A process with this pid runs (a zombie, exited but not yet reaped, does not, once its
    last thread has ended)."""
    if not psutil.pid_exists(pid):
        return False
    process = _process(pid)
    return process is None or _running(process)  # None: there, but not ours to look at


def cmdline(pid: int) -> str:
    """The process's command line, arguments separated by spaces ("" if it is gone)."""
    try:
        return " ".join(psutil.Process(pid).cmdline()).strip()
    except psutil.Error:  # gone, a zombie, or another user's on a locked-down /proc
        return ""


def rss_mb(pid: int) -> float:
    """Resident memory of one process, in MiB (0 if it is gone): the kernel's VmRSS, which is
    what psutil's ``rss`` reads (``/proc/<pid>/statm`` on Linux)."""
    try:
        return psutil.Process(pid).memory_info().rss / 2**20
    except psutil.Error:
        return 0.0


def pss_mb(pid: int) -> float:
    """Proportional set size in MiB: shared pages split between their users, so forked
    processes (the host Lambda environments) are not counted many times over. psutil reads it
    from ``/proc/<pid>/smaps_rollup`` (``memory_full_info``); where it cannot (another user's
    process, a system without smaps), this falls back to RSS, as before."""
    try:
        info = psutil.Process(pid).memory_full_info()
    except psutil.AccessDenied:
        return rss_mb(pid)
    except psutil.Error:
        return 0.0
    pss = getattr(info, "pss", None)  # only where the OS has it (Linux)
    return pss / 2**20 if pss is not None else info.rss / 2**20


def session_members(leader: int) -> set[int]:
    """Every other live process in the session ``leader`` leads (none if it leads none). A
    service runs in a session of its own, so this finds what it started even once the process
    between them is gone: a Lambda environment whose zygote LocalStack stopped has init for
    parent, and is no descendant of LocalStack any more."""
    members = set()
    for pid in psutil.pids():
        with contextlib.suppress(OSError):
            if pid != leader and os.getsid(pid) == leader:
                members.add(pid)
    return members


def descendants(root: int) -> set[int]:
    """Every live process below ``root`` (children, grandchildren, ...)."""
    try:
        return {child.pid for child in psutil.Process(root).children(recursive=True)}
    except psutil.Error:
        return set()
