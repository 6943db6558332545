"""A clean-up under signals_deferred is not cut in half by Ctrl-C: the signal is held, said
once, and raised again when the block ends."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from harness.runtime.processes import signals_deferred


def _clean_up_hit_twice(said: list[str], finished: list[bool]) -> None:
    with signals_deferred(notice=lambda: said.append("waiting")):
        signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGINT)
        finished.append(True)


@pytest.fixture
def ctrl_c_raises() -> Iterator[None]:
    """Python's own Ctrl-C handler, whatever the run inherited (a job started in the
    background ignores SIGINT)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("ctrl_c_raises")
def test_ctrl_c_is_held_said_once_and_raised_after_the_block():
    said: list[str] = []
    finished: list[bool] = []
    with pytest.raises(KeyboardInterrupt):
        _clean_up_hit_twice(said, finished)
    assert finished == [True]
    assert said == ["waiting"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
