"""A session fixture's one-off set-up runs on its own time budget, not on the pytest-timeout of
the test that needs it first (a cold machine's first image build overran it); the test's own
timeout still holds for the rest of its set-up and its body."""

from __future__ import annotations

import pytest

from harness.settings import REPO_ROOT

pytest_plugins = ["pytester"]

SESSION = """
import time

import pytest

from harness.pytest_budget import setup_budget


@pytest.fixture(scope="session")
def budgeted_setup(request):
    with setup_budget(request.config):
        time.sleep(1.2)


@pytest.fixture(scope="session")
def plain_setup():
    time.sleep(1.2)


def test_budgeted_setup_may_outlast_the_timeout(budgeted_setup):
    pass


def test_plain_setup_is_timed_out(plain_setup):
    pass


def test_the_body_keeps_its_timeout_after_a_budgeted_setup(budgeted_setup):
    time.sleep(1.2)
"""


def test_only_the_budgeted_setup_outlasts_the_tests_timeout(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(REPO_ROOT))
    # GIVEN a 0.5 s timeout per test, and set-ups that take 1.2 s (one of them on the budget)
    pytester.makepyfile(test_session=SESSION)

    # WHEN the session runs (in a process of its own: pytest-timeout's alarm is per process)
    result = pytester.runpytest_subprocess("-p", "harness.pytest_budget", "--timeout", "0.5")

    # THEN the budgeted set-up passes; the plain one and the slow body are timed out
    result.assert_outcomes(passed=1, failed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_plain_setup_is_timed_out*",
            "*FAILED*test_the_body_keeps_its_timeout_after_a_budgeted_setup*",
        ]
    )
