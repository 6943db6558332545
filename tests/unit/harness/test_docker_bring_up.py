"""The docker_compose fixture's bring-up leaves no private engine behind when it is cut short
(Ctrl-C, a test's time-out) after starting it: nobody else knows it started it."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from harness import pytest_plugin


@dataclass
class FakeEngine:
    calls: list[str] = field(default_factory=list)

    def start(self) -> bool:
        self.calls.append("start")
        return True

    def stop(self) -> bool:
        self.calls.append("stop")
        return True


@dataclass
class FakeRuntime:
    engine: FakeEngine = field(default_factory=FakeEngine)
    private_engine: bool = True
    settings: Any = field(default_factory=lambda: SimpleNamespace(docker_base="offline"))

    def environment(self) -> dict[str, str]:
        return {}

    def running_services(self) -> list[str]:
        return []


class Interrupted(KeyboardInterrupt):
    pass


def _request() -> Any:
    plugins = SimpleNamespace(get_plugin=lambda name: None)
    return SimpleNamespace(config=SimpleNamespace(pluginmanager=plugins))


def _images(*, fail: bool) -> type:
    class Images:
        def __init__(self, engine: FakeEngine, report: Any) -> None:
            pass

        def build_all(self, *, offline_base: bool) -> list[str]:
            if fail:
                raise Interrupted
            return []

    return Images


def _interrupted() -> None:
    raise Interrupted


@pytest.mark.parametrize(
    ("images_fail", "compose_start"),
    [
        pytest.param(True, lambda: None, id="image-check"),
        pytest.param(False, _interrupted, id="compose-up"),
    ],
)
def test_an_interrupted_bring_up_stops_the_engine_it_started(
    monkeypatch, images_fail, compose_start
):
    monkeypatch.setattr(pytest_plugin, "ImageBuilder", _images(fail=images_fail))
    runtime = FakeRuntime()
    compose = SimpleNamespace(start=compose_start)
    with pytest.raises(Interrupted), pytest.MonkeyPatch.context() as patch:
        pytest_plugin._bring_up(_request(), runtime, compose, patch)  # type: ignore[arg-type]
    assert runtime.engine.calls == ["start", "stop"]


def test_a_brought_up_runtime_keeps_its_engine(monkeypatch):
    monkeypatch.setattr(pytest_plugin, "ImageBuilder", _images(fail=False))
    runtime = FakeRuntime()
    compose = SimpleNamespace(start=lambda: None)
    with pytest.MonkeyPatch.context() as patch:
        started = pytest_plugin._bring_up(_request(), runtime, compose, patch)  # type: ignore[arg-type]
    assert started == (True, True)
    assert runtime.engine.calls == ["start"]
