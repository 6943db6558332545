"""Unit and functional tests never reach a runtime and never read the shell's set-up: every
AWS_* variable the shell (or make) exports is dropped, no AWS config or credentials file is
read, and the port overrides are dropped, so they see the documented defaults.

Every run of those tiers proves it: this module is their pytest plug-in, loaded by each tier's
conftest (``from tests.support.shell_isolation import *``: the hooks and fixtures in ``__all__``,
scoped to that tier as a conftest's are; the end-to-end tier does not load it). Its hooks export
HOSTILE_SHELL (a shell set up for real AWS, or as LocalStack's docs suggest) while each test
module is imported and around each test (its fixtures of every scope, set up and torn down),
and put the shell back after. A test that reads the shell's AWS set-up, at import, in a shared
fixture or in its body, then fails in every run, not only in a shell that exports it."""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

# What a tier's conftest takes from this plug-in: the hooks that run the tier under
# HOSTILE_SHELL, and its fixtures.
__all__ = [
    "no_shell_aws_settings",
    "pytest_make_collect_report",
    "pytest_runtest_setup",
    "pytest_runtest_teardown",
    "shell_at_module_setup",
]

HOSTILE_SHELL = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_SESSION_TOKEN": "a-real-aws-token",
    "AWS_PROFILE": "no-such-profile",
    "AWS_DEFAULT_PROFILE": "no-such-profile",
    "AWS_REGION": "eu-west-1",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9",
    "AWS_ENDPOINT_URL_STEPFUNCTIONS": "http://127.0.0.1:9",
    "AWS_ENDPOINT_URL_CLOUDFORMATION": "http://127.0.0.1:9",
}
_SHELL_BEFORE = pytest.StashKey[dict[str, str | None]]()


def shell_now() -> dict[str, str | None]:
    """HOSTILE_SHELL's variables as the environment holds them now."""
    return {name: os.environ.get(name) for name in HOSTILE_SHELL}


def _export_hostile_shell() -> dict[str, str | None]:
    before = shell_now()
    os.environ.update(HOSTILE_SHELL)
    return before


def _put_back(before: dict[str, str | None]) -> None:
    for name, value in before.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, object, object]:
    """A test module is imported while it is collected: under the hostile shell."""
    before = _export_hostile_shell()
    try:
        return (yield)
    finally:
        _put_back(before)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, object, object]:
    """From the set-up of the test's fixtures (module- and session-scoped ones included) ..."""
    item.stash[_SHELL_BEFORE] = _export_hostile_shell()
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, object, object]:
    """... to their teardown: then the shell is put back."""
    try:
        return (yield)
    finally:
        _put_back(item.stash.get(_SHELL_BEFORE, {}))


@pytest.fixture(scope="module")
def shell_at_module_setup() -> dict[str, str | None]:
    return shell_now()


def assert_the_tier_ran_under_the_hostile_shell(
    at_import: dict[str, str | None], at_module_setup: dict[str, str | None]
) -> None:
    """What a test of each tier checks: the shell was exported when its module was imported
    and its module's fixtures were set up; its body sees none of it (no_shell_aws_settings)."""
    assert at_import == HOSTILE_SHELL, "the tier's conftest no longer exports HOSTILE_SHELL"
    assert at_module_setup == HOSTILE_SHELL, "the tier's conftest no longer exports HOSTILE_SHELL"
    assert set(shell_now().values()) == {None}, "the tier no longer clears the shell for its tests"


@pytest.fixture(autouse=True)
def no_shell_aws_settings(monkeypatch, tmp_path):
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.delenv("AGENT_PORT", raising=False)
    monkeypatch.delenv("AGENTCORE_STANDIN_PORT", raising=False)
