"""The end-to-end tier runs on this checkout's runtime: ``harness_settings`` is taken before any
test, so when another checkout's runtime holds the configured ports, the free ports it picks
are exported for every test, including those that only start ``python -m harness`` or
``make`` (e.g. ``make agent``) and never ask for the fixture themselves.

Under pytest-xdist (``make test-integration`` runs the tier on several workers) the workers
share that runtime: the tests marked ``exclusive`` (they stop or restart a service, or edit
code a service runs) run first, alone; the others wait for them, then run side by side. The
tests marked ``apart`` (a runtime of their own on free ports, or none) take no turn: they start
first, beside the exclusive tests, so no worker idles while those run one at a time."""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling

from harness.pytest_plugin import bring_up_early, shared_run
from harness.settings import Settings
from harness.xdist_run import (
    APART,
    EXCLUSIVE,
    SecondsRecorder,
    SharedRun,
    is_worker,
    longest_first,
    run_id,
    seconds_key,
)

# The agent's time budget the tier deploys the local stage with (HARNESS_MAX_POLLS, unless the
# shell sets it): 10 polls of 1 s instead of the stage's 30, so the hung agent's session ends
# in ~15 s instead of ~45. Exported for the commands tests run too (`make trigger-workflow`
# deploys first), so they deploy the same stack. A legitimate session takes a few polls (at
# most 6 seen in the tier, the 50 concurrent sessions included, at load average 10).
TEST_MAX_POLLS = "10"


def pytest_configure(config: pytest.Config) -> None:
    """Set for the run, and unset at its end (a pytest run in-process, as the functional tier's
    collection checks, leaves the process as it was)."""
    if "HARNESS_MAX_POLLS" not in os.environ:
        os.environ["HARNESS_MAX_POLLS"] = TEST_MAX_POLLS
        config.add_cleanup(lambda: os.environ.pop("HARNESS_MAX_POLLS", None))
    bring_up_early(config)  # under xdist: the controller brings the shared runtime up
    cache = getattr(config, "cache", None)
    if cache is not None and run_id(config) is not None and not is_worker(config):
        config.pluginmanager.register(SecondsRecorder(cache), "harness-test-seconds")


@pytest.fixture(scope="session", autouse=True)
def _this_checkouts_ports(harness_settings: Settings) -> Settings:
    return harness_settings


_EXCLUSIVE_TESTS = pytest.StashKey[int]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
    """Under xdist, the tests marked exclusive run first, alone; the others wait for them to
    end, then run side by side. The wait and the lock cover the test's whole set-up: a
    session or module fixture (an agent started from the checkout, a copy of it) never runs
    while an exclusive test has the code edited (a fixture, even an autouse one, would only
    wait once the wider fixtures were set up)."""
    run = shared_run(item.config)
    if run is None or item.get_closest_marker(APART) is not None:
        return (yield)
    exclusive = item.get_closest_marker(EXCLUSIVE) is not None
    if not exclusive:
        run.after_the_exclusive_tests(item.config.stash.get(_EXCLUSIVE_TESTS, 0))
    with run.test_lock(exclusive=exclusive):
        return (yield)


def pytest_runtest_teardown(item: pytest.Item) -> None:
    """An exclusive test is done, whatever its outcome (also an error in its set-up)."""
    run = shared_run(item.config)
    if run is not None and item.get_closest_marker(EXCLUSIVE) is not None:
        run.exclusive_done()


def pytest_collection_finish(session: pytest.Session) -> None:
    session.config.stash[_EXCLUSIVE_TESTS] = sum(
        1 for item in session.items if item.get_closest_marker(EXCLUSIVE) is not None
    )


# A session- or module-scoped fixture of a folder or module of this tier (the agent's moto server
# and app, the stand-in, a copy of the checkout, the AWS resources a module creates) is set up
# once per worker that runs a test using it: under plain load scheduling each worker that ran one
# of its tests set it up again. So the tests using one form a group that one worker runs. The
# exclusive tests form one too: one worker runs them one after another (once the run's controller
# has brought the shared runtime up: harness/xdist_head_start.py), while the others run the apart
# tests instead of queueing for the exclusive lock.
# (xdist's own --dist loadgroup names the group in the test's id, which pytest 9 no longer lets
# a plug-in change: the workers write the groups into the run's state for the scheduler.)
EXCLUSIVE_GROUP = "exclusive"
UNMEASURED_SECONDS = 1.0  # a test no run has measured yet, and not marked slow
_TIER = "tests/integration/"


def _group(item: pytest.Item) -> str | None:
    if item.get_closest_marker(EXCLUSIVE) is not None:
        return EXCLUSIVE_GROUP
    info = getattr(item, "_fixtureinfo", None)
    shared = sorted(
        (definition.scope != "session", definition.baseid)
        for definitions in (info.name2fixturedefs.values() if info else ())
        for definition in definitions[-1:]
        if definition.scope in ("session", "module") and definition.baseid.startswith(_TIER)
    )
    return shared[0][1] if shared else None


class _GroupScheduling(LoadScopeScheduling):
    """xdist's load scheduling by units of work: a group is one, any other test is one; in
    the order the workers collected them (a worker holds its running unit and the next)."""

    def __init__(self, config: pytest.Config, log: Any, run: SharedRun) -> None:
        super().__init__(config, log)
        self._run = run
        self._groups: dict[str, str] | None = None

    def _split_scope(self, nodeid: str) -> str:
        if self._groups is None:  # first asked once every worker has collected
            self._groups = self._run.read()["groups"]
        return self._groups.get(nodeid, nodeid)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    uid = run_id(config)
    if uid is None or config.getvalue("dist") not in ("load", "loadscope", "loadgroup"):
        return None
    config.option.loadscopereorder = False
    return _GroupScheduling(config, log, SharedRun.of(uid))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist: the exclusive tests first (one unit of work, which waits for the shared
    runtime's bring-up), then the units of work of the tests marked apart, then the others',
    each the longest first, followed by one of the shortest (``longest_first``): no long test
    starts late or waits queued behind another. A unit's seconds are its tests' in the last
    run that ran them (the pytest cache), else their ``slow(seconds=N)``. Each test's group
    goes into the run's state, for the scheduler."""
    run = shared_run(config)
    if run is None:
        return
    cache = getattr(config, "cache", None)
    measured: dict[str, float] = cache.get(seconds_key(), {}) if cache is not None else {}
    groups = {i.nodeid: group for i in items if (group := _group(i)) is not None}

    def seconds(item: pytest.Item) -> float:
        if item.nodeid in measured:
            return float(measured[item.nodeid])
        marker = item.get_closest_marker("slow")
        return UNMEASURED_SECONDS if marker is None else float(marker.kwargs.get("seconds", 30))

    def in_order(tests: list[pytest.Item]) -> list[pytest.Item]:
        units: dict[str, list[pytest.Item]] = {}
        for item in tests:
            units.setdefault(groups.get(item.nodeid, item.nodeid), []).append(item)
        order = longest_first({unit: sum(map(seconds, its)) for unit, its in units.items()})
        return [item for unit in order for item in units[unit]]

    exclusive = [i for i in items if i.get_closest_marker(EXCLUSIVE) is not None]
    apart = [i for i in items if i.get_closest_marker(APART) is not None]
    rest = [i for i in items if i not in exclusive and i not in apart]
    items[:] = exclusive + in_order(apart) + in_order(rest)
    with run.state() as state:
        state["groups"] = groups
