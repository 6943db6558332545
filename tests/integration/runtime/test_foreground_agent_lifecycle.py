"""A `make agent` that is killed outright (SIGKILL: no handler runs) still takes its agent with
it: the kernel signals the agent when the harness dies (issue 12: a foreground agent lived on
with parent pid 1 after failed reload tests)."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.support.foreground_agent import ForegroundAgent


def test_a_killed_make_agent_leaves_no_agent(tmp_path: Path) -> None:
    agent = ForegroundAgent(tmp_path)
    try:
        agent.wait_healthy()
        assert agent.seen

        agent.process.send_signal(signal.SIGKILL)
        agent.process.wait(timeout=30)

        assert agent.leftovers() == set(), f"the agent outlived a killed harness:\n{agent.log()}"
        assert agent.port_free()
    finally:
        agent.close()
