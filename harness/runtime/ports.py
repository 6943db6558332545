"""Loopback ports: the one place that picks free ones and tells a taken one."""

from __future__ import annotations

import contextlib
import socket

HOST = "127.0.0.1"


def free_ports(count: int = 1, *, near: int | None = None) -> list[int]:
    """``count`` distinct free loopback ports, all held while chosen (so they differ): the
    first free ones after ``near`` when given (readable advice: 4567 after 4566), the rest
    whatever the kernel hands out."""
    held: list[socket.socket] = []
    try:
        for candidate in range(near + 1, near + 100) if near else ():
            if len(held) == count:
                break
            sock = socket.socket()
            try:
                sock.bind((HOST, candidate))
            except OSError:
                sock.close()
                continue
            held.append(sock)
        while len(held) < count:
            sock = socket.socket()
            held.append(sock)
            sock.bind((HOST, 0))
        return [sock.getsockname()[1] for sock in held]
    finally:
        for sock in held:
            with contextlib.suppress(OSError):
                sock.close()


def free_port(near: int | None = None) -> int:
    """One free loopback port (the first free one after ``near``, if given)."""
    return free_ports(1, near=near)[0]


def port_in_use(port: int, host: str = HOST) -> bool:
    """Something accepts connections on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0
