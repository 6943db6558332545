"""CDK commands of one checkout run one at a time (they share infra/cdk.out): a second one
says what it waits for, then runs; a holder that never lets go is reported, not waited on
forever."""

from __future__ import annotations

import fcntl
import threading
import time
from collections.abc import Callable
from typing import IO

import pytest

from harness import deploy


@pytest.fixture(autouse=True)
def lock_file(tmp_path, monkeypatch):
    monkeypatch.setattr(deploy, "DEPLOY_LOCK", tmp_path / "deploy.lock")


def test_a_second_deploy_waits_for_the_first_and_says_so():
    events: list[str] = []
    messages: list[str] = []
    inside = threading.Event()

    def first() -> None:
        with deploy.cdk_lock(lambda m: None, "a deploy"):
            inside.set()
            events.append("first in")
            time.sleep(0.6)
            events.append("first out")

    thread = threading.Thread(target=first)
    thread.start()
    inside.wait(5)
    with deploy.cdk_lock(messages.append, "a synth"):
        events.append("second in")
    thread.join()
    assert events == ["first in", "first out", "second in"]
    assert len(messages) == 1
    assert messages[0].startswith("waiting for a deploy (pid ")
    assert "infra/cdk.out" in messages[0]


def test_a_lock_held_too_long_is_an_error_naming_the_holder():
    inside, release = threading.Event(), threading.Event()

    def holder() -> None:
        with deploy.cdk_lock(lambda m: None, "a deploy"):
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    inside.wait(5)
    try:
        with (
            pytest.raises(deploy.DeployError, match=r"a deploy \(pid \d+\) still holds"),
            deploy.cdk_lock(lambda m: None, "a synth", timeout=0.5),
        ):
            pass
    finally:
        release.set()
        thread.join()


def _waiting_behind(holder_steps: Callable[[IO[str]], None]) -> list[str]:
    """What a command asking for the lock says while another process holds it: the lock is
    taken as that process does (its own flock on the file), ``holder_steps`` then run with
    the file on a thread of their own (and must let go), while the command waits."""
    messages: list[str] = []
    with deploy.DEPLOY_LOCK.open("a+") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        thread = threading.Thread(target=holder_steps, args=(holder,))
        thread.start()
        with deploy.cdk_lock(messages.append, "a deploy"):
            pass
        thread.join()
    return messages


def test_a_waiter_that_comes_before_the_holder_wrote_its_name_still_names_it():
    # GIVEN a holder that has the lock but has not written its name yet (as a process does
    # between its flock and its write)
    def name_then_release(holder: IO[str]) -> None:
        time.sleep(0.3)
        holder.write("a synth (pid 4242)")
        holder.flush()
        time.sleep(0.3)
        fcntl.flock(holder, fcntl.LOCK_UN)

    # WHEN another command asks for the lock
    messages = _waiting_behind(name_then_release)
    # THEN it names the holder, not "another process"
    assert messages == [
        "waiting for a synth (pid 4242) of this checkout to finish (they share infra/cdk.out)"
    ]


def test_a_waiter_says_so_again_when_another_command_takes_the_lock_first():
    # GIVEN a deploy holding the lock, and a synth waiting for it
    def hand_over(holder: IO[str]) -> None:
        holder.write("a deploy (pid 4242)")
        holder.flush()
        # WHEN a third command takes the lock as the deploy lets go (as a second tier's
        # synth may), then lets go in turn
        time.sleep(0.3)
        holder.seek(0)
        holder.truncate()
        holder.write("a synth (pid 4343)")
        holder.flush()
        time.sleep(0.5)
        fcntl.flock(holder, fcntl.LOCK_UN)

    messages = _waiting_behind(hand_over)
    # THEN the waiter named each holder it waited for, once
    assert messages == [
        "waiting for a deploy (pid 4242) of this checkout to finish (they share infra/cdk.out)",
        "waiting for a synth (pid 4343) of this checkout to finish (they share infra/cdk.out)",
    ]
