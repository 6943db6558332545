"""Loopback ports: the one place that picks free ones and tells a taken one.

A free port is chosen below the kernel's ephemeral range (the ports it gives the outgoing
connections that name none), not by binding port 0, which hands out a port of that range:
between the choice and the service's bind (a LocalStack start: seconds) any outgoing
connection on the machine (a test's, the agent's, LocalStack's own) could get it as its
source port, and the service then failed to bind; and a client asking whether a port of that
range is open can connect to itself (TCP's simultaneous open: the port "answers" with nothing
listening there). Below the range neither can happen."""

from __future__ import annotations

import contextlib
import random
import socket
from pathlib import Path

HOST = "127.0.0.1"

# Linux's range of source ports for outgoing connections; elsewhere IANA's dynamic range
# (macOS's and Windows' default).
EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
IANA_DYNAMIC_PORTS = range(49152, 65536)
# How many ports below the ephemeral range free ports are chosen from (at random: the
# checkouts and test workers choosing at once rarely meet).
CHOSEN_SPAN = 12000
LOWEST_CHOSEN = 10000
PICKS = 100


def ephemeral_ports() -> range:
    """The ports the kernel hands out as outgoing connections' source ports."""
    try:
        low, high = map(int, EPHEMERAL_RANGE_FILE.read_text().split())
    except (OSError, ValueError):
        return IANA_DYNAMIC_PORTS
    return range(low, high + 1)


def chosen_ports() -> range:
    """Where free ports are chosen: just below the ephemeral range."""
    low = ephemeral_ports().start
    return range(max(LOWEST_CHOSEN, low - CHOSEN_SPAN), low)


def free_ports(count: int = 1, *, near: int | None = None) -> list[int]:
    """``count`` distinct free loopback ports, all held while chosen (so they differ): the
    first free ones after ``near`` when given (readable advice: 4567 after 4566), the rest at
    random just below the kernel's ephemeral range."""
    held: list[socket.socket] = []
    try:
        for candidate in range(near + 1, near + 100) if near else ():
            if len(held) == count:
                break
            if (sock := _bound(candidate)) is not None:
                held.append(sock)
        candidates = chosen_ports()
        while len(held) < count:
            held.append(_bound_at_random(candidates))
        return [sock.getsockname()[1] for sock in held]
    finally:
        for sock in held:
            with contextlib.suppress(OSError):
                sock.close()


def _bound(port: int) -> socket.socket | None:
    """A socket bound to loopback ``port``; None if the port is taken."""
    sock = socket.socket()
    try:
        sock.bind((HOST, port))
    except OSError:
        sock.close()
        return None
    return sock


def _bound_at_random(candidates: range) -> socket.socket:
    """A socket bound to a free port of ``candidates``; if none is found there in ``PICKS``
    tries (or there are none), to one the kernel hands out."""
    for _ in range(PICKS if candidates else 0):
        if (sock := _bound(random.choice(candidates))) is not None:
            return sock
    sock = socket.socket()
    sock.bind((HOST, 0))
    return sock


def free_port(near: int | None = None) -> int:
    """One free loopback port (the first free one after ``near``, if given)."""
    return free_ports(1, near=near)[0]


def port_in_use(port: int, host: str = HOST) -> bool:
    """Something accepts connections on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0
