"""`make agent`: the agent runs in the foreground and restarts when its code changes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from harness.runtime.processes import descendants

from .conftest import REPO_ROOT, free_port, http_json, wait_for

WATCHED_FILE = REPO_ROOT / "agent" / "prompt.md"


def test_make_agent_restarts_the_agent_on_a_code_change(tmp_path: Path) -> None:
    port = free_port()
    log_path = tmp_path / "make-agent.log"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "AGENT_PORT": str(port),
        # Its own runtime dir: the foreground agent must not stop the suite's background one.
        "HARNESS_RUNTIME_DIR": str(tmp_path / "runtime"),
    }
    with log_path.open("w") as log:
        harness = subprocess.Popen(
            [sys.executable, "-m", "harness", "agent", "--reload"],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    original_times = WATCHED_FILE.stat()
    try:
        wait_for(lambda: http_json(f"http://127.0.0.1:{port}/ping"), 30, "the foreground agent")
        before = wait_for(lambda: descendants(harness.pid), 5, "the agent process")

        # A code change, as an editor's save: same content, new modification time.
        now = time.time() + 1
        os.utime(WATCHED_FILE, (now, now))

        def restarted() -> list[int]:
            pids = descendants(harness.pid)
            return pids if pids and pids != before else []

        after = wait_for(restarted, 15, "a new agent process")
        ping = wait_for(lambda: http_json(f"http://127.0.0.1:{port}/ping"), 30, "the new agent")
        assert ping["status"] == "Healthy"
        assert not set(before) & set(after), "the old agent process is still running"
        assert "agent code changed: restarting" in log_path.read_text()
    finally:
        os.utime(WATCHED_FILE, ns=(original_times.st_atime_ns, original_times.st_mtime_ns))
        harness.send_signal(signal.SIGINT)
        try:
            harness.wait(timeout=15)
        except subprocess.TimeoutExpired:
            harness.kill()  # and the assertion below fails with its output
            harness.wait()
    assert harness.returncode == 0, f"`make agent` did not stop cleanly:\n{log_path.read_text()}"
