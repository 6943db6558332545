"""The end-to-end tier runs on this checkout's runtime: ``harness_settings`` is taken before any
test, so when another checkout's runtime holds the configured ports, the free ports it picks
are exported for every test, including those that only start ``python -m harness`` or
``make`` (e.g. ``make agent``) and never ask for the fixture themselves.

Under pytest-xdist (``make test-integration`` runs the tier on several workers) the workers
share that runtime: the tests marked ``exclusive`` (they stop or restart a service, or edit
code a service runs) run first, alone; the others wait for them, then run side by side."""

from __future__ import annotations

from collections.abc import Generator

import pytest

from harness.pytest_plugin import shared_run
from harness.settings import Settings
from harness.xdist_run import EXCLUSIVE


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
    if run is None:
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
    """Under xdist the tests marked exclusive go first; then the tests marked ``slow``, the
    longest first, each followed by a short one (a worker holds its running test and the
    next): no long test starts late or waits queued behind another."""
    if shared_run(config) is None:
        return

    def seconds(item: pytest.Item) -> float:
        marker = item.get_closest_marker("slow")
        return 0.0 if marker is None else float(marker.kwargs.get("seconds", 30))

    exclusive = [i for i in items if i.get_closest_marker(EXCLUSIVE) is not None]
    rest = [i for i in items if i.get_closest_marker(EXCLUSIVE) is None]
    slow = sorted((i for i in rest if seconds(i)), key=seconds, reverse=True)
    short = [i for i in rest if not seconds(i)]
    paired = [item for pair in zip(slow, short, strict=False) for item in pair]
    items[:] = exclusive + paired + slow[len(paired) // 2 :] + short[len(paired) // 2 :]
