"""The LocalStack plug-in's Wait scale (harness/localstack_host_lambda/.../wait_scale.py): what
its start-up hook patches, and how a patched Wait waits. LocalStack lives in its own virtualenv,
so its modules are stand-ins here; tests/integration/workflow/test_wait_scale.py runs the real
one."""

from __future__ import annotations

import contextlib
import logging
import types
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.localstack_plugin import load_plugin_module

WAIT_FUNCTION_MODULE = (
    "localstack.services.stepfunctions.asl.component.state.state_wait.wait_function.wait_function"
)


class WaitFunction:
    """LocalStack's base class, as far as the patch sees it: a duration, then _eval_body."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def _get_wait_seconds(self, env: Any) -> float:
        return self.seconds

    def _eval_body(self, env: Any) -> None:
        raise AssertionError("LocalStack's own wait: the patch did not replace it")


class StateEvent:
    """The execution's threading.Event: records each wait; ``pulses`` return early (a stop)."""

    def __init__(self, clock: list[float], pulses: list[Callable[[], None]]) -> None:
        self.clock = clock
        self.pulses = pulses
        self.waits: list[float] = []

    def wait(self, timeout: float) -> bool:
        self.waits.append(timeout)
        if self.pulses:
            self.clock[0] += timeout / 2
            self.pulses.pop(0)()
            return True
        self.clock[0] += timeout
        return False


class Env:
    def __init__(self, clock: list[float], pulses: list[Callable[[], None]] | None = None) -> None:
        self.running = True
        self.program_state_event = StateEvent(clock, pulses or [])

    def is_running(self) -> bool:
        return self.running


@pytest.fixture
def plugin(monkeypatch):
    """The plug-in module over stand-ins: LocalStack's hooks (a no-op decorator) and its
    WaitFunction class; time.monotonic is a clock the fake waits move."""
    original = WaitFunction.__dict__["_eval_body"]
    module = load_plugin_module(
        monkeypatch,
        "wait_scale.py",
        {WAIT_FUNCTION_MODULE: types.SimpleNamespace(WaitFunction=WaitFunction)},
    )
    clock = [100.0]
    monkeypatch.setattr(module.time, "monotonic", lambda: clock[0])
    module.clock = clock
    yield module
    WaitFunction._eval_body = original
    if hasattr(WaitFunction, "harness_wait_scale"):
        del WaitFunction.harness_wait_scale


def test_the_scale_is_read_as_the_harness_writes_it(plugin):
    assert plugin.parse_scale(None) == plugin.parse_scale("") == plugin.parse_scale(" ") == 1
    assert plugin.parse_scale("0.1") == 0.1
    for bad in ("0", "2", "-1", "nan", "inf", "soon"):
        with pytest.raises(ValueError, match="HARNESS_SFN_WAIT_SCALE"):
            plugin.parse_scale(bad)


def test_a_scaled_wait_lasts_its_fraction(plugin):
    env = Env(plugin.clock)
    plugin.wait_scaled(env, 1, 0.1, plugin.Waiting())
    assert env.program_state_event.waits == [pytest.approx(0.1)]
    assert plugin.clock[0] == pytest.approx(100.1)


def test_a_wait_woken_while_running_waits_out_the_rest(plugin):
    # An unrelated pulse of the execution's event: it keeps waiting, for what is left.
    env = Env(plugin.clock, pulses=[lambda: None])
    plugin.wait_scaled(env, 2, 0.1, plugin.Waiting())
    assert env.program_state_event.waits == [pytest.approx(0.2), pytest.approx(0.1)]


def test_a_stopped_execution_leaves_its_wait_at_once(plugin):
    env = Env(plugin.clock)
    env.program_state_event.pulses.append(lambda: setattr(env, "running", False))
    plugin.wait_scaled(env, 30, 0.5, plugin.Waiting())
    assert env.program_state_event.waits == [pytest.approx(15)]  # woken once, then left
    stopped = Env(plugin.clock)
    stopped.running = False
    plugin.wait_scaled(stopped, 30, 0.5, plugin.Waiting())
    assert stopped.program_state_event.waits == []


def test_waits_lengthen_with_the_executions_waiting_so_polls_do_not_multiply(plugin):
    # GIVEN 4 executions already in a Wait
    waiting = plugin.Waiting()
    with contextlib.ExitStack() as others:
        for _ in range(4):
            others.enter_context(waiting.one_more())
        # WHEN a fifth waits: 0.1 x 5 of its duration
        env = Env(plugin.clock)
        plugin.wait_scaled(env, 1, 0.1, waiting)
        assert env.program_state_event.waits == [pytest.approx(0.5)]
    # THEN alone again, it waits the scale's share; and never more than the whole Wait
    alone = Env(plugin.clock)
    plugin.wait_scaled(alone, 1, 0.1, waiting)
    assert alone.program_state_event.waits == [pytest.approx(0.1)]
    assert [plugin.share(0.1, n) for n in (0, 1, 5, 10, 50)] == [
        pytest.approx(x) for x in (0.1, 0.1, 0.5, 1.0, 1.0)
    ]


def test_the_hook_patches_every_wait_function_with_the_scale(plugin, monkeypatch, caplog):
    monkeypatch.setenv("HARNESS_SFN_WAIT_SCALE", "0.1")
    with caplog.at_level(logging.INFO):
        plugin.scale_wait_states()
    assert WaitFunction.harness_wait_scale == 0.1
    env = Env(plugin.clock)
    WaitFunction(seconds=1)._eval_body(env)
    assert env.program_state_event.waits == [pytest.approx(0.1)]
    assert "Step Functions Wait states last 0.1 of their duration" in caplog.text


@pytest.mark.parametrize("raw", [None, "1"])
def test_unset_or_one_patches_nothing(plugin, monkeypatch, raw):
    if raw is None:
        monkeypatch.delenv("HARNESS_SFN_WAIT_SCALE", raising=False)
    else:
        monkeypatch.setenv("HARNESS_SFN_WAIT_SCALE", raw)
    plugin.scale_wait_states()
    assert not hasattr(WaitFunction, "harness_wait_scale")


def test_a_bad_value_is_logged_and_patches_nothing(plugin, monkeypatch, caplog):
    monkeypatch.setenv("HARNESS_SFN_WAIT_SCALE", "fast")
    plugin.scale_wait_states()
    assert not hasattr(WaitFunction, "harness_wait_scale")
    assert "Step Functions Wait states are not scaled: HARNESS_SFN_WAIT_SCALE='fast'" in (
        caplog.text
    )
