"""`pytest --target aws` selects the end-to-end tests marked any_target and starts nothing."""

from __future__ import annotations

import pytest

from harness.settings import REPO_ROOT

pytest_plugins = ["pytester"]


def _collect(pytester: pytest.Pytester, *options: str) -> list[str]:
    result = pytester.runpytest_inprocess(
        "-p",
        "harness.pytest_plugin",
        "--import-mode=importlib",
        "--collect-only",
        "-q",
        *options,
        str(REPO_ROOT / "tests" / "integration" / "workflow"),
    )
    return [line for line in result.outlines if "::" in line]


def test_aws_target_keeps_only_any_target_tests(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_TARGET", "local")  # restored after: the option exports it
    everything = _collect(pytester)
    on_aws = _collect(pytester, "--target", "aws")
    assert "test_workflow.py::test_manual_trigger_runs_the_session_to_completed" in " ".join(on_aws)
    assert any("test_malformed_events_end_failed_naming_the_field[no-task]" in t for t in on_aws)
    # Faults, restarts and the load test need the local runtime.
    assert not any("crash" in t or "fifty" in t or "unreachable" in t for t in on_aws)
    assert 0 < len(on_aws) < len(everything)
    assert set(on_aws) <= set(everything)
