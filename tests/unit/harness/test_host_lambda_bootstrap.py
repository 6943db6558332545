"""The host Lambda zygote's footprint helpers: what it makes immortal before forking is no
longer reference-counted (so a forked environment reading it writes nothing to its page)."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from harness.settings import REPO_ROOT

BOOTSTRAP = REPO_ROOT / "harness/localstack_host_lambda/localstack_host_lambda/bootstrap.py"


@pytest.fixture(scope="module")
def bootstrap():
    spec = importlib.util.spec_from_file_location("host_lambda_bootstrap", BOOTSTRAP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_immortals_are_used_on_the_interpreters_that_have_them(bootstrap):
    expected = (3, 12) <= sys.version_info[:2] <= (3, 13) and not hasattr(sys, "gettotalrefcount")
    assert bootstrap.immortals_supported() is expected


def test_what_is_reachable_from_the_roots_is_no_longer_counted(bootstrap):
    if not bootstrap.immortals_supported():
        pytest.fail(f"Python {sys.version_info[:2]} has no immortal objects to test with")
    # Fresh objects only (built at run time, not interned): an object graph closed on itself.
    leaf = "".join(["not ", "interned"])
    inner = [leaf, bytearray(b"x")]
    root = {"inner": inner}
    control = [leaf]
    assert bootstrap.immortalize([root]) == 4  # root, inner, leaf, the bytearray
    counted = sys.getrefcount(control)
    counts = sys.getrefcount(inner), sys.getrefcount(leaf)
    aliases = [inner, leaf, control]
    assert (sys.getrefcount(inner), sys.getrefcount(leaf)) == counts  # not counted
    assert sys.getrefcount(control) == counted + 1  # an ordinary object still is
    assert bootstrap.immortalize([root, *aliases[:2]]) == 0  # already immortal: left as is
