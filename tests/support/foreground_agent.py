"""`make agent` (``python -m harness agent --reload``) as a process under test, on a free port
with its own runtime dir (so it never stops the suite's background agent), optionally running a
copy of the agent package (so a test may edit or break the code without touching the repo)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from harness.runtime.ports import port_in_use
from harness.runtime.processes import cmdline, descendants, pid_alive
from harness.settings import REPO_ROOT
from tests.support.helpers import PollTimeout, free_port, wait_for


def copy_agent_code(destination: Path) -> Path:
    """A copy of the agent package (and the contract it imports) under ``destination``;
    returns the code root to pass."""
    for package in ("agent", "contract"):
        shutil.copytree(
            REPO_ROOT / package, destination / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    return destination


class ForegroundAgent:
    """The harness's foreground agent; remembers every agent pid it has seen."""

    def __init__(self, tmp_path: Path, code_root: Path | None = None) -> None:
        self.port = free_port()
        self.log_path = tmp_path / "make-agent.log"
        self.code_root = code_root
        self.seen: set[int] = set()
        args = ["--code-root", str(code_root)] if code_root else []
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO_ROOT),
            "AGENT_PORT": str(self.port),
            "HARNESS_RUNTIME_DIR": str(tmp_path / "runtime"),
        }
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "harness", "agent", "--reload", *args],
                cwd=REPO_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def agent_pids(self) -> set[int]:
        """The agent processes below the harness right now."""
        pids = descendants(self.process.pid)
        self.seen |= pids
        return pids

    def ping(self) -> Any:
        url = f"http://127.0.0.1:{self.port}/ping"
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.loads(response.read())

    def wait_healthy(self, timeout: float = 60) -> None:
        # The ping first: refused at once while the agent starts, where each look for the agent
        # processes reads every process's parent.
        wait_for(lambda: self.ping() and self.agent_pids(), timeout, "a healthy agent")

    def touch(self, relative: str = "agent/prompt.md") -> None:
        """A save in an editor: same content, a new modification time."""
        assert self.code_root, "touch edits the copy only"
        path = self.code_root / relative
        stamp = path.stat().st_mtime + 2
        os.utime(path, (stamp, stamp))

    def signal(self, sig: signal.Signals, timeout: float = 60, repeat: int = 1) -> int:
        """Send ``sig`` (``repeat`` times, as an impatient user's Ctrl-C) and wait (bounded) for
        the harness to exit; returns its exit status."""
        self.agent_pids()
        for _ in range(repeat):
            if self.process.poll() is None:
                self.process.send_signal(sig)
                time.sleep(0.05)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"the harness did not exit within {timeout} s of {sig.name}:\n{self.log()}"
            ) from None

    def leftovers(self, timeout: float = 30) -> set[int]:
        """Agent processes still alive after a bounded wait (expected: none)."""

        def alive() -> set[int]:
            return {p for p in self.seen if pid_alive(p) and "agent.app" in cmdline(p)}

        with contextlib.suppress(PollTimeout):  # the caller asserts on what is left
            wait_for(alive, timeout, "the agent processes to end", 0.1, accept=lambda a: not a)
        return alive()

    def port_free(self) -> bool:
        return not port_in_use(self.port)

    def close(self) -> None:
        """Never leave a process behind, whatever the test did."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        for pid in self.seen:
            if pid_alive(pid) and "agent.app" in cmdline(pid):
                os.kill(pid, signal.SIGKILL)
