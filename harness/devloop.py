"""`make agent`: the agent in the foreground, restarted when its code changes.

Ctrl-C (SIGINT), SIGTERM or SIGHUP stops it at any moment, also while the agent starts or
restarts, and the agent never outlives the harness:

- the agent runs in a session of its own, so the terminal's Ctrl-C reaches only the harness,
  which stops the agent's whole process tree (SIGTERM, SIGKILL after ``STOP_TIMEOUT``; a
  second Ctrl-C kills at once);
- signals only set a flag, checked between steps, so no step (a start, a stop) is cut in half;
- on Linux the kernel sends the agent SIGTERM when the harness dies, even by SIGKILL
  (``PR_SET_PDEATHSIG``).

An agent that exits by itself (a syntax or import error in its code) is reported; with
``--reload`` the harness keeps watching and starts it again on the next change.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import logging
import math
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

from agent.identity import code_files
from harness import polling
from harness.runtime.host import HostRuntime
from harness.runtime.processes import ProcessSpec, stop_tree
from harness.settings import REPO_ROOT

logger = logging.getLogger(__name__)

STOP_TIMEOUT = 5.0  # seconds the agent gets to stop before it is killed
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
PR_SET_PDEATHSIG = 1


def _code_state(code_root: Path) -> dict[str, float]:
    """The agent's code files (those its identity fingerprints: the agent package and the
    contract it imports) and their modification times."""
    return {
        str(path): path.stat().st_mtime
        for folder in (code_root / "agent", code_root / "contract")
        for path in code_files(folder)
    }


class _StopRequests:
    """Counts SIGINT/SIGTERM/SIGHUP while installed; the handler never raises."""

    def __init__(self) -> None:
        self.count = 0

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1

    @contextlib.contextmanager
    def installed(self) -> Iterator[_StopRequests]:
        previous = {sig: signal.signal(sig, self._handle) for sig in STOP_SIGNALS}
        try:
            yield self
        finally:
            # Once a stop was asked for the process is on its way out: ignore more of them, so
            # an impatient extra Ctrl-C cannot kill it as it exits (Python's finalization resets
            # a Python handler to the default, which would; it leaves SIG_IGN alone).
            for sig, handler in previous.items():
                signal.signal(sig, signal.SIG_IGN if self.stop else handler)

    @property
    def stop(self) -> bool:
        return self.count > 0

    @property
    def hurry(self) -> bool:
        """A second request while stopping: kill at once."""
        return self.count > 1


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that has the kernel SIGTERM the child when this process dies (Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)  # loaded here: the child only calls into it
    parent = os.getpid()

    def preexec() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the harness died before prctl: nobody would stop us
            os._exit(1)

    return preexec


def _start(spec: ProcessSpec, env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        spec.command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        # preexec_fn is unsafe with threads; the harness runs none while it starts the agent.
        preexec_fn=_die_with_parent(),
    )


def _watch[T](check: Callable[[], T], interval: float, what: str) -> T:
    """Wait, with no bound, for ``check`` to return something truthy (the one poller)."""
    return polling.poll(check, timeout=math.inf, interval=interval, what=what)


def _run_ended(
    requests: _StopRequests,
    process: subprocess.Popen[bytes] | None,
    reload: bool,
    code_root: Path,
    state: dict[str, float],
) -> str | None:
    """What ends a run of the agent, if anything yet, most urgent first: "stop" (a signal),
    "changed" (an edit, when reloading), "exited" (the agent ``process``, if there is one)."""
    if requests.stop:
        return "stop"
    if reload and _code_state(code_root) != state:
        return "changed"
    if process is not None and process.poll() is not None:
        return "exited"
    return None


def _stop(process: subprocess.Popen[bytes], requests: _StopRequests) -> None:
    """Stop the agent's process tree (bounded) and reap it."""
    stop_tree(process.pid, STOP_TIMEOUT, hurry=lambda: requests.hurry)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def run_agent_foreground(
    runtime: HostRuntime,
    *,
    reload: bool,
    report: Callable[[str], None],
    poll: float = 0.1,  # a look is a stat of the agent's few dozen files
    code_root: Path = REPO_ROOT,
) -> int:
    """Run the agent with the host-mode environment; restart it on code changes.

    ``code_root`` holds the ``agent`` package that is run and watched (tests use a copy).
    Returns 0 when stopped by a signal, else the agent's exit status (without ``reload``).
    """
    runtime.refuse_foreign()  # never take over another checkout's agent (or run on its stack)
    with _StopRequests().installed() as requests:
        if runtime.down(["agent"]):
            report("stopped the background agent; `make up` starts it again later")
        spec = runtime.agent_spec()
        env = {**{k: os.environ[k] for k in spec.inherit_env if k in os.environ}, **spec.env}
        env["PYTHONPATH"] = str(code_root)
        url = spec.health_url.removesuffix("/ping")
        process: subprocess.Popen[bytes] | None = None
        try:
            while not requests.stop:
                state = _code_state(code_root)  # before the start: a save during it counts
                report(f"agent on {url} (Ctrl-C to stop)")
                process = _start(spec, env, code_root)
                # Unbounded on purpose: the agent runs until a signal, an exit or an edit.
                ended_by = _watch(
                    functools.partial(_run_ended, requests, process, reload, code_root, state),
                    poll,
                    "the agent to exit or its code to change",
                )
                changed = ended_by == "changed"
                if requests.stop:
                    break
                if changed:
                    report("agent code changed: restarting")
                    _stop(process, requests)
                    process = None
                    continue
                status, process = process.returncode, None
                if not reload:
                    return status
                report(
                    f"the agent exited with status {status} (its error is above): fix the code "
                    "and save, it restarts on the next change (Ctrl-C to stop)"
                )
                _watch(
                    functools.partial(_run_ended, requests, None, True, code_root, state),
                    poll,
                    "the agent code to change",
                )
                if not requests.stop:
                    report("agent code changed: restarting")
            return 0
        finally:
            if process is not None:
                _stop(process, requests)
            if requests.stop:
                report("agent stopped")
