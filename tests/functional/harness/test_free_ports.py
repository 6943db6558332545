"""Free ports are chosen below the kernel's ephemeral range: between the choice and a
service's bind, no outgoing connection can take one as its source port, and no client asking
whether it is open can connect to itself there."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from harness.runtime import ports
from harness.runtime.ports import HOST, free_port, free_ports


def test_free_ports_lie_below_the_ephemeral_range_and_are_free() -> None:
    ephemeral = ports.ephemeral_ports()
    chosen = free_ports(5)
    assert len(set(chosen)) == 5
    assert all(port < ephemeral.start for port in chosen), (chosen, ephemeral)
    for port in chosen:
        with socket.socket() as sock:
            sock.bind((HOST, port))


def _kernel_says(setting: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel's ephemeral range as ``setting`` (the file's text) says."""
    range_file = tmp_path / "ip_local_port_range"
    range_file.write_text(setting)
    monkeypatch.setattr(ports, "EPHEMERAL_RANGE_FILE", range_file)


def test_the_range_is_the_kernels_where_it_says_so_else_ianas(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _kernel_says("40000\t50000\n", tmp_path, monkeypatch)
    assert ports.ephemeral_ports() == range(40000, 50001)
    assert all(28000 <= port < 40000 for port in free_ports(3))
    monkeypatch.setattr(ports, "EPHEMERAL_RANGE_FILE", tmp_path / "absent")
    assert ports.ephemeral_ports() == range(49152, 65536)
    assert all(port < 49152 for port in free_ports(3))


def test_with_no_room_below_the_range_the_kernel_chooses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _kernel_says("1024 65535\n", tmp_path, monkeypatch)
    assert ports.chosen_ports() == range(0)
    assert free_port() >= 1024


def test_a_port_near_a_taken_one_is_still_the_first_free_after_it() -> None:
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        near = taken.getsockname()[1]
        assert near < free_port(near=near - 1) < near + 100
