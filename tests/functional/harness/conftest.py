"""A pytest run inside a test here (pytester's, in this process or another) leaves out the
installed plug-ins none of these runs uses, as the tier's own run does (pyproject.toml's
addopts): hypothesis's imports hypothesis at each session's end (~0.4 CPU-s) and reads every
loaded module's source at a collection that holds its tests; anyio's only adds a marker;
typeguard's imports unittest.mock for an option nobody passes."""

from __future__ import annotations

import pytest

from tests.support.helpers import UNUSED_PYTEST_PLUGINS

UNUSED_PLUGINS = " ".join(UNUSED_PYTEST_PLUGINS)


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTEST_ADDOPTS", UNUSED_PLUGINS)  # pytester clears the shell's
    return pytester
