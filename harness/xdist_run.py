"""One local runtime for all the workers of a pytest-xdist run (``pytest -n N``).

Each worker is a pytest session of its own, with its own session fixtures; the runtime they
use is one. So a worker starts a service (or docker compose, or the private engine) under a
file lock, only if it is not running yet, and writes down what it started in the run's state
file; no worker stops anything: the controller (the process the workers report to) stops
what the run started once every worker is done (``finish``). The ports, too, are chosen once
per run (``settings``), so when another checkout holds the configured ones every worker uses
the same free ones.

Tests that change the runtime for everyone (stop the agent, restart it with other variables
or edited code) are marked ``exclusive``: they run first, one at a time, while the other
tests wait for them to end (a readers-writer lock over the run's tests, and a count of the
exclusive tests done); then the others run side by side. Tests marked ``apart`` use no shared
service: they go first and run beside the exclusive tests.

Without xdist (a plain ``pytest``) none of this applies: the fixtures start and stop what
they need as before. Files: ``<runtime dir>/run/pytest-<run id>.*``, removed at the end.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from itertools import zip_longest
from pathlib import Path
from typing import Any

from harness import file_lock
from harness.polling import poll
from harness.settings import Settings

EXCLUSIVE = "exclusive"
# A test that uses none of the shared runtime (it runs its own on free ports, or none) takes no
# part in the readers-writer lock: it runs at any time, also beside the exclusive tests. (A
# test that only synthesizes is not one: it would hold up the shared runtime's first deploy,
# which takes the same per-checkout CDK lock.)
APART = "apart"
EXCLUSIVE_PHASE_TIMEOUT_SECONDS = 1800.0
_STATE_DEFAULTS: dict[str, Any] = {
    "ports": None,
    "started": [],
    "compose": False,
    "engine": False,
    "images": False,
    "exclusive_done": 0,
    "groups": {},  # test id -> the group of tests one worker runs (the tier's conftest)
    "needs": None,  # what the collected tests need of the shared runtime (the head start)
}


def run_id(config: Any) -> str | None:
    """The xdist run this process belongs to (a worker, or the controller of workers), or
    None for a plain pytest run (also a pytest started by a test: it is a run of its own)."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        return str(workerinput["testrunuid"])
    if getattr(config.option, "dist", "no") == "no" or not getattr(
        config.option, "numprocesses", None
    ):
        return None
    if getattr(config.option, "testrunuid", None) is None:
        config.option.testrunuid = os.urandom(16).hex()  # xdist hands it to every worker
    return str(config.option.testrunuid)


def is_worker(config: Any) -> bool:
    return getattr(config, "workerinput", None) is not None


