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

import pytest

from harness.pytest_plugin import shared_run
from harness.settings import Settings
from harness.xdist_run import APART, EXCLUSIVE

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


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist the tests marked apart and slow go first, the longest first (they run
    beside the exclusive tests), then the tests marked exclusive, then the other tests marked
    apart (a worker done with its first ones runs them while the exclusive tests take turns,
    instead of idling); then the other tests marked ``slow``, the longest first, each followed
    by a short one (a worker holds its running test and the next): no long test starts late
    or waits queued behind another."""
    if shared_run(config) is None:
        return

    def seconds(item: pytest.Item) -> float:
        marker = item.get_closest_marker("slow")
        return 0.0 if marker is None else float(marker.kwargs.get("seconds", 30))

    def apart(item: pytest.Item) -> bool:
        return item.get_closest_marker(APART) is not None

    first = sorted((i for i in items if apart(i) and seconds(i)), key=seconds, reverse=True)
    exclusive = [i for i in items if i.get_closest_marker(EXCLUSIVE) is not None]
    then = [i for i in items if apart(i) and not seconds(i)]
    rest = [
        i
        for i in items
        if i.get_closest_marker(EXCLUSIVE) is None and i not in first and i not in then
    ]
    slow = sorted((i for i in rest if seconds(i)), key=seconds, reverse=True)
    short = [i for i in rest if not seconds(i)]
    paired = [item for pair in zip(slow, short, strict=False) for item in pair]
    items[:] = (
        first + exclusive + then + paired + slow[len(paired) // 2 :] + short[len(paired) // 2 :]
    )
