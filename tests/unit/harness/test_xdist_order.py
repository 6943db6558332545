"""The order an xdist run's workers take its units of work in (harness/xdist_run.py), and the
seconds it is taken from (each test's in the last run, kept in the pytest cache)."""

from __future__ import annotations

from types import SimpleNamespace

from harness.xdist_run import SecondsRecorder, longest_first, seconds_key


def test_the_longest_first_each_followed_by_one_of_the_shortest():
    units = {"a": 1.0, "hang": 17.0, "b": 0.1, "bench": 13.0, "c": 4.0, "d": 0.5}
    assert longest_first(units) == ["hang", "b", "bench", "d", "c", "a"]


def test_ties_keep_their_order_and_an_odd_count_ends_long():
    assert longest_first({"x": 1.0, "y": 1.0, "z": 1.0}) == ["x", "z", "y"]
    assert longest_first({}) == []


class Cache:
    def __init__(self, saved: dict[str, object]) -> None:
        self.saved = saved

    def get(self, key: str, default: object) -> object:
        return self.saved.get(key, default)

    def set(self, key: str, value: object) -> None:
        self.saved[key] = value


def _report(test: str, seconds: float) -> SimpleNamespace:
    return SimpleNamespace(nodeid=test, duration=seconds)


def test_each_tests_set_up_call_and_tear_down_are_kept_for_the_next_run():
    key = seconds_key()
    cache = Cache({key: {"t::old": 3.0, "t::a": 9.0}, "other-mode": {"t::a": 5.0}})
    recorder = SecondsRecorder(cache)
    for phase_seconds in (0.25, 1.5, 0.25):
        recorder.pytest_runtest_logreport(_report("t::a", phase_seconds))
    recorder.pytest_runtest_logreport(_report("t::b", 0.123))
    recorder.pytest_sessionfinish()
    # a test this run did not run keeps its figure
    assert cache.saved[key] == {"t::old": 3.0, "t::a": 2.0, "t::b": 0.12}
    assert cache.saved["other-mode"] == {"t::a": 5.0}


def test_each_runtime_mode_keeps_its_own(monkeypatch):
    monkeypatch.setenv("HARNESS_RUNTIME", "docker")
    docker = seconds_key()
    monkeypatch.setenv("HARNESS_RUNTIME", "host")
    assert docker != seconds_key()