@dataclass
class SharedRun:
    """The files of one xdist run, under this checkout's runtime dir."""

    uid: str
    run_dir: Path
    _held: bool = False

    @classmethod
    def of(cls, uid: str) -> SharedRun:
        return cls(uid, Settings().runtime_dir / "run")

    def _path(self, suffix: str) -> Path:
        return self.run_dir / f"pytest-{self.uid}.{suffix}"

    # -- what the run started --------------------------------------------------------------
    @contextlib.contextmanager
    def state(self) -> Iterator[dict[str, Any]]:
        """The run's state, read and written back under the run's start lock: one worker at a
        time starts services, chooses the ports, or starts compose."""
        with file_lock.exclusive(self._path("lock")):
            path = self._path("json")
            saved = json.loads(path.read_text()) if path.exists() else {}
            state = {**_STATE_DEFAULTS, **saved}
            yield state
            # Whole or not at all: ``read`` takes no lock, and a file being rewritten in place
            # reads empty for a moment (seen: a worker's JSONDecodeError at set-up).
            partial = path.with_suffix(".partial")
            partial.write_text(json.dumps(state))
            partial.replace(path)

    def read(self) -> dict[str, Any]:
        path = self._path("json")
        return {**_STATE_DEFAULTS, **(json.loads(path.read_text()) if path.exists() else {})}

    def settings(self, choose: Callable[[], Settings]) -> Settings:
        """The run's settings: ``choose()``'s, taken by the first worker, the same for all."""
        with self.state() as state:
            if state["ports"] is None:
                chosen = choose()
                state["ports"] = [chosen.endpoint_url, chosen.agent_port, chosen.standin_port]
            endpoint, agent, standin = state["ports"]
        return replace(Settings(), endpoint_url=endpoint, agent_port=agent, standin_port=standin)

    def remove(self) -> None:
        for suffix in ("json", "partial", "lock", "tests", "turnstile"):
            with contextlib.suppress(FileNotFoundError):
                self._path(suffix).unlink()

    # -- the exclusive tests first ----------------------------------------------------------
    def exclusive_done(self) -> None:
        with self.state() as state:
            state["exclusive_done"] += 1

    def after_the_exclusive_tests(self, total: int) -> None:
        """Wait until the run's ``total`` exclusive tests are done (they are scheduled first):
        then none of them waits for a long test that the others started."""
        poll(
            lambda: self.read()["exclusive_done"] >= total,
            timeout=EXCLUSIVE_PHASE_TIMEOUT_SECONDS,
            interval=0.2,
            what=f"the run's {total} exclusive tests to end",
        )

    # -- which tests run side by side ------------------------------------------------------
    @contextlib.contextmanager
    def test_lock(self, exclusive: bool) -> Iterator[None]:
        """Shared for a test that uses the runtime as it is, exclusive for one that changes
        it; a writer waiting holds the turnstile, so new readers queue behind it. Taken again
        in the same process (a fixture set up inside a test), it is already held."""
        if self._held:
            yield
            return
        tests = self._path("tests")
        tests.parent.mkdir(parents=True, exist_ok=True)
        with tests.open("a+") as handle:
            with file_lock.exclusive(self._path("turnstile")):
                fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            self._held = True
            try:
                yield
            finally:
                self._held = False
                fcntl.flock(handle, fcntl.LOCK_UN)


# -- which tests first ----------------------------------------------------------------------
# The pytest cache's key for each test's seconds (set-up, call and tear-down) in the last run
# that ran it, per runtime mode (make test's docker lane runs some of the same tests at the
# same time): the run's order comes from them (``longest_first``).
SECONDS_KEY = "harness/test-seconds"


def seconds_key() -> str:
    return f"{SECONDS_KEY}/{Settings().runtime_mode}"


def longest_first(units: dict[str, float]) -> list[str]:
    """Units of work (a test, or a group of tests one worker runs) in the order the workers
    take them, given each one's seconds: the longest first, each followed by one of the
    shortest (a worker holds its running unit and the next one: a long unit never waits queued
    behind another long one while the other workers end). Ties keep their given order."""
    ordered = sorted(units, key=lambda unit: -units[unit])
    half = (len(ordered) + 1) // 2
    pairs = zip_longest(ordered[:half], reversed(ordered[half:]))
    return [unit for pair in pairs for unit in pair if unit is not None]


class SecondsRecorder:
    """The controller of a run: each test's seconds, from its workers' reports, kept in the
    pytest cache at the run's end for the next run's order (tests this run did not run keep
    their earlier figure)."""

    def __init__(self, cache: Any) -> None:
        self.cache = cache
        self.key = seconds_key()
        self.seconds: dict[str, float] = {}

    def pytest_runtest_logreport(self, report: Any) -> None:
        self.seconds[report.nodeid] = self.seconds.get(report.nodeid, 0.0) + report.duration

    def pytest_sessionfinish(self) -> None:
        if self.seconds:
            measured = {test: round(seconds, 2) for test, seconds in self.seconds.items()}
            self.cache.set(self.key, {**self.cache.get(self.key, {}), **measured})
