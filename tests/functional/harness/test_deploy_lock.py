"""CDK commands of one checkout run one at a time (they share infra/cdk.out): a second one
says what it waits for, then runs; a holder that never lets go is reported, not waited on
forever."""

from __future__ import annotations

import threading
import time

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
