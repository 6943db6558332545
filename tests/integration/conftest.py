"""The end-to-end tier runs on this checkout's runtime: ``harness_settings`` is taken before any
test, so when another checkout's runtime holds the configured ports, the free ports it picks
are exported for every test, including those that only start ``python -m harness`` or
``make`` (e.g. ``make agent``) and never ask for the fixture themselves.

Under pytest-xdist (``make test-integration`` runs the tier on several workers) the workers
share that runtime: a test marked ``exclusive`` (it stops or restarts a service, or edits
code a service runs) runs alone, the others side by side."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.pytest_plugin import shared_run
from harness.settings import Settings
from harness.xdist_run import EXCLUSIVE


@pytest.fixture(scope="session", autouse=True)
def _this_checkouts_ports(harness_settings: Settings) -> Settings:
    return harness_settings


@pytest.fixture(autouse=True)
def _one_runtime_for_all_workers(request: pytest.FixtureRequest) -> Iterator[None]:
    """Under xdist, a test that runs sessions on the shared agent does not run while a test
    marked exclusive changes it; tests that do not use it (their own runtime or agent, a
    synth) take no lock."""
    run = shared_run(request.config)
    exclusive = request.node.get_closest_marker(EXCLUSIVE) is not None
    if run is None or not (exclusive or _uses_the_shared_agent(request.node)):
        yield
        return
    with run.test_lock(exclusive=exclusive):
        yield


def _uses_the_shared_agent(item: pytest.Item) -> bool:
    return "agent_services" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist the tests marked exclusive go first (they run one at a time, before the
    others hold the shared agent), then the tests marked ``slow``, the longest first, each
    followed by a short one (a worker holds its running test and the next): no long test
    starts late or waits queued behind another. Those that take no lock lead, so they run
    while the exclusive ones do."""
    if shared_run(config) is None:
        return

    def seconds(item: pytest.Item) -> float:
        marker = item.get_closest_marker("slow")
        return 0.0 if marker is None else float(marker.kwargs.get("seconds", 30))

    exclusive = [i for i in items if i.get_closest_marker(EXCLUSIVE) is not None]
    rest = [i for i in items if i.get_closest_marker(EXCLUSIVE) is None]
    slow = sorted(
        (i for i in rest if seconds(i)), key=lambda i: (_uses_the_shared_agent(i), -seconds(i))
    )
    short = [i for i in rest if not seconds(i)]
    paired = [item for pair in zip(slow, short, strict=False) for item in pair]
    items[:] = exclusive + paired + slow[len(paired) // 2 :] + short[len(paired) // 2 :]
