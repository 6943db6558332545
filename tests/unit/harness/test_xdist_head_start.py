"""What an xdist run's collected tests need of the shared runtime, from their fixtures."""

from __future__ import annotations

from harness.xdist_head_start import AGENT, STACK, needs_of


def test_no_test_using_the_runtime_needs_nothing():
    assert needs_of([["tmp_path"], ["harness_settings", "monkeypatch"]]) is None
    assert needs_of([]) is None


def test_localstack_alone_needs_no_stack_nor_agent():
    assert needs_of([["tmp_path"], ["aws_client", "harness_settings"]]) == []
    assert needs_of([["localstack"]]) == []


def test_the_stack_and_the_agent_from_any_test():
    # trigger's closure holds both fixtures it uses
    closures = [
        ["deployed_stack", "session_reader"],
        ["trigger", "deployed_stack", "agent_services"],
    ]
    assert needs_of(closures) == sorted([STACK, AGENT])
    assert needs_of([["localstack"], ["agent_services"]]) == [AGENT]
