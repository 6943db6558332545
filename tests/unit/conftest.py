"""The unit tier is pure: no network, no subprocess (in-process libraries such as moto, the
CDK or a TestClient belong to tests/functional). Both are refused here, so a test that
reaches for one fails at once naming what it tried. As in the functional tier, the shell's AWS
set-up and port overrides are ignored, and every run proves it under a shell set up for real
AWS (tests/support/shell_isolation.py)."""

from __future__ import annotations

import socket
import subprocess
from typing import Any, NoReturn

import pytest

# The plug-in that runs the tier under a shell set up for real AWS: its hooks and fixtures.
from tests.support.shell_isolation import *  # noqa: F403


@pytest.fixture(autouse=True)
def _pure(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse_connect(_sock: socket.socket, address: Any) -> NoReturn:
        raise AssertionError(f"unit tests do not use the network (connect to {address!r})")

    def refuse_popen(_popen: subprocess.Popen[Any], args: Any, *_a: Any, **_k: Any) -> NoReturn:
        raise AssertionError(f"unit tests do not start processes ({args!r})")

    monkeypatch.setattr(socket.socket, "connect", refuse_connect)
    monkeypatch.setattr(subprocess.Popen, "__init__", refuse_popen)
