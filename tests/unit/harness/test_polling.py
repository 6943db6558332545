"""The one bounded poller, on a fake clock: no real waiting, no timing assertions."""

from __future__ import annotations

import pytest

from harness.errors import HarnessError
from harness.polling import PollTimeout, poll


class FakeClock:
    """A monotonic clock that only moves when the poller sleeps; records every sleep."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0, "the poller never sleeps for nothing"
        self.sleeps.append(seconds)
        self.now += seconds


def _values(*values):
    """A check that returns ``values`` one by one (raising those that are exceptions)."""
    remaining = list(values)

    def check():
        value = remaining.pop(0)
        if isinstance(value, BaseException):
            raise value
        return value

    return check


def test_returns_the_first_accepted_value_without_sleeping_after_it():
    clock = FakeClock()
    value = poll(
        _values(None, 0, "", {"status": "ok"}),
        timeout=10,
        interval=0.5,
        what="ok",
        clock=clock,
        sleep=clock.sleep,
    )
    assert value == {"status": "ok"}
    assert clock.sleeps == [0.5, 0.5, 0.5]


def test_a_value_at_once_means_no_sleep():
    clock = FakeClock()
    assert poll(lambda: 7, timeout=1, what="seven", clock=clock, sleep=clock.sleep) == 7
    assert clock.sleeps == []


def test_accept_decides_what_counts():
    clock = FakeClock()
    value = poll(
        _values(0, 1, 2, 3),
        timeout=10,
        what="three",
        accept=lambda n: n >= 3,
        clock=clock,
        sleep=clock.sleep,
    )
    assert value == 3
    # a falsy value can be the awaited one
    assert poll(lambda: 0, timeout=1, what="zero", accept=lambda n: n == 0, sleep=clock.sleep) == 0


def test_timeout_names_what_the_bound_and_the_last_value():
    clock = FakeClock()
    with pytest.raises(PollTimeout) as caught:
        poll(
            lambda: {"status": "BUSY"},
            timeout=2,
            interval=0.5,
            what="session abc COMPLETED",
            accept=lambda item: item["status"] == "COMPLETED",
            clock=clock,
            sleep=clock.sleep,
        )
    message = str(caught.value)
    assert "session abc COMPLETED" in message
    assert "2 s" in message
    assert "{'status': 'BUSY'}" in message
    assert caught.value.last == {"status": "BUSY"}
    assert caught.value.checks == 5  # at 0, 0.5, 1, 1.5 and at the bound, 2
    assert isinstance(caught.value, HarnessError)


def test_timeout_reports_the_last_exception_of_a_retried_kind():
    clock = FakeClock()
    with pytest.raises(PollTimeout) as caught:
        poll(
            _values(None, ConnectionRefusedError(111, "Connection refused")),
            timeout=0.1,
            interval=0.1,
            what="the agent's /ping",
            retry_on=OSError,
            clock=clock,
            sleep=clock.sleep,
        )
    message = str(caught.value)
    assert "ConnectionRefusedError" in message
    assert "Connection refused" in message
    assert isinstance(caught.value.last, ConnectionRefusedError)


def test_the_last_thing_seen_wins_value_after_exception():
    clock = FakeClock()
    with pytest.raises(PollTimeout, match=r"last: 'starting'"):
        poll(
            _values(OSError("refused"), "starting"),
            timeout=0.05,
            interval=0.05,
            what="ready",
            accept=lambda v: v == "ready",
            retry_on=OSError,
            clock=clock,
            sleep=clock.sleep,
        )


def test_other_exceptions_end_the_wait_at_once():
    clock = FakeClock()
    calls = []

    def check():
        calls.append(1)
        raise ValueError("the process exited")

    with pytest.raises(ValueError, match="the process exited"):
        poll(check, timeout=60, what="x", retry_on=OSError, clock=clock, sleep=clock.sleep)
    assert len(calls) == 1
    assert clock.sleeps == []


def test_never_sleeps_past_the_bound_and_checks_at_it():
    clock = FakeClock()
    seen_at = []

    def check():
        seen_at.append(clock.now - 100.0)
        return None

    with pytest.raises(PollTimeout):
        poll(check, timeout=1.0, interval=0.4, what="x", clock=clock, sleep=clock.sleep)
    assert clock.sleeps == pytest.approx([0.4, 0.4, 0.2])
    assert seen_at == pytest.approx([0.0, 0.4, 0.8, 1.0])
    assert clock.now - 100.0 == pytest.approx(1.0)


def test_backoff_grows_the_interval_up_to_its_cap():
    clock = FakeClock()
    with pytest.raises(PollTimeout):
        poll(
            lambda: None,
            timeout=10,
            interval=0.5,
            backoff=2,
            max_interval=3,
            what="x",
            clock=clock,
            sleep=clock.sleep,
        )
    assert clock.sleeps == pytest.approx([0.5, 1, 2, 3, 3, 0.5])
    assert sum(clock.sleeps) == pytest.approx(10)


def test_wait_for_is_the_same_poller():
    from tests.support import helpers

    clock = FakeClock()
    with pytest.raises(PollTimeout, match="OSError: gone"):
        helpers.wait_for(
            _values(OSError("gone"), OSError("gone")),
            0.05,
            "the thing",
            clock=clock,
            sleep=clock.sleep,
        )
