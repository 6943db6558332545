"""The controller's head start on an xdist run's shared runtime (harness/xdist_head_start.py):
LocalStack at once, the stack meanwhile if the workers are still collecting, the agent once they
have collected, as far as their tests use them, under the locks the fixtures take; what it
started is written down for the run's end, or stopped at once when no test needs it. A runtime
that records what it is asked to do stands in for the real one (the end-to-end tier runs the
real one)."""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Collection
from pathlib import Path
from types import SimpleNamespace

import pytest

from harness import deploy, pytest_plugin, xdist_head_start
from harness.polling import poll
from harness.runtime.host import HostRuntime
from harness.settings import Settings
from harness.xdist_head_start import AGENT, STACK, HeadStart
from harness.xdist_run import SharedRun

pytest_plugins = ["pytester"]


class RecordedRuntime(HostRuntime):
    """Starts nothing: records each call, and which services it would have running. LocalStack
    answers once ``answer`` is set (at once unless a test clears it)."""

    def __init__(self) -> None:  # no real runtime behind it
        self.calls: list[str] = []
        self.running: set[str] = set()
        self.failing = ""
        self.answer = threading.Event()
        self.answer.set()
        self.lock = threading.Lock()

    def up(self, services: Collection[str] | None = None) -> list[str]:
        names = list(services or [])
        if "localstack" in names:
            self.answer.wait(30)
        with self.lock:
            self.calls.append("up " + ",".join(names))
        if self.failing in names:
            raise RuntimeError(f"{self.failing} did not start")
        started = [name for name in names if name not in self.running]
        self.running.update(started)
        return started

    def down(self, services: Collection[str] | None = None) -> list[str]:
        with self.lock:
            self.calls.append("down " + ",".join(sorted(services or [])))
        self.running.difference_update(services or [])
        return list(services or [])


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> RecordedRuntime:
    recorded = RecordedRuntime()
    monkeypatch.setattr(xdist_head_start, "select_runtime", lambda settings: recorded)
    monkeypatch.setattr(deploy, "deploy", lambda settings, **_: recorded.calls.append("deploy"))
    monkeypatch.delenv("HARNESS_TARGET", raising=False)
    return recorded


def _tests_wait(run: SharedRun) -> bool:
    return not _tests_may_run(run)


def _tests_may_run(run: SharedRun) -> bool:
    """Whether an exclusive test could take the run's test lock now."""
    with Path(run.run_dir / f"pytest-{run.uid}.tests").open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
        return True


def test_the_stack_is_deployed_while_the_workers_collect(tmp_path, runtime):
    run = SharedRun("head", tmp_path)
    head_start = HeadStart(run, Settings())
    # GIVEN LocalStack answering before the workers have collected
    runtime.answer.clear()
    head_start.start()
    try:
        poll(lambda: not runtime.answer.is_set() and _tests_wait(run), timeout=30, what="a lock")
        # THEN no test may run meanwhile (they wait as for a worker's start)
        runtime.answer.set()
        # WHEN the workers are still collecting, it deploys meanwhile (no agent yet)
        poll(lambda: len(runtime.calls) == 2, timeout=30, interval=0.01, what="the deploy")
        assert runtime.calls == ["up localstack", "deploy"]
        assert not _tests_may_run(run)
        # AND the first worker's tests then need the stack and the agent
        head_start.collected([AGENT, STACK])
        head_start.collected(None)  # another worker's collection changes nothing
    finally:
        head_start.finish()

    # THEN the agent and the stand-in start, all is written down for the run's end
    assert runtime.calls == ["up localstack", "deploy", "up agent,agentcore-standin"]
    assert run.read()["started"] == ["agent", "agentcore-standin", "localstack"]
    assert head_start.error is None
    assert _tests_may_run(run)


def test_collected_first_it_brings_up_what_the_tests_use(tmp_path, runtime):
    run = SharedRun("head", tmp_path)
    head_start = HeadStart(run, Settings())
    runtime.answer.clear()
    head_start.start()
    head_start.collected([STACK])  # before LocalStack answers
    runtime.answer.set()
    head_start.finish()
    assert runtime.calls == ["up localstack", "deploy"]
    assert run.read()["started"] == ["localstack"]


def test_localstack_alone_when_the_tests_use_only_localstack(tmp_path, runtime):
    run = SharedRun("head", tmp_path)
    head_start = HeadStart(run, Settings())
    runtime.answer.clear()
    head_start.start()
    head_start.collected([])
    runtime.answer.set()
    head_start.finish()
    assert runtime.calls == ["up localstack"]
    assert run.read()["started"] == ["localstack"]


def test_what_no_test_needs_is_stopped_at_once(tmp_path, runtime):
    # the workers collected nothing that uses it, after the stack was deployed meanwhile
    run = SharedRun("head", tmp_path)
    head_start = HeadStart(run, Settings())
    head_start.start()
    poll(lambda: len(runtime.calls) == 2, timeout=30, interval=0.01, what="the deploy")
    head_start.collected(None)
    head_start.finish()
    assert runtime.calls == ["up localstack", "deploy", "down localstack"]
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


def test_an_interrupted_deploy_is_no_warning(tmp_path, runtime, monkeypatch, caplog):
    # Ctrl-C reaches the deploy's cdk too: the run is ending, its output is not a failure
    def interrupted(settings: Settings, **_: object) -> None:
        raise KeyboardInterrupt("cdk deploy was interrupted")

    monkeypatch.setattr(deploy, "deploy", interrupted)
    run = SharedRun("head", tmp_path)
    head_start = HeadStart(run, Settings())
    head_start.start()
    head_start.collected([STACK])
    head_start.finish()
    assert isinstance(head_start.error, KeyboardInterrupt)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert _tests_may_run(run)


def test_nothing_for_a_run_against_aws(tmp_path, runtime, monkeypatch):
    monkeypatch.setenv("HARNESS_TARGET", "aws")
    head_start = HeadStart(SharedRun("head", tmp_path), Settings())
    head_start.start()
    head_start.finish()
    assert runtime.calls == []


def test_only_a_run_whose_tier_asks_for_it_gets_one(pytester, monkeypatch):
    """The end-to-end tier's conftest asks (bring_up_early); an xdist run of another tier, or
    of nothing, starts no LocalStack."""
    started: list[HeadStart] = []
    monkeypatch.setattr(HeadStart, "start", lambda self: started.append(self))
    monkeypatch.setattr(pytest_plugin, "session_settings", lambda config, claims: Settings())
    environment = dict(os.environ)  # the plug-in's configure sets the run's AWS variables
    try:
        # Without pytest's unraisable-exception plug-in, as pytester's inline runs are: its
        # unconfigure collected this whole process's heap twice (~0.9 CPU-s).
        plugins = ("-p", "harness.pytest_plugin", "-p", "no:unraisableexception")
        config = pytester.parseconfigure(*plugins, "-n", "2", "--dist", "load")
        session = SimpleNamespace(config=config)
        pytest_plugin.pytest_sessionstart(session)
        assert started == []

        pytest_plugin.bring_up_early(config)
        pytest_plugin.pytest_sessionstart(session)
        assert len(started) == 1
    finally:
        os.environ.clear()
        os.environ.update(environment)
