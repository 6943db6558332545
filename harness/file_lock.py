"""An exclusive lock on a file, between processes: an flock, so a killed holder never leaves
it taken. A lock's holders may name themselves in it, so that who waits can say for whom."""

from __future__ import annotations

import contextlib
import fcntl
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from harness.errors import HarnessError
from harness.polling import PollTimeout, poll

HOLDER_NAME_SECONDS = 2.0  # how long a waiter waits for the holder to write its name
UNNAMED_HOLDER = "another process"  # a holder that wrote no name (in time)
WAIT_INTERVAL_SECONDS = 0.2  # between a waiter's tries at a lock whose holders name themselves


class LockStillHeld(HarnessError):
    """The lock's holder did not let go within the waiter's bound."""

    def __init__(self, path: Path, holder: str, timeout: float) -> None:
        self.holder = holder
        super().__init__(
            f"{holder} still holds {path} after {timeout:.0f} s: wait for it or stop it, then "
            "run this again"
        )


@contextlib.contextmanager
def exclusive(
    path: Path,
    on_wait: Callable[[str], None] | None = None,
    *,
    name: str | None = None,
    timeout: float = math.inf,
) -> Iterator[None]:
    """Hold ``path``'s lock for the block; when another process holds it, call ``on_wait``
    with the holder's name, then wait for it.

    With a ``name`` (a lock whose holders all name themselves): this one writes its name into
    the file while it holds the lock; waiting, it names each holder it waits for (again when
    yet another one takes the lock first) and gives up after ``timeout`` seconds
    (``LockStillHeld``, naming the holder). Without, the holder is ``UNNAMED_HOLDER`` and the
    wait has no bound."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        if not _take(handle):
            if name is None:
                if on_wait is not None:
                    on_wait(UNNAMED_HOLDER)
                fcntl.flock(handle, fcntl.LOCK_EX)
            else:
                _wait_naming_holders(handle, path, on_wait, timeout)
        with _held(handle, name):
            yield


@contextlib.contextmanager
def held_unless_taken(path: Path, name: str) -> Iterator[str | None]:
    """Hold ``path``'s lock for the block, named ``name``, if no other process holds it, and
    yield None; if one does, hold nothing and yield the holder's name (``UNNAMED_HOLDER`` if
    it wrote none in time)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        if not _take(handle):
            yield _holder_name(handle)
            return
        with _held(handle, name):
            yield None


@contextlib.contextmanager
def _held(handle: IO[str], name: str | None) -> Iterator[None]:
    """The block with the lock taken on ``handle``: named ``name`` (if any) meanwhile, then
    let go."""
    try:
        if name is not None:
            _write(handle, name)
        yield
    finally:
        if name is not None:
            _write(handle, "")
        fcntl.flock(handle, fcntl.LOCK_UN)


def _take(handle: IO[str]) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _write(handle: IO[str], text: str) -> None:
    handle.seek(0)
    handle.truncate()
    handle.write(text)
    handle.flush()


def _read(handle: IO[str]) -> str:
    handle.seek(0)
    return handle.read().strip()


def _wait_naming_holders(
    handle: IO[str], path: Path, on_wait: Callable[[str], None] | None, timeout: float
) -> None:
    say = on_wait or (lambda _holder: None)
    holders = [_holder_name(handle)]
    say(holders[-1])

    def take() -> bool:
        if _take(handle):
            return True
        # Another process took it before this one: say whom it waits for now.
        holder = _read(handle)
        if holder and holder != holders[-1]:
            holders.append(holder)
            say(holder)
        return False

    try:
        poll(take, timeout=timeout, interval=WAIT_INTERVAL_SECONDS, what=f"the lock {path}")
    except PollTimeout:
        raise LockStillHeld(path, holders[-1], timeout) from None


def _holder_name(handle: IO[str]) -> str:
    """Who holds the lock: its holder writes its name right after taking it, so an empty
    file means "any moment now" (read again for a little while)."""
    try:
        return poll(
            lambda: _read(handle), timeout=HOLDER_NAME_SECONDS, interval=0.02, what="its name"
        )
    except PollTimeout:
        return UNNAMED_HOLDER
