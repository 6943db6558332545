"""`make agent`: the agent runs in the foreground and restarts when its code changes; Ctrl-C
stops it at any moment (also mid-restart) and leaves no process; a broken save is reported and
the next save starts it again. Each test runs a copy of the agent package, so edits never touch
the repository (and never restart another test's agent)."""

from __future__ import annotations

import signal
import urllib.error
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.foreground_agent import ForegroundAgent, copy_agent_code
from tests.support.helpers import wait_for


@pytest.fixture
def make_agent(tmp_path: Path) -> Iterator[ForegroundAgent]:
    agent = ForegroundAgent(tmp_path, code_root=copy_agent_code(tmp_path / "src"))
    try:
        yield agent
    finally:
        agent.close()


def _assert_stopped_cleanly(agent: ForegroundAgent, status: int) -> None:
    assert status == 0, f"`make agent` did not stop cleanly:\n{agent.log()}"
    assert agent.seen, "no agent process was ever seen"
    assert agent.leftovers() == set(), f"agent processes outlived `make agent`:\n{agent.log()}"
    assert agent.port_free()


def test_make_agent_restarts_the_agent_on_a_code_change_then_sigterm_stops_both(
    make_agent: ForegroundAgent,
) -> None:
    """One `make agent` for both (each start is a harness and an agent, ~1 CPU-s): the restart,
    then SIGTERM (a service manager's stop) with the restarted agent healthy. Ctrl-C with a
    healthy agent is the broken-save test's end."""
    make_agent.wait_healthy()
    before = make_agent.agent_pids()

    make_agent.touch()

    after = wait_for(
        lambda: (pids := make_agent.agent_pids()) and pids != before and pids,
        30,
        "a new agent process",
    )
    make_agent.wait_healthy()
    assert make_agent.ping()["status"] == "Healthy"
    assert not before & after, "the old agent process is still running"
    assert "agent code changed: restarting" in make_agent.log()

    _assert_stopped_cleanly(make_agent, make_agent.signal(signal.SIGTERM))


@pytest.mark.parametrize(
    ("moment", "presses"),
    [
        ("first-start", 1),
        ("restart-noticed", 1),
        ("new-agent-starting", 1),
        ("restart-noticed", 5),  # an impatient user: Ctrl-C again while it stops
    ],
)
def test_ctrl_c_stops_make_agent_while_the_agent_starts(
    make_agent: ForegroundAgent, moment: str, presses: int
) -> None:
    if moment == "first-start":
        # the very first agent process exists, it is still importing
        wait_for(make_agent.agent_pids, 60, "the agent process")
    else:
        make_agent.wait_healthy()
        before = make_agent.agent_pids()
        make_agent.touch()
        if moment == "restart-noticed":
            # the harness is stopping the old agent, or starting the new one
            wait_for(lambda: "agent code changed: restarting" in make_agent.log(), 30, "a restart")
        else:
            wait_for(
                lambda: (pids := make_agent.agent_pids()) and pids != before,
                30,
                "the new agent process",
            )

    _assert_stopped_cleanly(make_agent, make_agent.signal(signal.SIGINT, repeat=presses))


def test_a_broken_save_is_reported_and_the_next_save_restarts_the_agent(
    make_agent: ForegroundAgent,
) -> None:
    make_agent.wait_healthy()
    app = make_agent.code_root / "agent" / "app.py"
    original = app.read_text()

    app.write_text(original + "\ndef broken(:\n")

    wait_for(lambda: "the agent exited with status" in make_agent.log(), 60, "the report")
    assert "SyntaxError" in make_agent.log()
    assert make_agent.process.poll() is None, f"the reloader died:\n{make_agent.log()}"
    with pytest.raises(urllib.error.URLError):
        make_agent.ping()

    app.write_text(original)

    make_agent.wait_healthy()
    assert make_agent.process.poll() is None
    _assert_stopped_cleanly(make_agent, make_agent.signal(signal.SIGINT))
