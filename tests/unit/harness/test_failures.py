"""One-line failure causes: Lambda error JSON and quoted refusals unwrapped, traces apart."""

from __future__ import annotations

import json

from harness.failures import explain, one_line

LAMBDA_ERROR = json.dumps(
    {
        "errorMessage": "the agent runtime refused the session: it answered HTTP 400 "
        "ValidationException: the agent refused the payload: unknown fault 'bogus'",
        "errorType": "AgentRefused",
        "stackTrace": ['  File "/x/handler.py", line 92, in handler\n', "    raise X(\n"],
    }
)


def test_a_lambda_error_becomes_its_message_and_its_trace():
    failure = explain(f"agent invocation failed: AgentRefused: {LAMBDA_ERROR}")
    assert failure.cause == (
        "agent invocation failed: AgentRefused: the agent runtime refused the session: it "
        "answered HTTP 400 ValidationException: the agent refused the payload: unknown fault "
        "'bogus'"
    )
    assert failure.trace == '  File "/x/handler.py", line 92, in handler\n    raise X('


def test_a_quoted_error_body_is_unwrapped_and_other_json_kept():
    assert one_line('refused: {"error": "no task"}') == "refused: no task"
    assert one_line('got {"a": 1, "b": 2, "c": 3} back') == 'got {"a": 1, "b": 2, "c": 3} back'
    assert one_line("broken { json") == "broken { json"


def test_newlines_collapse_and_python_tracebacks_go_to_the_trace():
    failure = explain("crashed:\n  boom\nTraceback (most recent call last):\n  File x\n")
    assert failure.cause == "crashed: boom"
    assert failure.trace.startswith("Traceback (most recent call last):")


def test_empty_text_has_no_cause():
    assert explain(None).cause == ""
    assert explain("").trace == ""


def test_a_list_shows_a_short_cause_cut_between_words():
    from datetime import UTC, datetime

    from harness.sessions import SessionSummary

    arn = "arn:aws:bedrock-agentcore:us-east-1:000000000000:runtime/local-agent"
    error = f"agent invocation failed: could not reach {arn}: " + "and so on " * 20
    summary = SessionSummary("s", "FAILED", datetime.now(UTC), "t", error)
    assert summary.cause.endswith(" …")
    assert arn in summary.cause
    assert len(summary.cause) <= 122
