"""The terminal timeline: one row for the polling loop, a failure's cause once and in one
line, nothing hard-wrapped mid-token (no runtime needed)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

from rich.console import Console

from harness.report import html_page
from harness.sessions import Execution, Session, Step
from harness.timeline import POLLING_LABEL, full_errors, timeline, timeline_rows

T0 = datetime(2026, 11, 25, 3, 0, 0, tzinfo=UTC)
SESSION_ID = "3f2c0a1e-1111-2222-3333-444455556666"
EXECUTION_ARN = (
    "arn:aws:states:us-east-1:000000000000:execution:AgentWorkflow-WorkflowStateMachine8F1B-"
    f"f1dd2c3c:{SESSION_ID}"
)
LOOP = ("WaitForCompletion", "IncrementPollCount", "CheckStatus", "EvaluateStatus")
CAUSE = "the agent runtime refused the session: it answered HTTP 400: unknown fault 'bogus'"
LAMBDA_ERROR = json.dumps(
    {"errorMessage": CAUSE, "errorType": "AgentRefused", "stackTrace": ['  File "h.py"\n']}
)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _iso(seconds: float) -> str:
    return _at(seconds).isoformat()


def _polling_session(polls: int = 5, every: float = 0.5) -> Session:
    steps = [Step("InitializeSession", _at(0), _at(0.1)), Step("InvokeAgent", _at(0.1), _at(0.2))]
    for index in range(polls):
        start = 0.2 + index * every
        steps.append(Step(LOOP[0], _at(start), _at(start + every - 0.03)))
        steps += [
            Step(name, _at(start + every - 0.03 + n * 0.01), _at(start + every - 0.02 + n * 0.01))
            for n, name in enumerate(LOOP[1:])
        ]
    steps.append(Step("Success", _at(3), _at(3)))
    item = {
        "status": "COMPLETED",
        "history": [
            {"status": "INITIATED", "at": _iso(0.05), "note": "session initiated by workflow"},
            {"status": "BUSY", "at": _iso(0.9), "note": "started"},
            {"status": "COMPLETED", "at": _iso(2.5), "note": "done"},
        ],
    }
    execution = Execution(EXECUTION_ARN, "SUCCEEDED", T0, _at(3), {}, None, None, tuple(steps))
    return Session(SESSION_ID, item, (execution,))


def _refused_session() -> Session:
    error = f"agent invocation failed: AgentRefused: {LAMBDA_ERROR}"
    item = {
        "status": "FAILED",
        "error": error,
        "history": [
            {"status": "INITIATED", "at": _iso(0.05), "note": "session initiated by workflow"},
            {"status": "FAILED", "at": _iso(1.0), "note": error},
        ],
    }
    steps = (
        Step("InitializeSession", _at(0), _at(0.1)),
        Step("InvokeAgent", _at(0.1), _at(0.9), "AgentRefused", LAMBDA_ERROR),
        Step("RecordInvokeFailure", _at(0.9), _at(1.0)),
        Step("Failure", _at(1.0), None, "SessionFailed", "The session ended FAILED."),
    )
    execution = Execution(EXECUTION_ARN, "FAILED", T0, _at(1), {}, None, None, steps)
    return Session(SESSION_ID, item, (execution,))


def _render(session: Session, width: int) -> str:
    # As the CLI prints: soft wrap (the terminal folds long lines; no newline is inserted).
    console = Console(width=width, record=True, soft_wrap=True, file=io.StringIO())
    console.print(timeline(session, console))
    return console.export_text()


def test_the_polling_loop_is_one_row_saying_how_often():
    rows = timeline_rows(_polling_session(polls=5, every=0.5))
    polling = [row for row in rows if row.label == POLLING_LABEL]
    assert len(polling) == 1
    assert polling[0].detail.startswith("polled 5 times every 0.5 s")
    assert len(polling[0].polls) == 20
    assert not any(row.label in LOOP for row in rows)
    assert [r.label for r in rows if r.source == "journal"] == ["INITIATED", "BUSY", "COMPLETED"]
    expanded = timeline_rows(_polling_session(polls=5), collapse=False)
    assert sum(row.label in LOOP for row in expanded) == 20


def test_the_report_expands_the_polls():
    page = html_page(_polling_session(polls=3))
    assert "<summary>polled 3 times" in page
    assert page.count("<td>IncrementPollCount</td>") == 3


def test_a_single_pass_is_not_collapsed():
    rows = timeline_rows(_polling_session(polls=1))
    assert [r.label for r in rows if r.source == "workflow"][2:6] == list(LOOP)


def test_a_refusal_shows_its_cause_once_in_one_line_without_the_trace():
    text = _render(_refused_session(), width=300)
    assert text.count("unknown fault 'bogus'") == 1
    failed = next(r for r in timeline_rows(_refused_session()) if r.label == "FAILED")
    assert failed.detail == f"agent invocation failed: AgentRefused: {CAUSE}"
    assert "stackTrace" not in text
    assert 'File "h.py"' not in text
    invoke = next(r for r in timeline_rows(_refused_session()) if r.label == "InvokeAgent")
    assert invoke.detail == "AgentRefused"
    failure = next(r for r in timeline_rows(_refused_session()) if r.label == "Failure")
    assert failure.detail == "SessionFailed"


def test_the_full_errors_keep_the_stack_trace_for_verbose_and_the_report():
    errors = full_errors(_refused_session())
    assert any('File "h.py"' in text for text in errors)
    page = html_page(_refused_session())
    assert '<details class="trace"' in page
    assert "File &quot;h.py&quot;" in page


def test_narrow_output_never_splits_an_id_or_an_arn():
    for width in (40, 80, 120):
        text = _render(_refused_session(), width=width)
        assert SESSION_ID in text, width
        assert all(word in text.split() for word in CAUSE.split()), width
    long_word = "/work/wt-insight/.runtime/localstack-instances/4761/tmp/lambda/handler.py"
    session = _refused_session()
    item = dict(session.item)
    item["history"] = [*item["history"][:1], {"status": "FAILED", "at": _iso(1), "note": long_word}]
    item["error"] = long_word
    narrow = _render(Session(SESSION_ID, item, session.executions), width=60)
    assert long_word in narrow
