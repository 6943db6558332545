"""The controller's head start on an xdist run's shared runtime (harness/xdist_head_start.py):
LocalStack at once, the stack and the agent once a worker's collection says the tests use
them, under the locks the fixtures take; what it started is written down for the run's end,
or stopped at once when no test needs it. A runtime that records what it is asked to do
stands in for the real one (the end-to-end tier runs the real one)."""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Collection
from pathlib import Path

import pytest

from harness import deploy, xdist_head_start
from harness.polling import poll
from harness.runtime.host import HostRuntime
from harness.settings import Settings
from harness.xdist_head_start import AGENT, STACK, HeadStart
from harness.xdist_run import SharedRun


class RecordedRuntime(HostRuntime):
    """Starts nothing: records each call, and which services it would have running."""

    def __init__(self, failing: str = "") -> None:
        self.calls: list[str] = []
        self.running: set[str] = set()
        self.failing = failing
        self.lock = threading.Lock()

    def up(self, services: Collection[str] | None = None) -> list[str]:
        with self.lock:
            self.calls.append("up " + ",".join(services or []))
        if self.failing in (services or []):
            raise RuntimeError(f"{self.failing} did not start")
        started = [name for name in services or [] if name not in self.running]
        self.running.update(started)
        return started

    def down(self, services: Collection[str] | None = None) -> list[str]:
        with self.lock:
            self.calls.append("down " + ",".join(services or []))
        self.running.difference_update(services or [])
        return list(services or [])


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> RecordedRuntime:
    recorded = RecordedRuntime()
    monkeypatch.setattr(xdist_head_start, "select_runtime", lambda settings: recorded)
    monkeypatch.setattr(deploy, "deploy", lambda settings, **_: recorded.calls.append("deploy"))
    monkeypatch.delenv("HARNESS_TARGET", raising=False)
    return recorded


def _tests_may_run(run: SharedRun) -> bool:
    """Whether an exclusive test could take the run's test lock now."""
    with Path(run.run_dir / f"pytest-{run.uid}.tests").open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


def test_localstack_at_once_then_the_stack_and_the_agent_once_collected(tmp_path, runtime):
    run = SharedRun("head", tmp_path)
    head_start = HeadStart(run, Settings())

    # WHEN the run starts
    head_start.start()
    try:
        # THEN LocalStack starts at once, and no test may run (they wait as for a worker's start)
        poll(lambda: runtime.calls, timeout=30, interval=0.01, what="LocalStack's start")
        assert runtime.calls == ["up localstack"]
        assert not _tests_may_run(run)

        # WHEN the first worker's tests need the stack and the agent
        head_start.collected([AGENT, STACK])
        head_start.collected(None)  # another worker's collection changes nothing
    finally:
        head_start.finish()

    # THEN it deployed and started the agent and the stand-in, written down for the run's end
    assert sorted(runtime.calls) == ["deploy", "up agent,agentcore-standin", "up localstack"]
    assert run.read()["started"] == ["agent", "agentcore-standin", "localstack"]
    assert head_start.error is None
    assert _tests_may_run(run)


def test_localstack_alone_when_the_tests_use_only_localstack(tmp_path, runtime):
    run = SharedRun("head", tmp_path)
    head_start = HeadStart(run, Settings())
    head_start.start()
    head_start.collected([])
    head_start.finish()
    assert runtime.calls == ["up localstack"]
    assert run.read()["started"] == ["localstack"]


def test_what_no_test_needs_is_stopped_at_once(tmp_path, runtime):
    run = SharedRun("head", tmp_path)
    head_start = HeadStart(run, Settings())
    head_start.start()
    head_start.collected(None)
    head_start.finish()
    assert runtime.calls == ["up localstack", "down localstack"]
    assert run.read()["started"] == []


def test_a_failed_start_is_kept_and_the_tests_may_run(tmp_path, runtime):
    # the tests' fixtures then start it themselves, and fail saying why
    runtime.failing = "localstack"
    run = SharedRun("head", tmp_path)
    head_start = HeadStart(run, Settings())
    head_start.start()
    head_start.finish()
    assert "localstack did not start" in str(head_start.error)
    assert _tests_may_run(run)
    assert run.read()["started"] == []


def test_nothing_for_a_run_against_aws(tmp_path, runtime, monkeypatch):
    monkeypatch.setenv("HARNESS_TARGET", "aws")
    head_start = HeadStart(SharedRun("head", tmp_path), Settings())
    head_start.start()
    head_start.finish()
    assert runtime.calls == []
