"""`make agent`: the agent in the foreground, restarted when its code changes."""

from __future__ import annotations

import logging
import os
import subprocess
import time
from collections.abc import Callable

from harness.runtime.host import HostRuntime
from harness.settings import REPO_ROOT

logger = logging.getLogger(__name__)

AGENT_DIR = REPO_ROOT / "agent"
WATCHED_SUFFIXES = (".py", ".md")


def _code_state() -> dict[str, float]:
    return {
        str(path): path.stat().st_mtime
        for path in AGENT_DIR.rglob("*")
        if path.suffix in WATCHED_SUFFIXES and "__pycache__" not in path.parts
    }


def run_agent_foreground(
    runtime: HostRuntime, *, reload: bool, report: Callable[[str], None], poll: float = 0.5
) -> int:
    """Run the agent with the host-mode environment; restart it on code changes."""
    runtime.refuse_foreign()  # never take over another checkout's agent (or run on its stack)
    if runtime.down(["agent"]):
        report("stopped the background agent; `make up` starts it again later")
    spec = runtime.agent_spec()
    env = {**{k: os.environ[k] for k in spec.inherit_env if k in os.environ}, **spec.env}
    while True:
        report(f"agent on {spec.health_url.removesuffix('/ping')} (Ctrl-C to stop)")
        process = subprocess.Popen(spec.command, cwd=spec.cwd, env=env)
        state = _code_state()
        try:
            while process.poll() is None:
                time.sleep(poll)
                if reload and _code_state() != state:
                    report("agent code changed: restarting")
                    process.terminate()
                    process.wait(timeout=10)
                    break
            else:
                return process.returncode
        except KeyboardInterrupt:
            process.terminate()
            process.wait(timeout=10)
            return 0
