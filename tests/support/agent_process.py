"""The agent app and the AgentCore stand-in as real processes: start one (bounded wait for
``GET /ping``), stop it, talk JSON to it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

from harness.settings import REPO_ROOT
from tests.support.helpers import PollTimeout, wait_for

# The journal table the agent's HTTP tests create in moto's server.
AGENT_HTTP_TABLE = "agent-http-journal"


def http_json(url: str, body: dict[str, Any] | None = None, timeout: float = 5) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def start(module: str, env: dict[str, str], port: int, log_dir: Path) -> subprocess.Popen[bytes]:
    """``python -m module`` with ``env``; waits (bounded) for ``GET /ping`` on ``port``.

    Its output goes to ``<log_dir>/<module>-<port>.log`` (a pytest temporary folder, so that
    runs leave nothing in the machine's /tmp), quoted if it does not come up."""
    log_path = log_dir / f"{module}-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", module],
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    process.log_path = log_path  # type: ignore[attr-defined]

    def answering() -> Any:
        if process.poll() is not None:
            raise RuntimeError(f"{module} exited with status {process.returncode}")
        return http_json(f"http://127.0.0.1:{port}/ping")

    try:
        wait_for(answering, 30, f"{module} answering /ping on {port}")
    except (PollTimeout, RuntimeError) as error:
        stop(process)
        raise AssertionError(f"{error}\n--- {log_path}:\n{log_path.read_text()[-4000:]}") from None
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    """terminate(), then kill() if it has not exited within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
