"""A session fixture's one-off set-up (installs, image builds, a first deploy) runs on a time
budget of its own, not on the pytest-timeout of whichever test happened to need it first.

On a cold machine (empty download cache) the docker tier's first image build, on two busy
cores, overran that test's 600 s and the whole tier failed at set-up. The budget is bounded
too (``SETUP_BUDGET_SECONDS``); the test's own timeout starts again once the set-up is done.
Registered by ``harness.pytest_plugin``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

SETUP_BUDGET_SECONDS = 30 * 60

_CURRENT_ITEM = pytest.StashKey[pytest.Item]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.config.stash[_CURRENT_ITEM] = item


@contextmanager
def setup_budget(config: pytest.Config, seconds: float = SETUP_BUDGET_SECONDS) -> Iterator[None]:
    """Within this block the current test's pytest-timeout timer allows ``seconds``; after
    it, the test gets its whole timeout again. Does nothing where no timer runs (no
    pytest-timeout, no timeout, or a timeout on the test function only)."""
    item = config.stash.get(_CURRENT_ITEM, None)
    if item is None or getattr(item, "cancel_timeout", None) is None:
        yield
        return
    import pytest_timeout  # type: ignore[import-untyped]  # only when a timer runs

    hooks = config.pluginmanager.hook
    own = pytest_timeout._get_item_settings(item)  # the version is pinned (requirements)
    hooks.pytest_timeout_cancel_timer(item=item)
    hooks.pytest_timeout_set_timer(item=item, settings=own._replace(timeout=seconds))
    try:
        yield
    finally:
        hooks.pytest_timeout_cancel_timer(item=item)
        hooks.pytest_timeout_set_timer(item=item, settings=own)
