"""The unit tier's guard refuses the network and subprocesses (tests/unit/conftest.py)."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest


def test_a_unit_test_cannot_open_a_connection() -> None:
    with (
        socket.socket() as sock,
        pytest.raises(AssertionError, match=r"do not use the network.*127\.0\.0\.1"),
    ):
        sock.connect(("127.0.0.1", 9))


def test_a_unit_test_cannot_start_a_process() -> None:
    with pytest.raises(AssertionError, match="do not start processes"):
        subprocess.run([sys.executable, "-c", "pass"], check=False)
